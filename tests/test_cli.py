"""The `keras-tone` command line, in-process (`main([...])`) and as a subprocess.

Clips are made here: vowel-like harmonic signals that follow the F0 contour
of each tone (numpy + soundfile), and, where espeak-ng is installed, the
syllable "ma" in tones 1-4 spoken by espeak-ng. The weights are a randomly
initialised ToneNet saved as a preset: these tests check the plumbing, not
accuracy.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import signals

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16000

#: F0 at the start, middle and end of each tone, in Hz.
CONTOURS = {1: (240, 240, 238), 2: (170, 195, 260), 3: (180, 140, 190), 4: (290, 240, 150)}


def tone_sweep(tone: int, *, seconds: float = 0.5, lead: float = 0.1) -> np.ndarray:
    """A harmonic 'vowel' following the F0 contour of `tone`, after `lead` s of silence."""
    n = int(seconds * SAMPLE_RATE)
    t = np.linspace(0.0, 1.0, n)
    f0 = np.interp(t, [0.0, 0.5, 1.0], CONTOURS[tone])
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    ramp = np.minimum(1.0, np.minimum(t, 1.0 - t) * 20.0)
    clip = np.concatenate([np.zeros(int(lead * SAMPLE_RATE)), 0.2 * ramp * voice])
    return clip.astype(np.float32)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tones/ with sweep1..4.wav, a nested folder with one .flac, and one corrupt .wav."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("tones")
    for tone in CONTOURS:
        sf.write(folder / f"sweep{tone}.wav", tone_sweep(tone), SAMPLE_RATE)
    (folder / "nested").mkdir()
    sf.write(folder / "nested" / "sweep2.flac", tone_sweep(2), SAMPLE_RATE)
    (folder / "notes.txt").write_text("not audio, and not picked up")
    return folder


#: Why `bad_clip` cannot be read (`keras_tone.decoding`), as every command reports it.
NOT_AUDIO = "not audio: the file holds text"


@pytest.fixture(scope="module")
def bad_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "broken.wav"
    path.write_bytes(b"RIFF this is not a wave file")
    return path


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A preset folder with a randomly initialised 4-class ToneNet."""
    from keras_tone import ToneNet, ToneNetConfig, weights

    folder = tmp_path_factory.mktemp("preset")
    model = ToneNet(weights=None)
    weights.save_preset(model, folder, config=ToneNetConfig(), card="# test weights\n")
    return folder / weights.WEIGHTS_NAME


def run_main(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    from keras_tone_cli import main

    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def error_lines(err: str) -> list[str]:
    """stderr lines that are not TensorFlow's start-up logging nor warnings."""
    return [
        line
        for line in err.splitlines()
        if line.strip()
        and not line.startswith(("I0000", "E0000", "W0000", "WARNING: All log"))
        and ": warning: " not in line
    ]


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "command", [[], ["predict"], ["plot"], ["doctor"], ["train"], ["evaluate"]]
)
def test_help(command: list[str], capsys: pytest.CaptureFixture) -> None:
    status, out, err = run_main([*command, "--help"], capsys)
    assert status == 0
    assert out.startswith("usage: keras-tone")
    assert err == ""
    if not command:
        for name in ("predict", "plot", "doctor", "train", "evaluate"):
            assert name in out


def test_version(capsys: pytest.CaptureFixture) -> None:
    import keras_tone

    status, out, _ = run_main(["--version"], capsys)
    assert status == 0
    assert out.strip() == f"keras-tone {keras_tone.__version__}"


def test_front_door_imports_only_the_standard_library() -> None:
    """`keras-tone --help` and `--version` must not wait for TensorFlow."""
    code = (
        "import sys, keras_tone_cli; keras_tone_cli.main(['--version']);"
        "keras_tone_cli.build_parser();"
        "heavy = [m for m in ('keras_tone', 'tensorflow', 'numpy', 'keras') if m in sys.modules];"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_predict_help_names_the_suffixes_it_walks(capsys: pytest.CaptureFixture) -> None:
    from keras_tone.inference import AUDIO_SUFFIXES

    _, out, _ = run_main(["predict", "--help"], capsys)
    text = " ".join(out.split())
    assert ", ".join(AUDIO_SUFFIXES[:-1]) + " and " + AUDIO_SUFFIXES[-1] in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "no command given"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["predict"], "the following arguments are required: FILE|DIR"),
        (["predict", "x.wav", "--top", "0"], "argument --top: expected a positive integer"),
        (["predict", "x.wav", "--format", "xml"], "argument --format: invalid choice"),
        (["plot", "x.wav"], "the following arguments are required: -o/--output"),
        (["train", "m.csv", "-o", "out", "--classes", "3"], "argument --classes: invalid choice"),
        (["evaluate", "m.csv"], "the following arguments are required: --weights"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture
) -> None:
    status, out, err = run_main(argv, capsys)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err
    assert err.startswith("keras-tone")


# --------------------------------------------------------------------------- predict


def test_predict_table(clip_dir: Path, weights_file: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, err = run_main(["predict", str(clip_dir), "--weights", str(weights_file)], capsys)
    assert status == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["file", "tone", "name", "probability"]
    assert len(lines) == 1 + 5  # four .wav and one nested .flac; notes.txt is skipped
    assert any("nested" in line and line.split()[0].endswith(".flac") for line in lines)
    for line in lines[1:]:
        tone = int(line.split()[1])
        assert 1 <= tone <= 4
        assert 0.0 <= float(line.split()[-1]) <= 1.0


def test_predict_json_reports_and_skips_bad_files(
    clip_dir: Path, bad_clip: Path, weights_file: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["predict", str(clip_dir / "sweep1.wav"), str(bad_clip), str(clip_dir / "sweep4.wav")]
    status, out, err = run_main(
        [*argv, "--weights", str(weights_file), "--format", "json", "--top", "3"], capsys
    )
    assert status == 1  # one input failed
    records = [json.loads(line) for line in out.strip().splitlines()]
    assert [Path(r["file"]).name for r in records] == ["sweep1.wav", "sweep4.wav"]
    for record in records:
        assert set(record) == {"file", "tone", "name", "probability", "top"}
        assert len(record["top"]) == 3
        assert record["top"][0]["tone"] == record["tone"]
        assert record["name"].startswith(f"tone {record['tone']} ")
        probabilities = [t["probability"] for t in record["top"]]
        assert probabilities == sorted(probabilities, reverse=True)
    errors = error_lines(err)
    [bad_line] = [line for line in errors if str(bad_clip) in line]
    assert bad_line == f"keras-tone predict: {bad_clip}: {NOT_AUDIO}"  # the path once
    assert errors[-1] == "keras-tone predict: 1 of 3 inputs failed"
    assert "Traceback" not in err
    warnings = [line for line in err.splitlines() if ": warning: " in line]
    assert warnings and all(line.startswith("keras-tone predict: warning: ") for line in warnings)
    assert "match no registered preset" in warnings[0]  # random weights, loaded by path


def test_predict_csv_with_preset_folder(
    clip_dir: Path, weights_file: Path, capsys: pytest.CaptureFixture
) -> None:
    status, out, err = run_main(
        [
            "predict",
            str(clip_dir / "sweep2.wav"),
            "--weights",
            str(weights_file.parent),  # the preset folder
            "--format",
            "csv",
            "--top",
            "2",
        ],
        capsys,
    )
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    assert list(rows[0]) == [
        "file",
        "tone",
        "name",
        "probability",
        "tone_2",
        "name_2",
        "probability_2",
    ]
    assert float(rows[0]["probability"]) >= float(rows[0]["probability_2"])


def test_predict_progress_bar_for_many_files(
    clip_dir: Path, weights_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from keras_tone.commands import PROGRESS_MIN_FILES

    for i in range(PROGRESS_MIN_FILES):
        shutil.copy(clip_dir / "sweep3.wav", tmp_path / f"clip{i:02d}.wav")
    argv = ["predict", str(tmp_path), "--weights", str(weights_file), "--format", "csv"]
    status, out, err = run_main(argv, capsys)
    assert status == 0
    assert len(out.strip().splitlines()) == 1 + PROGRESS_MIN_FILES
    assert "Classifying" in err and f"{PROGRESS_MIN_FILES}/{PROGRESS_MIN_FILES}" in err
    status, _, err = run_main([*argv, "--quiet"], capsys)
    assert status == 0 and "Classifying" not in err


@pytest.mark.parametrize("handle", ["no_such_preset", "missing/dir/model.weights.h5"])
def test_predict_unresolvable_weights(
    handle: str, clip_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    status, out, err = run_main(["predict", str(clip_dir), "--weights", handle], capsys)
    assert status == 1
    assert out == ""
    [line] = error_lines(err)
    assert line.startswith("keras-tone predict: error: ")
    assert repr(handle) in line and "--weights" in line and ".weights.h5" in line


def test_predict_default_weights_error_is_clear(
    clip_dir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Default preset with no bundled copy, an empty cache and no network: one clear line."""
    from huggingface_hub import constants

    from keras_tone import weights

    monkeypatch.setattr(weights, "_bundled_roots", lambda: [])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    status, _, err = run_main(["predict", str(clip_dir / "sweep1.wav")], capsys)
    assert status == 1
    [line] = error_lines(err)
    assert "'blcu'" in line and "--weights" in line


def test_predict_default_preset_beside_a_folder_of_its_name(
    clip_dir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A `blcu/` folder in the working directory (BLCU corpus users have one) is no preset."""
    (tmp_path / "blcu").mkdir()
    (tmp_path / "blcu" / "notes.txt").write_text("recordings of the BLCU corpus")
    monkeypatch.chdir(tmp_path)
    status, out, err = run_main(["predict", str(clip_dir / "sweep1.wav")], capsys)
    assert status == 0, err
    assert "sweep1.wav" in out and error_lines(err) == []
    assert "'./blcu'" in err  # the warning says how to use the folder instead
    status, _, err = run_main(
        ["predict", str(clip_dir / "sweep1.wav"), "--weights", "./blcu"], capsys
    )
    assert status == 1 and "has no model.weights.h5" in err


def test_predict_debug_shows_traceback(clip_dir: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["predict", str(clip_dir), "--weights", "no_such_preset", "--debug"]
    status, _, err = run_main(argv, capsys)
    assert status == 1
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("keras-tone predict: error: ")


def test_predict_nothing_to_classify(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, err = run_main(["predict", str(tmp_path / "nope.wav"), str(tmp_path)], capsys)
    assert status == 1
    assert out == ""
    errors = error_lines(err)
    assert "nope.wav: no such file or folder" in errors[0]
    assert "no .wav/.flac/.ogg/.mp3 files in this folder" in errors[1]
    assert errors[-1] == "keras-tone predict: error: no audio files to classify"


@pytest.mark.parametrize(
    ("name", "fmt", "kind"),
    [
        ("out.csv", None, "csv"),
        ("out.json", None, "json array"),
        ("out.jsonl", None, "json lines"),
        ("results.txt", "csv", "csv"),
    ],
)
def test_predict_output_file(
    name: str,
    fmt: str | None,
    kind: str,
    clip_dir: Path,
    weights_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    output = tmp_path / "sub" / name
    argv = ["predict", str(clip_dir), "--weights", str(weights_file), "-o", str(output)]
    status, out, err = run_main([*argv, *(["--format", fmt] if fmt else [])], capsys)
    assert status == 0, err
    assert out == ""
    text = output.read_text()
    if kind == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    elif kind == "json array":
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 5 and {Path(r["file"]).suffix for r in rows} == {".wav", ".flac"}
    assert all(1 <= int(r["tone"]) <= 4 for r in rows)


def test_predict_output_file_needs_a_known_suffix(
    clip_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["predict", str(clip_dir), "-o", str(tmp_path / "out.xml")]
    status, out, err = run_main(argv, capsys)
    assert status == 2 and out == ""
    [line] = error_lines(err)
    assert "out.xml" in line and ".csv, .json, .jsonl" in line and "--format" in line
    assert not (tmp_path / "out.xml").exists()


def test_predict_gives_no_tone_without_voiced_speech(
    clip_dir: Path, weights_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A test tone and noise are no speech: no line on stdout, the reason on stderr, exit 1."""
    import soundfile as sf

    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sf.write(tmp_path / "sine.wav", 0.3 * np.sin(2 * np.pi * 440 * t), SAMPLE_RATE)
    noise = 0.1 * np.random.default_rng(0).standard_normal(SAMPLE_RATE)
    sf.write(tmp_path / "noise.wav", noise, SAMPLE_RATE)
    argv = ["predict", str(clip_dir / "sweep1.wav"), str(tmp_path), "--weights", str(weights_file)]
    status, out, err = run_main([*argv, "--format", "csv"], capsys)
    assert status == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [Path(r["file"]).name for r in rows] == ["sweep1.wav"]
    errors = error_lines(err)
    for name in ("noise.wav", "sine.wav"):
        [line] = [e for e in errors if name in e]
        assert line == (
            f"keras-tone predict: {tmp_path / name}: no tone: no voiced speech: silence, "
            "noise, hum or a pure tone has no tone"
        )
    assert errors[-1] == "keras-tone predict: 2 of 3 inputs failed"


@pytest.mark.filterwarnings("error::FutureWarning")
@pytest.mark.filterwarnings("error::UserWarning:librosa.*")
@pytest.mark.filterwarnings("error::UserWarning:audioread.*")
@pytest.mark.filterwarnings("error::DeprecationWarning:audioread.*")
def test_no_decoder_warnings_on_the_command_line(
    clip_dir: Path, weights_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """With --debug every warning would show (here: raise): decoding gives none, bad files too."""
    import soundfile as sf

    sf.write(tmp_path / "a.mp3", signals.voiced_syllable(2), SAMPLE_RATE)
    data = (tmp_path / "a.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 3])
    (tmp_path / "empty.ogg").write_bytes(b"")
    (tmp_path / "page.mp3").write_text("<!DOCTYPE html><html>gone</html>")
    argv = ["predict", str(tmp_path), str(clip_dir / "sweep1.wav"), "--debug"]
    status, out, err = run_main([*argv, "--weights", str(weights_file), "--format", "csv"], capsys)
    assert status == 1 and "Traceback" not in err, err
    assert len(out.strip().splitlines()) == 1 + 2  # a.mp3 and sweep1.wav
    assert "Warning" not in err.replace("UnregisteredWeightsWarning", "")
    for name, reason in (("cut.mp3", "truncated MP3"), ("empty.ogg", "empty file")):
        assert f"{tmp_path / name}: {reason}" in err
    if importlib.util.find_spec("matplotlib"):
        argv = ["plot", str(tmp_path / "a.mp3"), "-o", str(tmp_path / "a.png"), "--debug"]
        status, _, err = run_main([*argv, "--weights", "none"], capsys)
        assert status == 0 and "Warning" not in err, err


@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """speakers/low and speakers/high: the four tones of a low and of a high voice."""
    import soundfile as sf

    root = tmp_path_factory.mktemp("speakers")
    for name, scale in (("low", 0.6), ("high", 1.3)):
        (root / name).mkdir()
        for tone in CONTOURS:
            clip = signals.voiced_syllable(tone, pitch_scale=scale, gain=0.2)
            sf.write(root / name / f"{tone}.wav", np.pad(clip, (0, 1600)), SAMPLE_RATE)
    return root


def _predicted(out: str) -> dict[str, list[float]]:
    """`--format json --top 4` output as {file: probabilities of tones 1-4}."""
    records = [json.loads(line) for line in out.strip().splitlines()]
    return {
        r["file"]: [p for _, p in sorted((t["tone"], t["probability"]) for t in r["top"])]
        for r in records
    }


@pytest.mark.parametrize("grouping", ["folders", "--speaker"])
def test_predict_speaker_context(
    grouping: str, two_speakers: Path, weights_file: Path, capsys: pytest.CaptureFixture
) -> None:
    """Each clip gets the leave-one-out context of its speaker: a folder, or all with --speaker."""
    from keras_tone import load_model, predict_files
    from keras_tone.inference import find_audio_files, speakers_by_folder

    files, _ = find_audio_files([two_speakers])
    argv = ["predict", str(two_speakers), "--weights", str(weights_file)]
    argv += ["--format", "json", "--top", "4"]
    extra = ["--speaker-context"] if grouping == "folders" else ["--speaker", "me"]
    status, out, err = run_main([*argv, *extra], capsys)
    assert status == 0, err
    got = _predicted(out)
    assert list(got) == [str(f) for f in files]

    model = load_model(weights_file, speaker_context=True)
    speakers = speakers_by_folder(files) if grouping == "folders" else ["me"] * len(files)
    expected = predict_files(model, files, speakers=speakers)
    np.testing.assert_allclose(list(got.values()), [r.probabilities for r in expected], atol=2e-6)
    other = speakers_by_folder(files) if grouping != "folders" else ["me"] * len(files)
    differently = predict_files(model, files, speakers=other)
    assert (
        max(
            np.abs(a.probabilities - b.probabilities).max()
            for a, b in zip(expected, differently, strict=True)
        )
        > 1e-4
    )  # the grouping is what changed the answers
    status, alone, _ = run_main(argv, capsys)
    assert status == 0 and _predicted(alone) != got


# --------------------------------------------------------------------------- plot


def test_plot(clip_dir: Path, weights_file: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    output = tmp_path / "figures" / "sweep3.png"
    argv = ["plot", str(clip_dir / "sweep3.wav"), "-o", str(output), "--weights", str(weights_file)]
    status, out, err = run_main(argv, capsys)
    assert status == 0, err
    assert out.strip() == str(output)
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert output.stat().st_size > 10_000


def test_plot_needs_matplotlib(
    clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    argv = ["plot", str(clip_dir / "sweep1.wav"), "-o", str(tmp_path / "x.png")]
    status, _, err = run_main(argv, capsys)
    assert status == 1
    [line] = error_lines(err)
    assert "pip install keras-tone[plot]" in line
    assert not (tmp_path / "x.png").exists()


def test_plot_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("matplotlib")
    argv = ["plot", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "x.png")]
    status, _, err = run_main(argv, capsys)
    assert status == 1
    assert error_lines(err) == [f"keras-tone plot: error: no such file: {tmp_path / 'nope.wav'}"]


def test_plot_unreadable_file_is_one_line(bad_clip: Path, tmp_path: Path, capsys) -> None:
    """As in predict: one line that names the file and the reason, no decoder warnings."""
    pytest.importorskip("matplotlib")
    argv = ["plot", str(bad_clip), "-o", str(tmp_path / "x.png"), "--weights", "none"]
    status, out, err = run_main(argv, capsys)
    assert status == 1 and out == ""
    [line] = err.strip().splitlines()
    assert line == f"keras-tone plot: error: {bad_clip}: {NOT_AUDIO}", line
    assert not (tmp_path / "x.png").exists()


# --------------------------------------------------------------------------- doctor


def test_doctor(capsys: pytest.CaptureFixture) -> None:
    import tensorflow as tf

    status, out, _ = run_main(["doctor"], capsys)
    assert status in (0, 1)
    for key in ("Python", "TensorFlow", "tf.keras", "TF_USE_LEGACY_KERAS", "TF built with CUDA"):
        assert key in out
    assert tf.__version__ in out
    assert "keras._tf_keras.keras" in out or "resolves to module" in out
    assert "Hugging Face cache" in out and "Visible GPUs" in out
    assert "Preset blcu-5tone" in out and "loads offline (bundled:" in out and "5 classes" in out
    if status == 0:
        assert out.strip().endswith("No problems found.")
    else:
        assert "problem(s) found:" in out


def test_doctor_flags_legacy_keras(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    status, out, _ = run_main(["doctor"], capsys)
    assert status == 1
    assert "TF_USE_LEGACY_KERAS='1' makes tf.keras the legacy Keras 2" in out


def test_doctor_builds_each_preset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A preset whose files pass their sha256 check but do not build into a model is a problem."""
    from keras_tone import ToneNet, ToneNetConfig, presets, weights

    folder = tmp_path / "bundled" / "broken"
    five = ToneNet(weights=None, classes=5)
    weights.save_preset(five, folder, config=ToneNetConfig(classes=5), card="# broken\n")
    (folder / "config.json").write_text(ToneNetConfig().to_json())  # says 4 classes
    entry = presets.preset_entry(folder, repo_id="someone/broken", description="broken")
    monkeypatch.setattr(presets, "PRESETS", {**presets.PRESETS, "broken": entry})
    monkeypatch.setattr(weights, "_bundled_roots", lambda: [tmp_path / "bundled"])
    assert weights.resolve_weights("broken").source == "bundled"  # the files are all there
    status, out, _ = run_main(["doctor"], capsys)
    assert status == 1
    [line] = [line for line in out.splitlines() if line.startswith("Preset broken")]
    assert "NOT available offline" in line
    assert "preset 'broken' cannot be loaded: ValueError" in out


def test_configure_gpu_memory() -> None:
    import tensorflow as tf

    from keras_tone.devices import configure_gpu_memory, gpu_report

    names = configure_gpu_memory(growth=True)
    assert names == [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    assert len(gpu_report()) == len(names)
    with pytest.raises(ValueError, match="limit_mb must be a positive number"):
        configure_gpu_memory(limit_mb=0)


# --------------------------------------------------------------------------- train / evaluate


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple, dict]]:
    """Records how the CLI calls keras_tone.training and crossval (which are not run)."""
    from keras_tone import crossval, training

    recorded: list[tuple[str, tuple, dict]] = []
    from keras_tone.evaluation import CONTEXT_SIZES

    m = {"clips": 1, "accuracy": 0.9, "precision": [0.9] * 4, "recall": [0.9] * 4}
    m["confusion"] = [[1, 0, 0, 0]] * 4
    fold = {"overall": m, "speaker_context": {mode: m for mode in CONTEXT_SIZES}}
    report = {"kind": "cross_validate", "classes": 4, "seeds": [0], "sexes": {"a": "F"}}
    report["folds"] = {"a": {"0": fold}}
    report.update(crossval.summarize_folds(report))

    def record(name: str):
        def function(*args, **kwargs):
            recorded.append((name, args, kwargs))
            return report

        return function

    monkeypatch.setattr(training, "train", record("train"))
    monkeypatch.setattr(crossval, "cross_validate", record("cross_validate"))
    return recorded


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text("path,syllable,tone,speaker,sex\n")
    return path


def _options(call: tuple, *keys: str) -> dict:
    return {key: call[2][key] for key in keys if key in call[2]}


def test_train_calls_training(calls, manifest: Path, tmp_path: Path, capsys) -> None:
    argv = ["train", str(manifest), "-o", str(tmp_path / "out"), "--epochs", "3", "--seed", "7"]
    status, out, err = run_main(argv, capsys)
    assert status == 0, err
    (call,) = calls
    assert call[:2] == ("train", ([str(manifest)], str(tmp_path / "out")))
    assert _options(call, "classes", "seed", "epochs") == {"classes": 4, "seed": 7, "epochs": 3}
    assert call[2]["command"] == ["keras-tone " + " ".join(argv)]  # recorded for the card
    assert "Leave-one-speaker-out" in out  # format_report of what train returned

    argv = ["train", str(manifest), "-o", "cv", "--loso", "--classes", "5", "--batch-size", "8"]
    argv += ["--seed", "0", "1", "2"]
    status, out, _ = run_main(argv, capsys)
    assert status == 0
    assert calls[-1][:2] == ("cross_validate", ([str(manifest)], "cv"))
    assert _options(calls[-1], "classes", "seeds", "batch_size", "compare_classes") == {
        "classes": 5,
        "seeds": [0, 1, 2],
        "batch_size": 8,
        "compare_classes": 4,
    }
    status, _, _ = run_main(["train", str(manifest), "-o", "x", "--seed", "0", "1"], capsys)
    assert status == 0 and _options(calls[-1], "seed") == {"seed": [0, 1]}  # an ensemble
    loso_validation = ["train", str(manifest), "-o", "x", "--loso", "--validation", str(manifest)]
    status, _, err = run_main(loso_validation, capsys)
    assert status == 2 and "--validation are for a preset, not --loso" in err


def test_train_recipe_options(calls, manifest: Path, capsys) -> None:
    from keras_tone.recipe import Recipe

    status, _, err = run_main(["train", str(manifest), "-o", "out", "--tempo", "1", "1"], capsys)
    assert status == 0, err
    assert calls[-1][2]["recipe"] == Recipe(tempo=(1.0, 1.0))
    argv = ["train", str(manifest), "-o", "out", "--precision", "float32", "--exclude", "x"]
    status, _, err = run_main(argv, capsys)
    assert status == 0, err
    assert calls[-1][2]["recipe"] == Recipe(mixed_precision=False)
    assert calls[-1][2]["exclude_speakers"] == ["x"]
    status, _, err = run_main(["train", str(manifest), "-o", "out", "--tempo", "2", "1"], capsys)
    assert status == 2 and "LOW <= HIGH" in err
    status, _, err = run_main(["train", str(manifest), "-o", "out", "--tempo", "0", "1"], capsys)
    assert status == 2 and "expected a positive number" in err


def test_train_passes_the_recipe_options(calls, manifest: Path, tmp_path: Path, capsys) -> None:
    """Every option of scripts/train_blcu.sh reaches `train` / `cross_validate`."""
    licences = tmp_path / "licences.json"
    licences.write_text('{"a": "CC0"}')
    notes = tmp_path / "notes.md"
    notes.write_text("## Notes\n")
    loso = tmp_path / "loso.json"
    loso.write_text('{"summary": {"a": 0.9}}')
    argv = ["train", str(manifest), "-o", "cv", "--loso", "--classes", "5"]
    argv += ["--neutral-from", "a", "b", "--speakers", "a", "--class-weighting", "none"]
    status, _, err = run_main(argv, capsys)
    assert status == 0, err
    keys = ("classes", "seeds", "neutral_speakers", "class_weighting", "speakers")
    assert _options(calls[-1], *keys, "compare_classes") == {
        "classes": 5,
        "seeds": [0],
        "neutral_speakers": ["a", "b"],
        "class_weighting": "none",
        "speakers": ["a"],
        "compare_classes": 4,
    }
    argv = ["train", str(manifest), "-o", "out", "--classes", "5", "--neutral-from", "a"]
    argv += ["--name", "n", "--licences", str(licences), "--card-notes", str(notes)]
    argv += ["--loso-report", str(loso)]
    status, _, err = run_main(argv, capsys)
    assert status == 0, err
    assert calls[-1][:2] == ("train", ([str(manifest)], "out"))
    keys = ("classes", "seed", "neutral_speakers", "name", "data_licences", "card_notes")
    assert _options(calls[-1], *keys, "loso_report") == {
        "classes": 5,
        "seed": 0,
        "neutral_speakers": ["a"],
        "name": "n",
        "data_licences": {"a": "CC0"},
        "card_notes": "## Notes\n",
        "loso_report": {"summary": {"a": 0.9}},
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speakers", "a"], "--speakers needs --loso"),
        (["--loso", "--name", "n"], "are for a preset, not --loso"),
        (["--class-weighting", "auto"], "argument --class-weighting: invalid choice"),
    ],
)
def test_train_option_errors(calls, manifest: Path, capsys, extra, message) -> None:
    status, _, err = run_main(["train", str(manifest), "-o", "out", *extra], capsys)
    assert status == 2
    assert len(error_lines(err)) == 1 and message in err
    assert calls == []


def test_train_unreadable_licences(calls, manifest: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "licences.json"
    bad.write_text("{not json")
    status, _, err = run_main(["train", str(manifest), "-o", "o", "--licences", str(bad)], capsys)
    assert status == 1
    assert error_lines(err)[0].startswith("keras-tone train: error: the licences file")


def test_card_rewrites_the_model_card(tmp_path: Path, capsys) -> None:
    preset = tmp_path / "my-preset"
    preset.mkdir()
    status, _, err = run_main(["card", "--preset", str(preset)], capsys)
    assert status == 1 and "no report.json" in err
    source = Path(__file__).parent.parent / "weights" / "blcu-5tone"
    shutil.copy(source / "config.json", preset / "config.json")
    report = json.loads((source / "report.json").read_text())
    loso = report.pop("loso")  # given back with --loso-report, as two runs of one design
    (preset / "report.json").write_text(json.dumps(report))
    runs = []
    for seed in loso["seeds"]:
        part = {**loso, "seeds": [seed], "command": [f"run {seed}"]}
        part["folds"] = {s: {str(seed): f[str(seed)]} for s, f in loso["folds"].items()}
        runs.append(tmp_path / f"loso-{seed}.json")
        runs[-1].write_text(json.dumps(part))
    notes = tmp_path / "notes.md"
    notes.write_text("## A note of ours\n")
    argv = ["card", "--preset", str(preset), "--name", "mine", "--card-notes", str(notes)]
    status, out, err = run_main([*argv, "--loso-report", *map(str, runs)], capsys)
    assert status == 0, err
    card = (preset / "README.md").read_text()
    assert out.strip() == str(preset / "README.md")
    assert "A note of ours" in card and "keras-tone-mine" in card
    assert json.loads((preset / "report.json").read_text())["loso"]["seeds"] == loso["seeds"]
    status, _, err = run_main([*argv, "--loso-report", str(runs[0]), str(runs[0])], capsys)
    assert status == 2 and "--loso-report: Two reports hold the fold" in err
    assert "keras-tone train" in card and "keras_tone.training" not in card
    assert "white noise at 15-45 dB SNR with up to 0.3 s leading silence on 50%" in card
    assert 'ToneNet(weights="mine")' in card and "16000 Hz" in card


def test_card_adds_validation_voices_and_conditions(tmp_path: Path, espeak_clips, capsys) -> None:
    """`card --validation` evaluates the preset it rewrites; `--conditions-report` adds a table."""
    preset = tmp_path / "blcu"
    shutil.copytree(Path(__file__).parent.parent / "weights" / "blcu", preset)
    voices = tmp_path / "voices"
    voices.mkdir()
    rows = ["path,syllable,tone,speaker,sex"]
    for tone, path in espeak_clips.items():
        shutil.copy(path, voices / path.name)
        rows.append(f"{path.name},ma,{tone},espeak_M,M")
    (voices / "manifest.csv").write_text("\n".join(rows) + "\n")
    conditions = {"weights": "blcu", "conditions": {}}
    for name in ("clean", "pink10"):
        accuracy = {"per_speaker": {"espeak_M": 0.5}, "overall": {"accuracy": 0.5}}
        conditions["conditions"][name] = {"alone": accuracy, "context": accuracy}
    (tmp_path / "conditions.json").write_text(json.dumps(conditions))
    argv = ["card", "--preset", str(preset), "--validation", str(voices / "manifest.csv")]
    argv += ["--conditions-report", str(tmp_path / "conditions.json")]
    status, _, err = run_main(argv, capsys)
    assert status == 0, err
    report = json.loads((preset / "report.json").read_text())
    assert report["validation_manifests"] == [str(voices / "manifest.csv")]
    for mode in ("alone", "context"):
        assert report["validation"][mode]["per_speaker"]["espeak_M"]["clips"] == 4
    card = (preset / "README.md").read_text()
    assert "## Evaluation: voices from other collections" in card and "`voices`" in card
    assert "| espeak_M | 4 |" in card and "pink10" in card
    status, _, err = run_main([*argv[:3], "--validation", str(tmp_path / "none.csv")], capsys)
    assert status == 1 and "no such manifest file" in err


@pytest.fixture
def corpus_manifest(clip_dir: Path, bad_clip: Path, tmp_path: Path, monkeypatch) -> Path:
    """The four sweeps, labelled with their tones, and one clip that cannot be decoded."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rows = ["path,syllable,tone,speaker,sex"]
    rows += [f"{clip_dir / f'sweep{tone}.wav'},a,{tone},spk,F" for tone in CONTOURS]
    rows.append(f"{bad_clip},a,2,spk,F")
    path = tmp_path / "corpus" / "manifest.csv"
    path.parent.mkdir()
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("weights", ["blcu", "preset folder", ".weights.h5"])
def test_evaluate_scores_what_it_can_read(
    weights: str, corpus_manifest: Path, weights_file: Path, bad_clip: Path, tmp_path, capsys
) -> None:
    """`--weights` takes what its help says; an unreadable clip is reported, the rest scored.

    The manifest names its clips by absolute paths, outside its folder: allowed by
    `--allow-outside-paths`. The unreadable clip makes the exit status 1.
    """
    handle = {"blcu": "blcu", "preset folder": str(weights_file.parent)}.get(
        weights, str(weights_file)
    )
    report = tmp_path / "reports" / "eval.json"
    argv = ["evaluate", "--weights", handle, str(corpus_manifest), "--json", str(report)]
    status, out, err = run_main([*argv, "--allow-outside-paths"], capsys)
    assert status == 1, err
    errors = error_lines(err)
    assert errors[0] == f"keras-tone evaluate: {bad_clip}: {NOT_AUDIO}", err
    assert errors[-1] == (
        "keras-tone evaluate: 1 clips could not be read and are not scored (4 clips are)"
    )
    written = json.loads(report.read_text())
    assert written["overall"]["clips"] == 4
    assert written["unreadable"][0]["path"] == str(bad_clip)
    assert written["unreadable"][0]["reason"] == NOT_AUDIO
    assert "precision" in out and "== Confusion: ALL ==" in out


@pytest.fixture
def two_voice_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tones 1-4 of a low and a high voice, labelled with their tones and speakers."""
    import soundfile as sf

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "voices"
    folder.mkdir()
    rows = ["path,syllable,tone,speaker,sex"]
    for speaker, sex, scale in (("low", "M", 0.6), ("high", "F", 1.3)):
        for tone in CONTOURS:
            path = folder / f"{speaker}{tone}.wav"
            sf.write(path, signals.voiced_syllable(tone, pitch_scale=scale), SAMPLE_RATE)
            rows.append(f"{path.name},ma,{tone},{speaker},{sex}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def test_evaluate_speaker_context(
    two_voice_manifest: Path, weights_file: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """--speaker-context: contexts by the speaker column, the report in the same structure."""
    from keras_tone import runner

    grouped: list[list[str]] = []

    def leave_one_out(histograms, speakers):
        grouped.append([str(s) for s in speakers])
        return real_leave_one_out(histograms, speakers)

    real_leave_one_out = runner.leave_one_out
    monkeypatch.setattr(runner, "leave_one_out", leave_one_out)
    reports, printed = {}, {}
    for flag in ([], ["--speaker-context"]):
        path = tmp_path / f"evaluate{len(flag)}.json"
        argv = ["evaluate", "--weights", str(weights_file), str(two_voice_manifest)]
        status, out, err = run_main([*argv, "--json", str(path), *flag], capsys)
        assert status == 0, err
        assert error_lines(err) == []
        reports[bool(flag)] = json.loads(path.read_text())
        printed[bool(flag)] = [line for line in out.splitlines() if line.startswith("== ")]
    assert grouped == [["low"] * 4 + ["high"] * 4]  # once, with --speaker-context only

    alone, context = reports[False], reports[True]
    assert (alone["speaker_context"], context["speaker_context"]) == (False, True)
    assert set(context) == set(alone)
    assert list(context["per_speaker"]) == list(alone["per_speaker"]) == ["low", "high"]
    assert list(context["per_sex"]) == list(alone["per_sex"]) == ["F", "M"]
    for report in (alone, context):
        assert report["overall"]["clips"] == 8 and report["unreadable"] == []
        assert [m["clips"] for m in report["per_speaker"].values()] == [4, 4]
    assert set(context["overall"]) == set(alone["overall"])
    assert np.shape(context["overall"]["confusion"]) == np.shape(alone["overall"]["confusion"])
    assert printed[True] == printed[False]
    assert printed[True][:2] == ["== Per speaker ==", "== Confusion: low =="]


def test_train_missing_manifest(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    status, _, err = run_main(["train", str(tmp_path / "m.csv"), "-o", str(tmp_path)], capsys)
    assert status == 1
    assert error_lines(err) == [f"keras-tone train: error: no such manifest file: {tmp_path}/m.csv"]


# --------------------------------------------------------------------------- subprocess


def run_module(
    *args: str, cwd: Path | None = None, timeout: float = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`keras-tone ARGS` (the script, else `python -m keras_tone_cli`), this checkout first.

    The environment is the caller's, without TF_CPP_MIN_LOG_LEVEL: the CLI keeps
    TensorFlow quiet itself.
    """
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.pop("TF_USE_LEGACY_KERAS", None)
    script = Path(sys.executable).with_name("keras-tone")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "keras_tone_cli"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_readme_command_prints_the_table_and_nothing_on_stderr() -> None:
    """The README's first command, as a user runs it: its table, and a silent stderr."""
    readme = (REPO / "README.md").read_text()
    command = readme.split(".venv/bin/keras-tone ", 1)[1].split("\n", 1)[0].split()
    assert command == ["predict", "samples/"]  # the human voice, not the eSpeak test clips
    shown = readme.split("It prints", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    done = run_module(*command, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == shown


@pytest.mark.slow
def test_module_predict(clip_dir: Path, bad_clip: Path, weights_file: Path) -> None:
    done = run_module(
        "predict", str(clip_dir), str(bad_clip), "--weights", str(weights_file), "--format", "json"
    )
    assert done.returncode == 1, done.stderr
    records = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(records) == 5
    assert all(1 <= r["tone"] <= 4 for r in records)
    errors = error_lines(done.stderr)
    assert any("broken.wav" in line for line in errors), done.stderr
    assert errors[-1] == "keras-tone predict: 1 of 6 inputs failed"
    assert not [line for line in done.stderr.splitlines() if line.startswith(("I0000", "E0000"))]


@pytest.mark.slow
def test_module_debug_shows_tensorflow_logging(clip_dir: Path, weights_file: Path) -> None:
    done = run_module("predict", str(clip_dir / "sweep1.wav"), "--weights", str(weights_file))
    quiet = done.stderr
    done = run_module(
        "predict", str(clip_dir / "sweep1.wav"), "--weights", str(weights_file), "--debug"
    )
    assert done.returncode == 0
    assert len(done.stderr) > len(quiet)


@pytest.fixture(scope="module")
def espeak_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("espeak")
    for tone in (1, 2, 3, 4):
        subprocess.run(
            [
                "espeak-ng",
                "-v",
                "cmn-latn-pinyin",
                "-w",
                str(folder / f"ma{tone}.wav"),
                f"ma{tone}",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return folder


@pytest.mark.slow
def test_module_predict_espeak(espeak_dir: Path, weights_file: Path) -> None:
    done = run_module("predict", str(espeak_dir), "--weights", str(weights_file), "--top", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split() == ["file", "tone", "name", "probability", "next"]
    assert [Path(line.split()[0]).name for line in lines[1:]] == [
        f"ma{t}.wav" for t in (1, 2, 3, 4)
    ]


@pytest.mark.slow
def test_module_help_and_errors() -> None:
    done = run_module("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: keras-tone")
    done = run_module("predict", "--top", "x", "a.wav")
    assert done.returncode == 2
    assert error_lines(done.stderr) == [
        "keras-tone predict: error: argument --top: expected a positive integer, got 'x' "
        "(see `keras-tone predict --help`)"
    ]


@pytest.mark.slow
def test_module_plot(espeak_dir: Path, weights_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    output = tmp_path / "ma3.png"
    done = run_module(
        "plot", str(espeak_dir / "ma3.wav"), "-o", str(output), "--weights", str(weights_file)
    )
    assert done.returncode == 0, done.stderr
    assert output.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_module_doctor() -> None:
    done = run_module("doctor")
    assert done.returncode in (0, 1), done.stderr
    assert "TensorFlow" in done.stdout and "tf.keras" in done.stdout


@pytest.mark.slow
def test_module_train_and_evaluate(espeak_dir: Path, tmp_path: Path) -> None:
    """A real (tiny) training run, then its preset folder evaluated."""
    manifest = tmp_path / "manifest.csv"
    rows = ["path,syllable,tone,speaker,sex"]
    for tone in (1, 2, 3, 4):
        for copy in range(2):
            target = tmp_path / f"ma{tone}_{copy}.wav"
            shutil.copy(espeak_dir / f"ma{tone}.wav", target)
            rows.append(f"{target.name},ma{tone},{tone},espeak_{copy},f")
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}  # the decoded-clip cache
    done = run_module(
        "train",
        str(manifest),
        "-o",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        timeout=600,
        env=cache,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "model.weights.h5").is_file() and (out / "config.json").is_file()
    report = tmp_path / "eval.json"
    done = run_module(
        "evaluate", "--weights", str(out), str(manifest), "--json", str(report), env=cache
    )
    assert done.returncode == 0, done.stderr
    written = json.loads(report.read_text())
    assert written["kind"] == "evaluate"
    assert 0.0 <= written["overall"]["accuracy"] <= 1.0
    assert done.stdout.strip()  # format_report's table
