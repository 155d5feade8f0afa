"""The command line on words: `keras-tone check`, `plot --expect`, `evaluate` on word manifests.

The weights are a randomly initialised 5-class ToneNet saved as a preset, so
these tests check the plumbing, not accuracy. Words are harmonic signals that
follow tone contours (`signals.py`) and, where espeak-ng is installed,
"ni3 hao3" spoken by espeak-ng.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from signals import voiced_word
from test_cli import error_lines, run_main, run_module

from keras_tone.scoring import VERDICTS
from keras_tone.textgrid import ToneInterval, read_intervals, write_tones

RATE = 22050  # not the model's: the command resamples


@pytest.fixture(scope="module")
def nihao(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two syllables, at 0.1-0.4 s and 0.5-0.8 s."""
    import soundfile as sf

    path = tmp_path_factory.mktemp("words") / "nihao.wav"
    sf.write(path, voiced_word(2, 3, sample_rate=RATE), RATE)
    return path


def check(*argv: str, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    return run_main(["check", *argv], capsys)


def test_check_help_names_the_options(capsys: pytest.CaptureFixture) -> None:
    status, out, _ = check("--help", capsys=capsys)
    assert status == 0
    for option in ("--expect", "--hanzi", "--weights", "--format", "--textgrid", "--tier"):
        assert option in out
    assert "(default: blcu-words)" in " ".join(out.split())


def test_check_table(nihao: Path, preset: str, capsys: pytest.CaptureFixture) -> None:
    argv = [str(nihao), "--expect", "ni3 hao3", "--hanzi", "你好", "--weights", preset]
    status, out, err = check(*argv, capsys=capsys)
    assert status == 0, err
    header, first, second, word = out.strip().splitlines()
    assert header.split() == [
        "syllable", "hanzi", "start", "end", "citation", "expected", "rule", "heard",
        "probability", "verdict",
    ]  # fmt: skip
    cells = [line.split() for line in (first, second)]
    assert [c[:2] + c[4:7] for c in cells] == [
        ["ni3", "你", "3", "2", "third-tone"],
        ["hao3", "好", "3", "3", "-"],
    ]
    # The syllables lie at 0.1-0.4 s and 0.5-0.8 s; three decimals.
    times = [float(t) for c in cells for t in c[2:4]]
    assert times == pytest.approx([0.1, 0.4, 0.5, 0.8], abs=0.03)
    assert all(len(t.split(".")[1]) == 3 for c in cells for t in c[2:4])
    assert " ".join(first.split()[9:]) in VERDICTS
    assert word.startswith(f"{nihao} (你好 ni3 hao3): ")


def test_check_json_names_each_syllable(
    nihao: Path, preset: str, capsys: pytest.CaptureFixture
) -> None:
    argv = [str(nihao), "--expect", "nǐ hǎo", "--weights", preset, "--format", "json"]
    status, out, err = check(*argv, capsys=capsys)
    assert status == 0, err
    (line,) = out.strip().splitlines()
    record = json.loads(line)
    assert record["file"] == str(nihao) and record["pinyin"] == "ni3 hao3"
    assert record["expected"] == [2, 3] and record["verdict"] in VERDICTS
    assert [s["pinyin"] for s in record["syllables"]] == ["ni3", "hao3"]
    for syllable in record["syllables"]:
        assert 1 <= syllable["heard"] <= 5 and syllable["expected"] in (2, 3)
        assert len(syllable["probabilities"]) == 5
        assert syllable["probability"] == round(syllable["probability"], 6)


def test_check_csv(nihao: Path, preset: str, capsys: pytest.CaptureFixture) -> None:
    argv = [str(nihao), "--expect", "ni3 hao3", "--weights", preset, "--format", "csv"]
    status, out, err = check(*argv, capsys=capsys)
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["syllable"] for row in rows] == ["ni3", "hao3"]
    assert rows[0]["file"] == str(nihao) and rows[0]["hanzi"] == "" and rows[1]["rule"] == ""
    assert sum(float(rows[0][f"p_tone{t}"]) for t in range(1, 6)) == pytest.approx(1, abs=1e-4)
    assert rows[0]["heard"] in "12345" and rows[0]["verdict"] in VERDICTS


def test_check_reads_and_writes_textgrids(
    nihao: Path, preset: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Boundaries and pinyin from a tier the test writes; the tones written back as a tier."""
    grid = tmp_path / "nihao.TextGrid"
    marks = [ToneInterval(0.12, 0.42, label="ni3"), ToneInterval(0.47, 0.79, label="hao3")]
    write_tones(grid, marks, tier="syllables", duration=0.9)
    out_grid = tmp_path / "out" / "nihao-tones.TextGrid"
    argv = [str(nihao), "--textgrid", str(grid), "--weights", preset, "--format", "json"]
    status, out, err = check(*argv, "--write-textgrid", str(out_grid), capsys=capsys)
    assert status == 0, err
    record = json.loads(out)
    assert [(s["start"], s["end"]) for s in record["syllables"]] == [(0.12, 0.42), (0.47, 0.79)]
    assert record["expected"] == [2, 3]  # the labels' pinyin, with sandhi
    assert [i.label for i in read_intervals(out_grid, "syllables")] == ["ni3", "hao3"]
    tones = read_intervals(out_grid, "tones")
    assert [(t.start, t.end) for t in tones] == [(0.12, 0.42), (0.47, 0.79)]
    assert [t.label for t in tones] == [
        f"{s['heard']} p={s['probability']:.2f} exp={s['expected']}" for s in record["syllables"]
    ]


def test_check_writes_a_textgrid_without_one_in(
    nihao: Path, preset: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out_grid = tmp_path / "nihao.TextGrid"
    argv = [str(nihao), "--expect", "ni3 hao3", "--weights", preset, "--write-textgrid"]
    status, _, err = check(*argv, str(out_grid), capsys=capsys)
    assert status == 0, err
    syllables = read_intervals(out_grid, "syllables")
    assert [i.label for i in syllables] == ["ni3", "hao3"]
    assert syllables[0].start == pytest.approx(0.1, abs=0.03)
    assert len(read_intervals(out_grid, "tones")) == 2


@pytest.fixture(scope="module")
def bad_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "broken.wav"
    path.write_bytes(b"RIFF this is not a wave file")
    return path


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["{nihao}", "--expect", "ni3 hoa3"], 2, "Cannot read the pinyin 'ni3 hoa3'"),
        (["{nihao}"], 2, "--expect PINYIN is required"),
        (["{nihao}", "--expect", "ni3 hao3", "--tier", "x"], 2, "--tier needs --textgrid"),
        (["{nihao}", "--expect", "ni3 hao3", "--hanzi", "你"], 2, "1 characters for 2"),
        (["{missing}", "--expect", "ni3 hao3"], 1, "no such file"),
        (["{bad}", "--expect", "ni3 hao3"], 1, "broken.wav: not audio: the file holds text"),
        (["{nihao}", "--expect", "a1 " * 30], 1, "no verdicts: the recording holds about 2 "),
        (["{nihao}", "--expect", "ni3", "--textgrid", "{missing}"], 1, "No TextGrid at"),
    ],
)
def test_check_errors_are_one_line(
    argv: list[str],
    status: int,
    message: str,
    nihao: Path,
    bad_wav: Path,
    preset: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    paths = {"nihao": nihao, "bad": bad_wav, "missing": tmp_path / "missing.wav"}
    argv = [arg.format(**paths) for arg in argv]
    code, out, err = check(*argv, "--weights", preset, capsys=capsys)
    assert code == status and out == ""
    (line,) = error_lines(err)
    assert line.startswith("keras-tone check: error: ") and message in line, line


def test_plot_word(nihao: Path, preset: str, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    output = tmp_path / "nihao.png"
    argv = ["plot", str(nihao), "-o", str(output), "--expect", "ni3 hao3", "--weights", preset]
    status, out, err = run_main([*argv, "--hanzi", "你好"], capsys)
    assert status == 0, err
    assert out.strip() == str(output) and output.read_bytes()[:4] == b"\x89PNG"


def test_plot_expect_needs_weights(nihao: Path, tmp_path: Path, capsys) -> None:
    argv = ["plot", str(nihao), "-o", str(tmp_path / "x.png"), "--expect", "ni3 hao3"]
    status, _, err = run_main([*argv, "--weights", "none"], capsys)
    assert status == 2 and "--expect needs weights" in err


@pytest.fixture
def word_manifest(nihao: Path, bad_wav: Path, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "manifest.csv"
    rows = [
        "path,hanzi,pinyin,surface,speaker,sex",
        f"{nihao},你好,ni3 hao3,2 3,a,F",
        f"{nihao},,ma2 ma3,2 3,b,M",
        f"{bad_wav},,ma1 ma1,1 1,b,M",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_evaluate_word_manifest(
    word_manifest: Path, preset: str, bad_wav: Path, tmp_path: Path, capsys
) -> None:
    report = tmp_path / "eval.json"
    argv = ["evaluate", "--weights", preset, str(word_manifest), "--json", str(report)]
    status, out, err = run_main(argv, capsys)
    assert status == 1 and "the path leads outside the manifest's folder" in err
    status, out, err = run_main([*argv, "--allow-outside-paths"], capsys)
    assert status == 1, err  # the unreadable recording
    errors = error_lines(err)
    assert errors[0].startswith(f"keras-tone evaluate: {bad_wav}: not audio: the file holds text")
    assert errors[-1] == (
        "keras-tone evaluate: 1 words could not be read or cut into syllables and are not "
        "scored (4 syllables are)"
    )
    written = json.loads(report.read_text())
    assert written["overall"]["clips"] == 4 and written["words"]["words"] == 2
    assert set(written["per_speaker"]) == {"a", "b"} and set(written["per_position"]) == {"1", "2"}
    assert "== Whole words (every syllable right) ==" in out


def test_evaluate_refuses_mixed_manifests(word_manifest: Path, preset: str, tmp_path, capsys):
    syllables = tmp_path / "syllables.csv"
    syllables.write_text("path,syllable,tone,speaker,sex\n")
    argv = ["evaluate", "--weights", preset, str(word_manifest), str(syllables)]
    status, _, err = run_main(argv, capsys)
    assert status == 2 and "mix word manifests" in err


@pytest.mark.slow
def test_module_check_espeak_nihao(preset: str, tmp_path: Path) -> None:
    """`keras-tone check` as a user runs it, on "ni3 hao3" spoken by espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "nihao.wav"
    subprocess.run(
        ["espeak-ng", "-v", "cmn-latn-pinyin", "-w", str(wav), "ni3 hao3"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    done = run_module(
        "check", str(wav), "--expect", "ni3 hao3", "--hanzi", "你好", "--weights", preset,
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["file"] == str(wav)
    assert [(s["pinyin"], s["hanzi"], s["expected"]) for s in record["syllables"]] == [
        ("ni3", "你", 2),
        ("hao3", "好", 3),
    ]
    for syllable in record["syllables"]:
        assert 1 <= syllable["heard"] <= 5 and syllable["verdict"] in VERDICTS
        assert syllable["start"] < syllable["end"]
    assert record["syllables"][0]["end"] <= record["syllables"][1]["start"]
    done = run_module("check", str(tmp_path / "missing.wav"), "--expect", "ni3 hao3")
    assert done.returncode == 1
