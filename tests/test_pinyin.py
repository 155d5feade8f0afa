"""keras_tone.pinyin: reading pinyin, and tone sandhi against the rules and the word data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from keras_tone.hanzi import read_hanzi
from keras_tone.pinyin import (
    SYLLABLES,
    ExpectedSyllable,
    Syllable,
    expected_tones,
    parse_pinyin,
    sandhi,
)

SHARED_WORDS = Path(__file__).resolve().parents[2] / "shared" / "words"


def _readings(text: str) -> list[str]:
    return [s.pinyin for s in parse_pinyin(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ni3 hao3", ["ni3", "hao3"]),
        ("ni3hao3", ["ni3", "hao3"]),
        ("NI3 Hao3", ["ni3", "hao3"]),
        ("nǐ hǎo", ["ni3", "hao3"]),
        ("Nǐhǎo", ["ni3", "hao3"]),
        ("ni\u030c ha\u030co", ["ni3", "hao3"]),  # decomposed tone marks
        ("lv4 lü4 lu:4", ["lv4", "lv4", "lv4"]),
        ("nǚ lüè lüe4 lue4", ["nv3", "lve4", "lve4", "lve4"]),
        ("ma ma5 ma0", ["ma5", "ma5", "ma5"]),
        ("ni3men", ["ni3", "men5"]),
        ("xi1'an1", ["xi1", "an1"]),
        ("xian1", ["xian1"]),  # the fewest syllables when run together
        ("Xī'ān", ["xi1", "an1"]),
        ("xīān", ["xi1", "an1"]),  # two tone marks: two syllables
        ("yi1-ding4", ["yi1", "ding4"]),
        ("dian3r dianr3 diǎnr", ["dianr3", "dianr3", "dianr3"]),
        ("er2 nv3", ["er2", "nv3"]),
        ("ń hm", ["n2", "hm5"]),
        (["ni3", "hao3"], ["ni3", "hao3"]),
    ],
)
def test_parse_pinyin_forms(text, expected):
    assert _readings(text) == expected


def test_syllable_is_plain_data():
    syllable = parse_pinyin("lü4")[0]
    assert syllable == Syllable("lv", 4)
    assert str(syllable) == "lv4"


@pytest.mark.parametrize(
    "text, part",
    [
        ("", "Expected a pinyin reading"),
        ("   ", "Expected a pinyin reading"),
        ("ni3 hoa3", "'hoa3'"),
        ("ni6", "tone digit 6"),
        ("3ni", "follows no syllable"),
        ("nǐ3", "'nǐ3'"),  # a mark and a digit
        ("ni3 hao3!", "'!'"),
        ("你好", "'你'"),
    ],
)
def test_parse_pinyin_errors_name_the_part(text, part):
    with pytest.raises(ValueError, match=part.replace("(", r"\(")) as info:
        parse_pinyin(text)
    if text.strip():
        assert repr(text) in str(info.value)


def test_syllable_table_covers_the_usual_inventory():
    # A few of each kind, and the table's size (standard table about 400 + rare ones).
    for syllable in ("zhuang", "chuai", "nve", "lvn", "jiong", "er", "ng", "hm", "rua"):
        assert syllable in SYLLABLES
    for not_syllable in ("jv", "bue", "fi", "hoa", "zhia"):
        assert not_syllable not in SYLLABLES
    assert 400 <= len(SYLLABLES) <= 430


@pytest.mark.parametrize(
    "tones, surface",
    [
        ([3, 3], [2, 3]),
        ([3, 3, 3], [3, 2, 3]),  # right to left, seeing the changed tone
        ([3, 3, 3, 3], [2, 3, 2, 3]),
        ([3, 3, 3, 3, 3], [3, 2, 3, 2, 3]),
        ([3, 5], [3, 5]),  # a 3 before a neutral tone stays 3
        ([3, 3, 5], [2, 3, 5]),
        ([3, 5, 3], [3, 5, 3]),
        ([2, 3, 3], [2, 2, 3]),
        ([3, 3, 1], [2, 3, 1]),
        ([1, 2, 4, 5], [1, 2, 4, 5]),
        ([3], [3]),
        ([1, 4], [1, 4]),  # yi1 bu4 without characters: no 一/不 rule
    ],
)
def test_third_tone_sandhi(tones, surface):
    assert sandhi(tones) == surface


@pytest.mark.parametrize(
    "hanzi, tones, surface",
    [
        ("一定", [1, 4], [2, 4]),
        ("一起", [1, 3], [4, 3]),
        ("一般", [1, 1], [4, 1]),
        ("一同", [1, 2], [4, 2]),
        ("不是", [4, 4], [2, 4]),
        ("不同", [4, 2], [4, 2]),
        ("不久", [4, 3], [4, 3]),
        ("统一", [3, 1], [3, 1]),  # word-final
        ("决不", [2, 4], [2, 4]),
        ("一一", [1, 1], [1, 1]),
        ("第一次", [4, 1, 4], [4, 1, 4]),  # ordinal
        ("对不起", [4, 5, 3], [4, 5, 3]),  # neutral in the dictionary
        ("一个", [1, 5], [1, 5]),  # before a neutral tone: unchanged
        ("看一看", [4, 1, 4], [4, 5, 4]),  # between identical characters
        ("好不好", [3, 4, 3], [3, 5, 3]),  # ... and then no 3-3 across the neutral
        ("不一定", [4, 1, 4], [4, 2, 4]),  # each looks at the citation tone on its right
        ("不卑不亢", [4, 1, 4, 4], [4, 1, 2, 4]),
        ("进一步", [4, 1, 4], [4, 2, 4]),  # 步 is not 不
        ("老一辈", [3, 1, 4], [3, 2, 4]),
        ("一起走", [1, 3, 3], [4, 2, 3]),  # 一/不 first, then 3-3
        ("岂有此理", [3, 3, 3, 3], [2, 3, 2, 3]),
        ("医院", [1, 4], [1, 4]),
    ],
)
def test_yi_bu_rules(hanzi, tones, surface):
    assert sandhi(tones, hanzi=hanzi) == surface


def test_expected_tones_reports_rules():
    word = expected_tones("yi1 qi3 zou3", hanzi="一起走")
    assert word == [
        ExpectedSyllable("yi", "yi1", 1, 4, "一", "yi"),
        ExpectedSyllable("qi", "qi3", 3, 2, "起", "third-tone"),
        ExpectedSyllable("zou", "zou3", 3, 3, "走", None),
    ]
    assert [s.rule for s in expected_tones("bu4 shi4", hanzi="不是")] == ["bu", None]
    assert [s.rule for s in expected_tones("kan4 yi1 kan4", hanzi="看一看")][1] == "reduplication"


def test_without_hanzi_yi_bu_are_left_alone():
    assert [s.surface for s in expected_tones("yi1 ding4")] == [1, 4]
    assert [s.surface for s in expected_tones("yi1 ding4", hanzi="一定")] == [2, 4]


def test_erhua_character_joins_its_syllable():
    word = expected_tones("yi1 dian3r", hanzi="一点儿")
    assert [(s.hanzi, s.surface) for s in word] == [("一", 4), ("点儿", 3)]
    # 女儿 has a real 儿 syllable
    assert [s.hanzi for s in expected_tones("nv3 er2", hanzi="女儿")] == ["女", "儿"]


@pytest.mark.parametrize("hanzi", ["你", "你好吗", "你 好 吗"])
def test_hanzi_count_must_match(hanzi):
    with pytest.raises(ValueError, match="characters for 2 syllables"):
        expected_tones("ni3 hao3", hanzi=hanzi)
    with pytest.raises(ValueError, match="characters for 2 syllables"):
        sandhi([3, 3], hanzi=hanzi)


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, True, "3"])
def test_sandhi_rejects_bad_tones(bad):
    with pytest.raises(ValueError, match="Tones must be 1-4"):
        sandhi([3, bad])


def _manifest(folder: str) -> list[dict[str, str]]:
    path = SHARED_WORDS / folder / "manifest.csv"
    if not path.is_file():
        pytest.skip(f"word recordings not found at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.data
def test_reproduces_the_human_surface_column():
    rows = _manifest("audiocmn_hsk")
    differ = [
        (r["hanzi"], r["pinyin"], r["surface"])
        for r in rows
        if " ".join(str(s.surface) for s in expected_tones(r["pinyin"], r["hanzi"])) != r["surface"]
    ]
    assert len(rows) == 6793
    assert differ == []


@pytest.mark.data
def test_synthetic_surface_differs_only_where_its_readme_says():
    # The synthetic voice was sent no 3-3 sandhi and tts.py's own 一/不 changes
    # (words README): every difference must be a 3-3 or a 一/不 word.
    rows = _manifest("cedicttts_msyn")
    differ = []
    for r in rows:
        ours = [s.surface for s in expected_tones(r["pinyin"], r["hanzi"] or None)]
        if ours != [int(t) for t in r["surface"].split()]:
            differ.append(r)
    for r in differ:
        tones = [int(p[-1]) for p in r["pinyin"].split()]
        has_33 = any(a == b == 3 for a, b in zip(tones[:-1], tones[1:], strict=True))
        assert has_33 or "一" in r["hanzi"] or "不" in r["hanzi"], r
    assert len(differ) == 116  # 109 words with a 3-3, 7 with 一/不 (README)


# --- characters to expected syllables (read_hanzi) ---------------------------------------


@pytest.mark.parametrize(
    "text, pinyin, surface",
    [
        ("你好", "ni3 hao3", [2, 3]),
        ("你好，一起去！", "ni3 hao3 yi1 qi3 qu4", [2, 3, 4, 3, 4]),  # 一 before qi3 -> 4
        ("不是。", "bu4 shi4", [2, 4]),  # pypinyin writes bu2: put back to bu4, then the rule
        ("一切都好", "yi1 qie4 dou1 hao3", [2, 4, 1, 3]),
        ("看一看", "kan4 yi1 kan4", [4, 5, 4]),
        ("银行", "yin2 hang2", [2, 2]),  # a polyphone settled by the phrase
        ("设定29度", "she4 ding4 er4 shi2 jiu3 du4", [4, 4, 4, 2, 3, 4]),
        ("设定三十一度", "she4 ding4 san1 shi2 yi1 du4", [4, 4, 1, 2, 1, 4]),  # numeral 一
        ("2024年", "er4 ling2 er4 si4 nian2", [4, 2, 4, 4, 2]),  # a year: digit by digit
        ("25.5%", "bai3 fen1 zhi1 er4 shi2 wu3 dian3 wu3", [3, 1, 1, 4, 2, 3, 2, 3]),
    ],
)
def test_read_hanzi(text, pinyin, surface):
    syllables = read_hanzi(text)
    assert " ".join(s.pinyin for s in syllables) == pinyin
    assert [s.surface for s in syllables] == surface


def test_read_hanzi_third_tone_domains():
    # One phrase without spaces: 3-3 right to left over the phrase.
    assert [s.surface for s in read_hanzi("我想买")] == [3, 2, 3]
    # Words given by spaces: 3-3 only inside each word (老虎 2 3, then 好 alone).
    assert [s.surface for s in read_hanzi("老虎 好")] == [2, 3, 3]
    # Punctuation always ends a phrase.
    assert [s.surface for s in read_hanzi("好，好")] == [3, 3]


def test_read_hanzi_keeps_characters_and_rules():
    syllables = read_hanzi("一起走")
    assert [s.hanzi for s in syllables] == ["一", "起", "走"]
    assert [s.rule for s in syllables] == ["yi", "third-tone", None]


@pytest.mark.parametrize(
    "text, message", [("Hello 你好", "'H', 'e'|Latin"), ("，。", "characters")]
)
def test_read_hanzi_errors(text, message):
    with pytest.raises(ValueError, match=message):
        read_hanzi(text)
