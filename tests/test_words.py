"""keras_tone.words: the word manifest reader and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from keras_tone.words import WORD_MANIFEST_COLUMNS, read_word_manifest

SHARED_WORDS = Path(__file__).resolve().parents[2] / "shared" / "words"
HEADER = "path,hanzi,pinyin,surface,speaker,sex"


def _write(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return manifest


def test_reads_rows(tmp_path):
    manifest = _write(
        tmp_path,
        "clips/a.mp3,一定,yi1 ding4,2 4,spk,F",
        "clips/b.mp3,,nv3 er2,3 2,spk,",
        "clips/c.mp3,岂有此理,qǐ yǒu cǐ lǐ,2 3 2 3,spk,F",
    )
    rows = read_word_manifest(manifest)
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[0].path == (tmp_path / "clips" / "a.mp3").resolve()
    assert rows[0].hanzi == "一定" and rows[0].citation == (1, 4) and rows[0].surface == (2, 4)
    assert rows[1].syllables == ("nv", "er") and rows[1].hanzi == "" and rows[1].sex == ""
    assert rows[2].pinyin == ("qi3", "you3", "ci3", "li3") and len(rows[2]) == 4


def test_bom_extra_columns_and_column_order(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "\ufeffspeaker,sex,surface,pinyin,hanzi,path,note\nspk,M,2 3,ni3 hao3,你好,x.wav,hi\n",
        encoding="utf-8",
    )
    (row,) = read_word_manifest(manifest)
    assert row.surface == (2, 3) and row.speaker == "spk" and row.path.name == "x.wav"


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_word_manifest(tmp_path / "nope.csv")


def test_missing_columns(tmp_path):
    manifest = _write(tmp_path, "a.wav,ma,1,s,F", header="path,syllable,tone,speaker,sex")
    with pytest.raises(ValueError, match="lacks the column.*hanzi, pinyin, surface") as info:
        read_word_manifest(manifest)
    assert "syllable manifest" in str(info.value)
    assert ",".join(WORD_MANIFEST_COLUMNS) in str(info.value)


def test_surface_digits_may_run_together(tmp_path):
    manifest = _write(tmp_path, "a.wav,一定,yi1 ding4,24,s,F", "b.wav,你好,ni3 hao3,2 3,s,F")
    assert [row.surface for row in read_word_manifest(manifest)] == [(2, 4), (2, 3)]


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("b.wav,你好,ni3 hao3,2,s,F", "surface '2' has 1 tones but pinyin 'ni3 hao3' has 2"),
        ("b.wav,你好,ni3 hao3,2 3 3,s,F", "has 3 tones"),
        ("b.wav,你好,ni3 hao3,2 6,s,F", "surface tone '6'"),
        ("b.wav,你好,ni3 hao3,26,s,F", "surface tone '6' in '26'"),
        ("b.wav,你好,ni3 hao3,233,s,F", "has 3 tones"),
        ("b.wav,你好,ni3 hao3,2 x,s,F", "surface tone 'x'"),
        ("b.wav,你好,ni3 hoa3,2 3,s,F", "Cannot read the pinyin"),
        ("b.wav,你好吗,ni3 hao3,2 3,s,F", "3 characters for 2 syllables"),
        ("b.wav,你好,,2 3,s,F", "empty pinyin"),
        (",你好,ni3 hao3,2 3,,F", "empty path, speaker"),
    ],
)
def test_errors_name_file_and_line(tmp_path, bad_line, message):
    manifest = _write(tmp_path, "a.wav,一定,yi1 ding4,2 4,s,F", bad_line)
    with pytest.raises(ValueError) as info:
        read_word_manifest(manifest)
    text = str(info.value)
    assert f"{str(manifest)!r}, line 3" in text
    assert message in text


@pytest.mark.data
@pytest.mark.parametrize("folder, count", [("audiocmn_hsk", 6793), ("cedicttts_msyn", 2000)])
def test_reads_the_shared_word_manifests(folder, count):
    manifest = SHARED_WORDS / folder / "manifest.csv"
    if not manifest.is_file():
        pytest.skip(f"word recordings not found at {manifest}")
    rows = read_word_manifest(manifest)
    assert len(rows) == count
    assert all(2 <= len(r) <= 4 for r in rows)
    assert all(r.path.is_file() for r in rows[:20])
