"""Pinyin with tones, and the tones a word is expected to have when spoken.

Two jobs, kept apart:

* `parse_pinyin` reads the expected reading of a word: syllables with tone
  digits (`"ni3 hao3"`, `"ni3hao3"`, `"lv4"`, `"lü4"`, `"lu:4"`; the neutral
  tone as `5`, `0` or no digit) or with tone marks (`"nǐ hǎo"`, `"nǐhǎo"`,
  `"Xī'ān"`). Syllables are checked against the table of Mandarin syllables,
  so a typing error (`"hoa3"`) is reported instead of scored.
* `expected_tones` (and `sandhi` on bare tone numbers) turns the citation
  tones of one word into the tones a speaker is expected to say, by the
  standard tone-sandhi rules:

  1. `一` (yi1) and `不` (bu4): before a 4th tone they become 2 (`一定` 2 4,
     `不是` 2 4); `一` before a 1st, 2nd or 3rd tone becomes 4 (`一起` 4 3).
     They stay as they are at the end of the word, when the dictionary makes
     them neutral, in the ordinal `第一`, in `一一`, as the last digit of a
     numeral (`十一`, `三十一度`), and before a neutral tone. Between two
     identical characters (`看一看`, `好不好`) they become neutral.
  2. Third tone: 3-3 becomes 2-3, applied right to left inside the word, each
     step seeing the tone already changed on its right: 3-3-3 gives 3-2-3
     and 3-3-3-3 gives 2-3-2-3 (`岂有此理` 2 3 2 3). A 3 before a neutral
     tone stays 3.

  The `一`/`不` rules need the characters (`yi1` may be `衣`, `医`, `一`...):
  pass `hanzi=`. Without characters they are not applied, and only the
  third-tone rule is.

The rules are applied mechanically to one word (or a short phrase treated as
one): no phrasing, no speaking rate, and no raising of a 3 before a neutral
tone that comes from a 3 (`想想`, `哪里`). How they compare with the
`surface` tones of recorded word lists: the documentation's page on words.

Tone marks are read through Unicode decomposition (NFD) and the syllable
table. `keras_tone.hanzi.read_hanzi` turns a text in characters into
expected syllables with these rules.

Example:
    >>> from keras_tone.pinyin import expected_tones
    >>> word = expected_tones("ni3 hao3")
    >>> print([(s.pinyin, s.surface) for s in word])
    [('ni3', 2), ('hao3', 3)]
    >>> word = expected_tones("yi1 ding4", hanzi="一定")
    >>> print([s.surface for s in word])
    [2, 4]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Tone numbers: 1-4, and 5 for the neutral tone.
TONES = (1, 2, 3, 4, 5)

#: Names of the sandhi rules that `expected_tones` reports per syllable.
RULE_YI = "yi"  # 一 before a 4th tone -> 2, before 1/2/3 -> 4
RULE_BU = "bu"  # 不 before a 4th tone -> 2
RULE_REDUPLICATION = "reduplication"  # 一/不 between identical characters -> neutral
RULE_THIRD_TONE = "third-tone"  # 3-3 -> 2-3

# The syllables of Standard Mandarin (ü written v), by initial, plus a few
# rare ones found in dictionaries (cei, den, fiao, kei, nou, rua, sei, tei...)
# and the interjections m, n, ng, hm, hng.
_SYLLABLE_TABLE = """
a ai an ang ao e ei en eng er o ou
yi ya yan yang yao ye yin ying yo yong you yu yuan yue yun
wu wa wai wan wang wei wen weng wo
ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu
pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu
fa fan fang fei fen feng fiao fo fou fu
da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du
duan dui dun duo
ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou
nu nuan nun nuo nv nve
la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou
lu luan lun luo lv lve lvn
ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo
ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo
ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan
zhuang zhui zhun zhuo
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang
chui chun chuo
sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang
shui shun shuo
ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun zuo
ca cai can cang cao ce cei cen ceng ci cong cou cu cuan cui cun cuo
sa sai san sang sao se sei sen seng si song sou su suan sui sun suo
m n ng hm hng
"""

#: Every syllable `parse_pinyin` accepts (toneless, ü written v).
SYLLABLES = frozenset(_SYLLABLE_TABLE.split())

# Spellings accepted on input and what they mean: ü as v, u: (CC-CEDICT) or
# ü, and the common lue/nue for lüe/nüe.
_RESPELL = {"lue": "lve", "nue": "nve"}

# Tone marks as combining characters: input is decomposed (NFD) first, so
# "ǎ" is read as "a" + U+030C and "ǚ" as "u" + U+0308 + U+030C.
_COMBINING = {"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4}

_LONGEST = max(len(s) for s in SYLLABLES) + 1  # + an erhua r

# 一 keeps its citation tone after these: the ordinal 第一, 一一, and as a numeral's last
# digit (十一, 二十一, 一百零一).
_BEFORE_PLAIN_YI = frozenset("第一二三四五六七八九十零〇百千万亿两")


@dataclass(frozen=True)
class Syllable:
    """One syllable of a reading.

    Attributes:
        syllable: the toneless syllable, lower case, ü written `v`, an erhua
            `r` kept at the end (`"nv"`, `"hao"`, `"dianr"`).
        tone: the citation tone, 1-4, or 5 for the neutral tone.
    """

    syllable: str
    tone: int

    @property
    def pinyin(self) -> str:
        """The syllable with its tone digit, e.g. `"hao3"` (`"dianr3"` for erhua)."""
        return f"{self.syllable}{self.tone}"

    def __str__(self) -> str:
        return self.pinyin


@dataclass(frozen=True)
class ExpectedSyllable:
    """One syllable of a word, with the tone it is expected to be said with.

    Attributes:
        syllable: the toneless syllable (ü written `v`).
        pinyin: the citation reading with its tone digit, e.g. `"hao3"`.
        citation: the dictionary tone, 1-5 (5 = neutral).
        surface: the tone expected in speech after tone sandhi, 1-5.
        hanzi: the character, when characters were given; else `None`.
        rule: the sandhi rule that changed the tone (`"yi"`, `"bu"`,
            `"reduplication"`, `"third-tone"`), or `None` if unchanged.
    """

    syllable: str
    pinyin: str
    citation: int
    surface: int
    hanzi: str | None = None
    rule: str | None = None


def parse_pinyin(pinyin: str | Sequence[str]) -> list[Syllable]:
    """Read a pinyin reading into syllables with their citation tones.

    Accepted, case-insensitively: tone digits after each syllable
    (`"ni3 hao3"`, `"ni3hao3"`; `5`, `0` or no digit for the neutral tone)
    or tone marks (`"nǐ hǎo"`, `"nǐhǎo"`, unmarked = neutral); ü as `v`,
    `ü` or `u:` (and `lue`/`nue` for `lüe`/`nüe`); syllables separated by
    spaces, apostrophes or hyphens, or run together, in which case the
    split with the fewest syllables is taken (`"xian"` is one syllable,
    write `"xi'an"` or `"xi1an1"` for two). An erhua `r` stays on its
    syllable: `"dian3r"` or `"dianr3"` is one syllable `dianr`.

    Args:
        pinyin: the reading as one string, or a list of syllables.

    Returns:
        One `Syllable` per syllable, in order.

    Raises:
        ValueError: the reading is empty, a syllable is not a Mandarin
            syllable, a tone digit is not 0-5, or a syllable has both a
            tone mark and a digit or two tone marks; the message names the
            part it could not read.

    Example:
        >>> from keras_tone.pinyin import parse_pinyin
        >>> syllables = parse_pinyin("Nǐ hǎo")
        >>> print([s.pinyin for s in syllables])
        ['ni3', 'hao3']
        >>> syllables = parse_pinyin("lü4 shi1 men")
        >>> print([s.pinyin for s in syllables])
        ['lv4', 'shi1', 'men5']
    """
    if isinstance(pinyin, str):
        text = pinyin
    else:
        text = " ".join(str(part) for part in pinyin)
    syllables: list[Syllable] = []
    for token in re.split(r"[\s'’\-]+", text.strip()):
        if token:
            syllables.extend(_parse_token(token, original=text))
    if not syllables:
        raise ValueError(f"Expected a pinyin reading such as 'ni3 hao3'; received {pinyin!r}.")
    return syllables


def _parse_token(token: str, *, original: str) -> list[Syllable]:
    """Split one run of pinyin without separators into syllables."""
    # Normalise to letters + a tone (from a mark) per letter + digits.
    letters: list[str] = []
    marks: list[int] = []  # tone from a mark on this letter, 0 if none
    digits: dict[int, str] = {}  # a digit after letter index i-1 -> at position i
    token = token.lower().replace("u:", "v")
    token = re.sub(r"([0-5])r(?![a-z])", r"r\1", token)  # erhua "dian3r" -> "dianr3"
    for char in unicodedata.normalize("NFD", token):
        if char in _COMBINING:
            if not letters or marks[-1]:
                raise ValueError(_bad(original, token, "a tone mark with no vowel under it"))
            marks[-1] = _COMBINING[char]
            continue
        if char == "\u0308":  # diaeresis from a decomposed ü
            if letters and letters[-1] == "u":
                letters[-1] = "v"
                continue
            raise ValueError(_bad(original, token, "a diaeresis that is not on a u"))
        if "a" <= char <= "z":
            letters.append(char)
            marks.append(0)
        elif char.isdigit():
            if char not in "012345":
                raise ValueError(_bad(original, token, f"tone digit {char} (use 1-4, or 5 or 0)"))
            if not letters or len(letters) in digits:
                raise ValueError(_bad(original, token, "a tone digit that follows no syllable"))
            digits[len(letters)] = char
        else:
            raise ValueError(_bad(original, token, f"the character {char!r}"))
    word = "".join(letters)
    n = len(word)

    # Fewest syllables that cover the token: best[i] = (count, split) for word[:i].
    best: list[tuple[int, list[Syllable]] | None] = [None] * (n + 1)
    best[0] = (0, [])
    for start in range(n):
        if best[start] is None:
            continue
        for end in range(start + 1, min(n, start + _LONGEST) + 1):
            if any(i in digits for i in range(start + 1, end)):
                break  # a digit closes a syllable
            syllable = _syllable(word[start:end], marks[start:end], digits.get(end))
            if syllable is None:
                continue
            candidate = (best[start][0] + 1, best[start][1] + [syllable])
            if best[end] is None or candidate[0] < best[end][0]:
                best[end] = candidate
    if best[n] is None:
        raise ValueError(
            _bad(original, token, "no way to read it as Mandarin syllables (see keras_tone.pinyin)")
        )
    return best[n][1]


def _syllable(letters: str, marks: list[int], digit: str | None) -> Syllable | None:
    """A `Syllable` if `letters` (plus its marks and digit) is one, else None."""
    base = _RESPELL.get(letters, letters)
    if base not in SYLLABLES:
        if len(base) > 1 and base.endswith("r") and _RESPELL.get(base[:-1], base[:-1]) in SYLLABLES:
            base = _RESPELL.get(base[:-1], base[:-1]) + "r"  # erhua
            if base == "err":
                return None
        else:
            return None
    marked = [tone for tone in marks if tone]
    if len(marked) > 1 or (marked and digit is not None):
        return None
    if marked:
        tone = marked[0]
    elif digit is not None:
        tone = 5 if digit == "0" else int(digit)
    else:
        tone = 5
    return Syllable(base, tone)


def _bad(original: str, token: str, what: str) -> str:
    return (
        f"Cannot read the pinyin {original!r}: in {token!r}, {what}. Expected "
        "syllables with tone digits ('ni3 hao3', neutral as 5 or no digit) or "
        "tone marks ('nǐ hǎo'), ü written v, ü or u:."
    )


def sandhi(tones: Sequence[int], hanzi: str | None = None) -> list[int]:
    """The surface tones of one word from its citation tones (tone sandhi).

    The rules of this module's docstring: `一`/`不` first (only where
    `hanzi` says which syllables are `一` and `不`), then 3-3 -> 2-3 right to
    left.

    Args:
        tones: citation tones, 1-5 (5 = neutral), one per syllable.
        hanzi: the word's characters, one per syllable (whitespace ignored),
            or `None`: then the `一`/`不` rules are not applied.

    Returns:
        The surface tones, one per syllable.

    Raises:
        ValueError: a tone is not 1-5, or `hanzi` has a different number of
            characters than `tones`.

    Example:
        >>> from keras_tone.pinyin import sandhi
        >>> sandhi([3, 3, 3, 3])
        [2, 3, 2, 3]
        >>> sandhi([4, 1, 4, 2], hanzi="不知不觉")
        [4, 1, 4, 2]
        >>> sandhi([4, 1, 4, 4], hanzi="不卑不亢")
        [4, 1, 2, 4]
    """
    tones = list(tones)
    return [s for s, _ in _sandhi(tones, _characters(hanzi, len(tones)))]


def _sandhi(
    tones: list[int], chars: list[str] | None, words: Sequence[tuple[int, int]] | None = None
) -> list[tuple[int, str | None]]:
    """Surface tone and rule per syllable; `chars` aligned one per syllable or None.

    The 一/不 rules see the whole sequence; the third-tone rule applies within each
    `(start, stop)` of `words` (the whole sequence when None).
    """
    for i, tone in enumerate(tones):
        if isinstance(tone, bool) or tone not in TONES:
            raise ValueError(
                f"Tones must be 1-4, or 5 for the neutral tone; received {tone!r} "
                f"at syllable {i + 1} of {list(tones)}."
            )
    surface = list(tones)
    rules: list[str | None] = [None] * len(tones)
    last = len(tones) - 1
    if chars is not None:
        for i, char in enumerate(chars):
            citation = tones[i]
            if not ((char == "一" and citation == 1) or (char == "不" and citation == 4)):
                continue
            if i == last:
                continue  # word-final
            if char == "一" and (
                (i > 0 and chars[i - 1] in _BEFORE_PLAIN_YI) or chars[i + 1] == "一"
            ):
                continue  # ordinal 第一, a numeral's last digit (十一, 二十一), or 一一
            if 0 < i and chars[i - 1] == chars[i + 1]:
                surface[i], rules[i] = 5, RULE_REDUPLICATION  # 看一看, 好不好
            elif tones[i + 1] == 4:
                surface[i], rules[i] = 2, (RULE_YI if char == "一" else RULE_BU)
            elif char == "一" and tones[i + 1] in (1, 2, 3):
                surface[i], rules[i] = 4, RULE_YI
    for start, stop in words if words is not None else [(0, len(tones))]:
        _third_tone(surface, rules, start, stop)
    return list(zip(surface, rules, strict=True))


def _third_tone(surface: list[int], rules: list[str | None], start: int, stop: int) -> None:
    """3-3 -> 2-3 in place over `surface[start:stop]`, right to left."""
    for i in range(stop - 2, start - 1, -1):  # right to left, seeing the changed tone on the right
        if surface[i] == 3 and surface[i + 1] == 3:
            surface[i], rules[i] = 2, RULE_THIRD_TONE


def _characters(hanzi: str | None, count: int) -> list[str] | None:
    if hanzi is None:
        return None
    chars = [c for c in hanzi if not c.isspace()]
    if not chars:
        return None
    if len(chars) != count:
        raise ValueError(
            f"hanzi={''.join(chars)!r} has {len(chars)} characters for {count} "
            "syllables; give one character per syllable (or hanzi=None)."
        )
    return chars


def expected_tones(
    pinyin: str | Sequence[str] | Iterable[Syllable],
    hanzi: str | None = None,
) -> list[ExpectedSyllable]:
    """The citation and the expected spoken (surface) tone of each syllable of a word.

    Args:
        pinyin: the word's citation reading, in any form `parse_pinyin`
            accepts (`"ni3 hao3"`, `"nǐhǎo"`), or `Syllable`s.
        hanzi: the word's characters, one per syllable (an erhua `儿` after
            an erhua syllable such as `dian3r` is allowed); needed for the
            `一`/`不` rules, which are skipped when it is `None` (so
            `"yi1 ding4"` alone stays 1 4: `yi1` could be `医`).

    Returns:
        One `ExpectedSyllable` per syllable (`citation`, `surface`, `rule`).

    Raises:
        ValueError: the reading cannot be parsed, or `hanzi` does not have one
            character per syllable.

    Example:
        >>> from keras_tone.pinyin import expected_tones
        >>> for s in expected_tones("qi3 you3 ci3 li3", hanzi="岂有此理"):
        ...     print(s.hanzi, s.pinyin, s.citation, "->", s.surface, s.rule)
        岂 qi3 3 -> 2 third-tone
        有 you3 3 -> 3 None
        此 ci3 3 -> 2 third-tone
        理 li3 3 -> 3 None
    """
    if isinstance(pinyin, str) or (
        isinstance(pinyin, Sequence) and all(isinstance(p, str) for p in pinyin)
    ):
        syllables = parse_pinyin(pinyin)  # type: ignore[arg-type]
    else:
        syllables = list(pinyin)  # type: ignore[arg-type]
        if not syllables or not all(isinstance(s, Syllable) for s in syllables):
            raise ValueError(
                "expected_tones takes a pinyin string, a list of syllable strings or "
                f"of Syllable; received {pinyin!r}."
            )
    chars = _align_hanzi(hanzi, syllables)
    changed = _sandhi([s.tone for s in syllables], chars)
    return [
        ExpectedSyllable(
            syllable=s.syllable,
            pinyin=s.pinyin,
            citation=s.tone,
            surface=surface,
            hanzi=None if chars is None else chars[i],
            rule=rule,
        )
        for i, (s, (surface, rule)) in enumerate(zip(syllables, changed, strict=True))
    ]


def _align_hanzi(hanzi: str | None, syllables: list[Syllable]) -> list[str] | None:
    """One character per syllable; an erhua 儿 joins its syllable's character."""
    if hanzi is None:
        return None
    chars = [c for c in hanzi if not c.isspace()]
    if not chars:
        return None
    aligned: list[str] = []
    i = 0
    for syllable in syllables:
        if i >= len(chars):
            break
        char = chars[i]
        i += 1
        if syllable.syllable.endswith("r") and syllable.syllable != "er":
            if i < len(chars) and chars[i] == "儿":
                char += "儿"
                i += 1
        aligned.append(char)
    if i != len(chars) or len(aligned) != len(syllables):
        raise ValueError(
            f"hanzi={hanzi!r} has {len(chars)} characters for {len(syllables)} "
            f"syllables ({' '.join(s.pinyin for s in syllables)}); give one character "
            "per syllable (or hanzi=None)."
        )
    return aligned


__all__ = [
    "SYLLABLES",
    "TONES",
    "ExpectedSyllable",
    "Syllable",
    "expected_tones",
    "parse_pinyin",
    "sandhi",
]
