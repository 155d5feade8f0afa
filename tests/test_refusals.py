"""Every input answered honestly: what each command and function says to non-speech, bad files,
hostile manifests and names, and mistaken arrays.

One test per case reported as a user (and as a hostile one) would meet it. The
weights are a randomly initialised ToneNet (`preset` in conftest.py): the
refusals come before the model, so its accuracy does not matter.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import signals
from test_cli import REPO, error_lines, run_main

import keras_tone

RATE = 16000
DATA = REPO / "tests" / "data"


def write(path: Path, clip: np.ndarray, rate: int = RATE) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, clip, rate)
    return path


def fragment(seconds: float = 0.05) -> np.ndarray:
    """`seconds` of the tone-2 test clip, around its loudest 10 ms."""
    clip = keras_tone.load_audio(DATA / "ma2.wav")
    energy = np.convolve(clip**2, np.ones(160), mode="same")
    size = int(seconds * RATE)
    start = int(np.argmax(energy)) - size // 2
    return clip[start : start + size]


@pytest.fixture(scope="module")
def non_speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 440 Hz sine, white noise, digital silence and a 50 ms fragment of a syllable."""
    folder = tmp_path_factory.mktemp("non_speech")
    return {
        "sine440": write(folder / "sine440.wav", signals.sine(RATE, 440.0)),
        "noise": write(folder / "noise.wav", signals.white_noise(RATE)),
        "silence": write(folder / "silence.wav", np.zeros(RATE, np.float32) + 1e-7),
        "fragment": write(folder / "fragment.wav", fragment()),
    }


# --------------------------------------------------------------------------- no tone for non-speech


@pytest.mark.parametrize("name", ["sine440", "noise", "silence", "fragment"])
def test_check_gives_no_verdict_on_non_speech(name, non_speech, preset, capsys) -> None:
    status, out, err = run_main(
        ["check", str(non_speech[name]), "--expect", "ma1", "--weights", preset], capsys
    )
    assert status == 1 and out == ""
    [line] = error_lines(err)
    assert line.startswith(f"keras-tone check: error: {non_speech[name]}: no verdicts: ")
    assert "voiced speech" in line


@pytest.mark.parametrize("name", ["sine440", "noise", "fragment"])
def test_predict_gives_no_tone_on_non_speech(name, non_speech, preset, capsys) -> None:
    status, out, err = run_main(["predict", str(non_speech[name]), "--weights", preset], capsys)
    assert status == 1 and out == ""
    assert f"{non_speech[name]}: no tone: " in error_lines(err)[0]


def test_score_refuses_noise_with_a_reason(preset) -> None:
    from keras_tone.gate import NoToneError

    model = keras_tone.load_model(preset, speaker_context=True)
    with pytest.raises(NoToneError, match="No verdicts for this recording: no voiced speech"):
        keras_tone.score(signals.white_noise(RATE), "ni3", weights=model)


def test_plot_draws_no_tone_for_noise(non_speech, preset, tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    image = tmp_path / "noise.png"
    argv = ["plot", str(non_speech["noise"]), "-o", str(image), "--weights", preset]
    status, out, err = run_main(argv, capsys)
    assert status == 1 and image.is_file() and out.strip() == str(image)
    assert error_lines(err) == [
        f"keras-tone plot: {non_speech['noise']}: no tone: no voiced speech: silence, noise, "
        "hum or a pure tone has no tone"
    ]


def test_plot_clip_writes_the_reason_instead_of_probabilities(preset) -> None:
    pytest.importorskip("matplotlib")
    from keras_tone.plot import plot_clip

    figure = plot_clip(signals.white_noise(RATE), RATE, model=keras_tone.load_model(preset))
    texts = [text.get_text() for text in figure.axes[3].texts]
    assert texts == ["no tone: no voiced speech: silence, noise, hum or a pure tone has no tone"]
    assert not figure.axes[3].patches  # no bars


def test_evaluate_reports_non_speech_rows_apart_and_fails(non_speech, preset, tmp_path, capsys):
    folder = non_speech["noise"].parent
    write(folder / "ma2.wav", keras_tone.load_audio(DATA / "ma2.wav"))
    rows = ["path,syllable,tone,speaker,sex", "ma2.wav,ma,2,a,F"]
    rows += [f"{non_speech[n].name},ma,1,a,F" for n in ("sine440", "noise", "silence")]
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    report = tmp_path / "report.json"
    argv = ["evaluate", str(manifest), "--weights", preset, "--json", str(report)]
    status, out, err = run_main(argv, capsys)
    assert status == 1
    written = json.loads(report.read_text())
    assert written["overall"]["clips"] == 1
    assert sorted(Path(r["path"]).name for r in written["refused"]) == [
        "noise.wav",
        "silence.wav",
        "sine440.wav",
    ]
    assert error_lines(err)[-1] == (
        "keras-tone evaluate: 3 clips got no tone (too little voiced speech) and are not "
        "scored (1 clips are)"
    )


def test_evaluate_refuses_a_row_of_nan_samples_and_scores_the_rest(preset, tmp_path) -> None:
    """A float WAV holding NaN is one refused row (the gate's reason), not a failed evaluation."""
    import soundfile as sf

    from keras_tone.evaluation import evaluate

    write(tmp_path / "ma2.wav", keras_tone.load_audio(DATA / "ma2.wav"))
    broken = signals.voiced_syllable(1)
    broken[100:200] = np.nan
    sf.write(tmp_path / "nan.wav", broken, RATE, subtype="FLOAT")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\nma2.wav,ma,2,a,F\nnan.wav,ma,1,a,F\n")
    report = evaluate(preset, manifest, cache_dir=tmp_path / "cache", speaker_context=True)
    assert report["overall"]["clips"] == 1
    assert [(Path(r["path"]).name, r["reason"]) for r in report["refused"]] == [
        ("nan.wav", "NaN or Inf samples: clean the audio first")
    ]


# --------------------------------------------------------------------------- syllable counts


def test_check_refuses_a_word_of_two_syllables_checked_as_one(preset, tmp_path, capsys) -> None:
    laoshi = write(tmp_path / "laoshi.wav", signals.voiced_word(3, 1))
    status, out, err = run_main(
        ["check", str(laoshi), "--expect", "lao3", "--weights", preset], capsys
    )
    assert status == 1 and out == ""
    assert error_lines(err) == [
        f"keras-tone check: error: {laoshi}: no verdicts: the recording holds about 2 "
        "syllables, not the 1 expected: check the pinyin, and that the recording holds that "
        "word alone"
    ]


def test_score_refuses_eight_syllables_in_a_short_recording(preset) -> None:
    from keras_tone.gate import NoToneError

    model = keras_tone.load_model(preset, speaker_context=True)
    clip = signals.voiced_syllable(2, seconds=0.7)
    with pytest.raises(NoToneError) as caught:
        keras_tone.score(clip, " ".join(["ma1"] * 8), weights=model)
    assert caught.value.reason.startswith("the recording holds about 1 syllable, not the 8")


def test_score_judges_a_word_whose_count_agrees(preset) -> None:
    model = keras_tone.load_model(preset, speaker_context=True)
    result = keras_tone.score(signals.voiced_word(2, 3), "ni3 hao3", weights=model)
    assert len(result["syllables"]) == 2


def test_every_gate_decides_from_the_runners_pass(preset, tmp_path, monkeypatch) -> None:
    """The gate takes its voiced seconds from the pass that classifies: no second measure.

    The runner's front end is made to report no voiced speech for voiced
    clips; every entry point must then refuse them, and run the front end
    once (one pass gives the images, the histograms and the voiced seconds).
    """
    pytest.importorskip("matplotlib")
    from keras_tone.evaluation import evaluate
    from keras_tone.gate import NoToneError
    from keras_tone.plot import plot_clip
    from keras_tone.runner import Runner

    passes = []
    front_batches = Runner._front_batches

    def deaf(self, clips):
        passes.append(len(clips))
        for index, (*images, voiced) in front_batches(self, clips):
            yield index, (*images, voiced * 0.0)

    monkeypatch.setattr(Runner, "_front_batches", deaf)
    syllable = signals.voiced_syllable(2)
    model = keras_tone.load_model(preset, speaker_context=True)
    path = write(tmp_path / "ma2.wav", syllable)
    silent = "no voiced speech: silence, noise, hum or a pure tone has no tone"

    assert keras_tone.predict_files(model, path)[0].refusal == silent
    figure = plot_clip(syllable, RATE, model=model)
    assert [text.get_text() for text in figure.axes[3].texts] == [f"no tone: {silent}"]
    with pytest.raises(NoToneError, match=silent):
        keras_tone.score(signals.voiced_word(2, 3), "ni3 hao3", weights=model)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\nma2.wav,ma,2,a,F\n")
    with pytest.raises(ValueError, match="1 got no tone: ma2.wav: no voiced speech"):
        evaluate(model, manifest, cache_dir=tmp_path / "cache")
    assert passes == [1, 1, 2, 1]  # one front-end pass each (score: its two syllables)


# --------------------------------------------------------------------------- output files


def test_predict_refuses_to_write_over_its_input(preset, tmp_path, capsys) -> None:
    clip = write(tmp_path / "v.wav", keras_tone.load_audio(DATA / "ma1.wav"))
    before = clip.read_bytes()
    argv = ["predict", str(clip), "--format", "csv", "-o", str(clip), "--weights", preset]
    status, out, err = run_main(argv, capsys)
    assert status == 2 and clip.read_bytes() == before
    assert error_lines(err) == [
        f"keras-tone predict: error: {clip} is an input of this command; writing the output "
        f"there would destroy it. Choose another output file. Received: output={clip}"
    ]


def test_predict_says_when_it_replaces_a_file(preset, tmp_path, capsys) -> None:
    output = tmp_path / "tones.csv"
    output.write_text("old\n")
    argv = ["predict", str(DATA / "ma1.wav"), "-o", str(output), "--weights", preset]
    status, _, err = run_main(argv, capsys)
    assert status == 0
    assert output.read_text().startswith("file,tone,name,probability\n")
    assert f"keras-tone predict: note: replaced the existing file {output}" in err
    assert [p.name for p in tmp_path.iterdir()] == ["tones.csv"]  # no temporary left


def test_predict_leaves_the_output_alone_when_no_clip_gets_a_tone(
    non_speech, preset, tmp_path, capsys
) -> None:
    output = tmp_path / "tones.csv"
    output.write_text("old\n")
    argv = ["predict", str(non_speech["noise"]), "-o", str(output), "--weights", preset]
    status, _, err = run_main(argv, capsys)
    assert status == 1 and output.read_text() == "old\n"
    assert f"keras-tone predict: no clip got a tone, so {output} was not written" in err
    assert [p.name for p in tmp_path.iterdir()] == ["tones.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_class_name(
    preset, tmp_path, capsys, monkeypatch
) -> None:
    output = tmp_path / "tones.csv"
    output.write_text("old\n")

    def full(*_):
        raise OSError(errno.ENOSPC, "No space left on device", str(output))

    monkeypatch.setattr(os, "replace", full)
    argv = ["predict", str(DATA / "ma1.wav"), "-o", str(output), "--weights", preset]
    status, _, err = run_main(argv, capsys)
    assert status == 1 and output.read_text() == "old\n"
    assert error_lines(err) == [
        f"keras-tone predict: error: no space left on device: {output} (free some disk space, "
        "or write to another disk, and run again) (run again with --debug for the traceback)"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["tones.csv"]


# --------------------------------------------------------------------------- manifests


def test_a_manifest_row_outside_its_folder_is_refused_and_nothing_echoed(
    preset, tmp_path, capsys
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret:/root:/bin/bash\n")
    folder = tmp_path / "corpus" / "deep"
    folder.mkdir(parents=True)
    manifest = folder / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n../../secret.txt,ma,1,a,F\n")
    status, out, err = run_main(["evaluate", str(manifest), "--weights", preset], capsys)
    assert status == 1 and "secret" not in out + err.replace("secret.txt", "")
    assert "the path leads outside the manifest's folder" in error_lines(err)[0]
    # allowed on request: the file is opened, and still nothing of it is shown
    argv = ["evaluate", str(manifest), "--weights", preset, "--allow-outside-paths"]
    status, out, err = run_main(argv, capsys)
    assert status == 1 and "root:x" not in out + err
    assert error_lines(err)[0].endswith(
        "no clips that can be scored (1 could not be read: secret.txt: not audio: the file "
        "holds text)"
    )


# --------------------------------------------------------------------------- names


NAMES = ["new\nline.wav", "\x1b[31mred.wav", "=HYPERLINK(1).wav", "你好.wav", "+1.wav"]


@pytest.fixture(scope="module")
def named_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("names")
    clip = keras_tone.load_audio(DATA / "ma2.wav")
    return [write(folder / name, clip) for name in NAMES]


def test_names_in_the_table_are_escaped_and_aligned(named_clips, preset, capsys) -> None:
    status, out, _ = run_main(["predict", *map(str, named_clips), "--weights", preset], capsys)
    assert status == 0 and "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 1 + len(NAMES)  # no forged row
    assert any(line.startswith(f"{named_clips[0].parent}/new\\nline.wav") for line in lines)
    from keras_tone.reports import display_width

    starts = [re.search(r"  tone +name", lines[0]).start()]
    starts += [re.search(r"  [1-5] +tone [1-5] ", line).start() for line in lines[1:]]
    widths = [display_width(line[:start]) for line, start in zip(lines, starts, strict=True)]
    assert len(set(widths)) == 1, lines  # the tone column lines up, hanzi names included


def test_csv_cells_are_never_formulas(named_clips, preset, capsys) -> None:
    argv = ["predict", *map(str, named_clips), "--weights", preset, "--format", "csv"]
    status, out, _ = run_main(argv, capsys)
    assert status == 0 and "\x1b" not in out
    assert len(out.splitlines()) == 1 + len(NAMES)
    files = [row["file"] for row in csv.DictReader(io.StringIO(out))]
    assert not [f for f in files if f.startswith(("=", "+", "-", "@"))]
    from keras_tone.writers import csv_text

    assert csv_text("=1+1") == "'=1+1" and csv_text("@a") == "'@a"


def test_json_keeps_names_exact(named_clips, preset, capsys) -> None:
    argv = ["predict", *map(str, named_clips), "--weights", preset, "--format", "json"]
    status, out, _ = run_main(argv, capsys)
    assert status == 0
    assert [json.loads(line)["file"] for line in out.splitlines()] == list(map(str, named_clips))


# --------------------------------------------------------------------------- the Python API


@pytest.fixture(scope="module")
def model():
    return keras_tone.ToneNet(weights=None)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((1, 0), "f4"), r"clips without samples; .* Received: x.shape=\(1, 0\)"),
        (np.zeros((1, 2, 800), "f4"), r"Average the channels .* Received: x.shape=\(1, 2, 800\)"),
        ("x.wav", "not file names. .* Received: x='x.wav'"),
        (["a.wav", "b.wav"], "not file names"),
    ],
)  # fmt: skip
def test_predict_errors_say_what_to_do(model, x, message) -> None:
    with pytest.raises(ValueError, match=message):
        model.predict(x, verbose=0)


def test_nan_gives_nan_with_a_warning_and_no_tone(model) -> None:
    batch = np.stack([signals.voiced_syllable(1)[:8000], np.full(8000, np.nan, np.float32)])
    with pytest.warns(UserWarning, match="1 of 2 clips hold NaN or Inf samples"):
        probabilities = model.predict(batch, verbose=0)
    assert np.isnan(probabilities[1]).all() and np.isfinite(probabilities[0]).all()
    decoded = keras_tone.decode_predictions(probabilities)
    assert decoded[1] == [] and len(decoded[0]) == 4


def test_prepare_batch_refuses_a_file_name() -> None:
    with pytest.raises(ValueError, match="not file names: .* Received: clips='x.wav'"):
        keras_tone.prepare_batch("x.wav")


def test_predict_files_takes_one_path_and_folders(model, tmp_path) -> None:
    [alone] = keras_tone.predict_files(model, str(DATA / "ma1.wav"))
    assert alone.path == str(DATA / "ma1.wav") and alone.error is None
    (tmp_path / "empty").mkdir()
    results = keras_tone.predict_files(model, [DATA, tmp_path / "empty"])
    assert [Path(r.path).name for r in results] == [f"ma{t}.wav" for t in (1, 2, 3, 4)] + ["empty"]
    assert results[-1].error == "no .wav/.flac/.ogg/.mp3 files in this folder"


def test_import_prints_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", "import keras_tone; keras_tone.ToneNet(weights=None)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


# --------------------------------------------------------------------------- long files


def test_plot_refuses_a_long_file_before_decoding_it(tmp_path, capsys, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import soundfile as sf

    long = tmp_path / "lecture.wav"
    with sf.SoundFile(long, "w", RATE, 1, subtype="PCM_16") as stream:
        block = np.zeros(RATE * 60, np.int16)
        for _ in range(10):
            stream.write(block)

    def no_decoding(*_, **__):
        raise AssertionError("decoded a file that its header says is too long")

    monkeypatch.setattr(keras_tone, "load_audio", no_decoding)
    argv = ["plot", str(long), "-o", str(tmp_path / "x.png"), "--weights", "none"]
    status, _, err = run_main(argv, capsys)
    assert status == 1 and not (tmp_path / "x.png").exists()
    assert error_lines(err) == [
        f"keras-tone plot: error: {long} is 600.0 s long; ToneNet classifies one syllable (at "
        "most 30 s are accepted). Split long recordings into syllables first, e.g. with "
        "`librosa.effects.split`"
    ]
