"""keras_tone.textgrid: syllables read from a TextGrid the test writes, tones written back."""

from __future__ import annotations

import pytest

from keras_tone.pinyin import parse_pinyin
from keras_tone.textgrid import Interval, ToneInterval, read_intervals, tone_label, write_tones

# A TextGrid as Praat writes it (long text format), written by hand: a syllable
# tier with silence around and between the syllables, a word tier and a point tier.
PRAAT_TEXTGRID = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.2
tiers? <exists>
size = 3
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.2
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.15
            text = ""
        intervals [2]:
            xmin = 0.15
            xmax = 0.95
            text = "你好"
        intervals [3]:
            xmin = 0.95
            xmax = 1.2
            text = ""
    item [2]:
        class = "IntervalTier"
        name = "syllables"
        xmin = 0
        xmax = 1.2
        intervals: size = 5
        intervals [1]:
            xmin = 0
            xmax = 0.15
            text = ""
        intervals [2]:
            xmin = 0.15
            xmax = 0.48
            text = "ni3"
        intervals [3]:
            xmin = 0.48
            xmax = 0.52
            text = " "
        intervals [4]:
            xmin = 0.52
            xmax = 0.95
            text = "hǎo "
        intervals [5]:
            xmin = 0.95
            xmax = 1.2
            text = ""
    item [3]:
        class = "TextTier"
        name = "events"
        xmin = 0
        xmax = 1.2
        points: size = 1
        points [1]:
            number = 0.5
            mark = "click"
"""


@pytest.fixture
def praat_file(tmp_path):
    path = tmp_path / "nihao.TextGrid"
    path.write_text(PRAAT_TEXTGRID, encoding="utf-8")
    return path


def test_reads_labelled_intervals_of_a_tier(praat_file):
    syllables = read_intervals(praat_file, "syllables")
    assert syllables == [Interval(0.15, 0.48, "ni3"), Interval(0.52, 0.95, "hǎo")]
    assert [s.pinyin for s in parse_pinyin([i.label for i in syllables])] == ["ni3", "hao3"]
    assert read_intervals(praat_file, "words") == [Interval(0.15, 0.95, "你好")]


def test_reads_utf16_as_praat_saves_non_ascii(tmp_path):
    path = tmp_path / "utf16.TextGrid"
    path.write_text(PRAAT_TEXTGRID, encoding="utf-16")
    assert [i.label for i in read_intervals(path, "words")] == ["你好"]


def test_missing_tier_lists_the_tiers(praat_file):
    with pytest.raises(
        ValueError, match="no tier named 'syllable'.*'words', 'syllables', 'events'"
    ):
        read_intervals(praat_file, "syllable")


def test_point_tier_is_refused(praat_file):
    with pytest.raises(ValueError, match="point tier"):
        read_intervals(praat_file, "events")


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="none.TextGrid"):
        read_intervals(tmp_path / "none.TextGrid", "syllables")
    bad = tmp_path / "bad.TextGrid"
    bad.write_text("not a textgrid\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Could not read .*bad.TextGrid"):
        read_intervals(bad, "syllables")


def test_tones_written_as_a_new_tier_of_the_template(praat_file, tmp_path):
    syllables = read_intervals(praat_file, "syllables")
    heard = [(2, 0.912), (3, 0.55)]
    tones = [
        ToneInterval(s.start, s.end, tone, p, expected=e)
        for s, (tone, p), e in zip(syllables, heard, [2, 3], strict=True)
    ]
    out = tmp_path / "out.TextGrid"
    write_tones(out, tones, template=praat_file)
    # the template's tiers are kept, the tone tier comes last, the duration is the template's
    assert read_intervals(out, "syllables") == syllables
    assert read_intervals(out, "tones") == [
        Interval(0.15, 0.48, "2 p=0.91 exp=2"),
        Interval(0.52, 0.95, "3 p=0.55 exp=3"),
    ]
    text = out.read_text(encoding="utf-8")
    assert text.count('class = "IntervalTier"') == 3 and "xmax = 1.2" in text
    # the template is not changed
    assert praat_file.read_text(encoding="utf-8") == PRAAT_TEXTGRID


def test_existing_tier_name_needs_replace(praat_file, tmp_path):
    out = tmp_path / "out.TextGrid"
    with pytest.raises(ValueError, match="already has a tier named 'syllables'"):
        write_tones(out, [ToneInterval(0.1, 0.2, 1)], tier="syllables", template=praat_file)
    write_tones(
        out, [ToneInterval(0.1, 0.2, 1)], tier="syllables", template=praat_file, replace=True
    )
    assert read_intervals(out, "syllables") == [Interval(0.1, 0.2, "1")]


def test_mappings_labels_and_duration(tmp_path):
    out = tmp_path / "new.TextGrid"
    write_tones(
        out,
        [
            {"start": 0.0, "end": 0.3, "tone": 4, "probability": 0.8, "verdict": "ignored"},
            {"start": 0.3, "end": 0.5, "label": "hao3"},
        ],
        duration=2.0,
    )
    assert read_intervals(out, "tones") == [
        Interval(0.0, 0.3, "4 p=0.80"),
        Interval(0.3, 0.5, "hao3"),
    ]
    assert "xmax = 2" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "tones, message",
    [
        ([ToneInterval(0.3, 0.3, 1)], "positive length"),
        ([ToneInterval(0.4, 0.3, 1)], "positive length"),
        ([ToneInterval(-0.1, 0.3, 1)], ">= 0"),
        ([ToneInterval(0.1, 0.5, 1), ToneInterval(0.4, 0.6, 2)], "before interval 0 ends"),
        ([{"end": 0.5}], "lacks start"),
        ([(0.1, 0.2)], "expected a ToneInterval"),
    ],
)
def test_bad_intervals_are_refused(tmp_path, tones, message):
    with pytest.raises(ValueError, match=message):
        write_tones(tmp_path / "x.TextGrid", tones)


def test_interval_after_the_end_is_refused(tmp_path):
    with pytest.raises(ValueError, match="after the TextGrid's end"):
        write_tones(tmp_path / "x.TextGrid", [ToneInterval(0.1, 1.5, 1)], duration=1.0)


def test_tone_label():
    assert tone_label(2, 0.875, 3) == "2 p=0.88 exp=3"
    assert tone_label(5) == "5"
    assert tone_label(None) == "?"
