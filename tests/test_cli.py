"""The `keras-tone` command line, in-process (`main([...])`) and as `python -m keras_tone`.

Clips are made here: vowel-like harmonic signals that follow the F0 contour
of each tone (numpy + soundfile), and, where espeak-ng is installed, the
syllable "ma" in tones 1-4 spoken by espeak-ng. The weights are a randomly
initialised ToneNet saved as a preset: these tests check the plumbing, not
accuracy.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

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


@pytest.fixture(scope="module")
def bad_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "broken.wav"
    path.write_bytes(b"RIFF this is not a wave file")
    return path


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A preset folder with a randomly initialised 4-class ToneNet."""
    from keras_tone import ToneNet, weights

    folder = tmp_path_factory.mktemp("preset")
    weights.save_preset(ToneNet(weights=None), folder, classes=4, card="# test weights\n")
    return folder / weights.WEIGHTS_NAME


def run_main(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    from keras_tone.cli import main

    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def error_lines(err: str) -> list[str]:
    """stderr lines that are not TensorFlow's start-up logging."""
    return [
        line
        for line in err.splitlines()
        if line.strip() and not line.startswith(("I0000", "E0000", "W0000", "WARNING: All log"))
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
    assert any(str(bad_clip) in line and "as audio: not audio" in line for line in errors), err
    assert errors[-1] == "keras-tone predict: 1 of 3 inputs failed"
    assert "Traceback" not in err


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
    from keras_tone.cli import PROGRESS_MIN_FILES

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
def fake_training(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Stands in for keras_tone.training and records how the CLI calls it."""
    import keras_tone

    calls: list[tuple[str, tuple, dict]] = []

    def record(name: str, result: dict):
        def function(*args, **kwargs):
            calls.append((name, args, kwargs))
            return result

        return function

    from keras_tone.training import Recipe

    module = types.ModuleType("keras_tone.training")
    module.Recipe = Recipe
    module.train = record("train", {"accuracy": 0.9})
    module.cross_validate = record("cross_validate", {"folds": {"a": 0.8}})
    module.evaluate = record(
        "evaluate", {"accuracy": np.float64(0.75), "confusion": np.eye(4, dtype=int)}
    )
    module.format_report = lambda report: f"REPORT {sorted(report)}"
    monkeypatch.setitem(sys.modules, "keras_tone.training", module)
    monkeypatch.setattr(keras_tone, "training", module, raising=False)
    return types.SimpleNamespace(module=module, calls=calls)


def test_train_calls_training(fake_training, tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n")
    argv = ["train", str(manifest), "-o", str(tmp_path / "out"), "--epochs", "3", "--seed", "7"]
    status, out, err = run_main(argv, capsys)
    assert status == 0, err
    assert fake_training.calls == [
        ("train", ([str(manifest)], str(tmp_path / "out")), {"classes": 4, "seed": 7, "epochs": 3})
    ]
    assert out.strip() == "REPORT ['accuracy']"

    argv = ["train", str(manifest), "-o", "cv", "--loso", "--classes", "5", "--batch-size", "8"]
    status, out, _ = run_main(argv, capsys)
    assert status == 0
    assert fake_training.calls[-1] == (
        "cross_validate",
        ([str(manifest)], "cv"),
        {"classes": 5, "seed": 0, "batch_size": 8, "compare_classes": 4},
    )


def test_train_tempo_option(fake_training, tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n")
    status, _, err = run_main(["train", str(manifest), "-o", "out", "--tempo", "1", "1"], capsys)
    assert status == 0, err
    assert fake_training.calls[-1][2]["recipe"] == fake_training.module.Recipe(tempo=(1.0, 1.0))
    status, _, err = run_main(["train", str(manifest), "-o", "out", "--tempo", "2", "1"], capsys)
    assert status == 2 and "LOW <= HIGH" in err
    status, _, err = run_main(["train", str(manifest), "-o", "out", "--tempo", "0", "1"], capsys)
    assert status == 2 and "expected a positive number" in err


def test_train_passes_the_recipe_options(fake_training, tmp_path: Path, capsys) -> None:
    """Every option of scripts/train_blcu.sh reaches `train` / `cross_validate`."""
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n")
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
    assert fake_training.calls[-1][2] == {
        "classes": 5,
        "seed": 0,
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
    assert fake_training.calls[-1] == (
        "train",
        ([str(manifest)], "out"),
        {
            "classes": 5,
            "seed": 0,
            "neutral_speakers": ["a"],
            "name": "n",
            "data_licences": {"a": "CC0"},
            "card_notes": "## Notes\n",
            "loso_report": {"summary": {"a": 0.9}},
        },
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speakers", "a"], "--speakers needs --loso"),
        (["--loso", "--name", "n"], "are for a preset, not --loso"),
        (["--class-weighting", "auto"], "argument --class-weighting: invalid choice"),
    ],
)
def test_train_option_errors(fake_training, tmp_path: Path, capsys, extra, message) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n")
    status, _, err = run_main(["train", str(manifest), "-o", "out", *extra], capsys)
    assert status == 2
    assert len(error_lines(err)) == 1 and message in err
    assert fake_training.calls == []


def test_train_unreadable_licences(fake_training, tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n")
    bad = tmp_path / "licences.json"
    bad.write_text("{not json")
    status, _, err = run_main(["train", str(manifest), "-o", "o", "--licences", str(bad)], capsys)
    assert status == 1
    assert error_lines(err)[0].startswith("keras-tone train: error: the licences file")


def test_card_rewrites_the_model_card(tmp_path: Path, capsys) -> None:
    pytest.importorskip("keras_tone.training")
    preset = tmp_path / "my-preset"
    preset.mkdir()
    status, _, err = run_main(["card", "--preset", str(preset)], capsys)
    assert status == 1 and "no report.json" in err
    for shipped in ("blcu", "blcu-5tone"):
        source = Path(__file__).parent.parent / "weights" / shipped / "report.json"
        if source.is_file():
            break
    else:
        pytest.skip("no shipped report.json")
    shutil.copy(source, preset / "report.json")
    notes = tmp_path / "notes.md"
    notes.write_text("## A note of ours\n")
    argv = ["card", "--preset", str(preset), "--name", "mine", "--card-notes", str(notes)]
    status, out, err = run_main(argv, capsys)
    assert status == 0, err
    card = (preset / "README.md").read_text()
    assert out.strip() == str(preset / "README.md")
    assert "A note of ours" in card and "keras-tone-mine" in card
    assert "keras-tone train" in card and "keras_tone.training" not in card


def test_evaluate_calls_training(fake_training, tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n")
    report = tmp_path / "reports" / "eval.json"
    argv = ["evaluate", "--weights", "w.h5", str(manifest), "--json", str(report)]
    status, out, err = run_main(argv, capsys)
    assert status == 0, err
    assert fake_training.calls == [("evaluate", ("w.h5", [str(manifest)]), {})]
    assert out.strip() == "REPORT ['accuracy', 'confusion']"
    written = json.loads(report.read_text())
    assert written["accuracy"] == 0.75
    assert written["confusion"] == np.eye(4, dtype=int).tolist()


def test_train_missing_manifest(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    status, _, err = run_main(["train", str(tmp_path / "m.csv"), "-o", str(tmp_path)], capsys)
    assert status == 1
    assert error_lines(err) == [f"keras-tone train: error: no such manifest file: {tmp_path}/m.csv"]


# --------------------------------------------------------------------------- subprocess


def run_module(
    *args: str, cwd: Path | None = None, timeout: float = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`python -m keras_tone ARGS` with this checkout first on the path."""
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("TF_USE_LEGACY_KERAS", None)
    return subprocess.run(
        [sys.executable, "-m", "keras_tone", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_module_predict(clip_dir: Path, bad_clip: Path, weights_file: Path) -> None:
    """The one subprocess run of the default suite: python -m keras_tone predict."""
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
    """A real (tiny) training run, where keras_tone.training exists."""
    pytest.importorskip("keras_tone.training")
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
    weights = out / "model.weights.h5"
    report = tmp_path / "eval.json"
    done = run_module(
        "evaluate", "--weights", str(weights), str(manifest), "--json", str(report), env=cache
    )
    assert done.returncode == 0, done.stderr
    written = json.loads(report.read_text())
    assert written["kind"] == "evaluate"
    assert 0.0 <= written["overall"]["accuracy"] <= 1.0
    assert done.stdout.strip()  # format_report's table
