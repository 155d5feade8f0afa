"""Characters to expected syllables: a word, a sentence or a paragraph as it is written.

`read_hanzi` reads a text in Chinese characters, with punctuation, spaces
between words and numbers in digits, into the `keras_tone.pinyin`
`ExpectedSyllable`s a speaker is expected to say: pypinyin's dictionary
readings, then the sandhi rules of `keras_tone.pinyin`. A dictionary
misses some neutral tones (`休息 xiu1 xi5`) and cannot know every
polyphone: give the pinyin when you have it.

Example:
    >>> from keras_tone.hanzi import read_hanzi
    >>> print(" ".join(s.pinyin for s in read_hanzi("一起去")))
    yi1 qi3 qu4
"""

from __future__ import annotations

import itertools
import re

from keras_tone.pinyin import ExpectedSyllable, Syllable, _sandhi, parse_pinyin


def read_hanzi(text: str) -> list[ExpectedSyllable]:
    """The expected syllables of a text in characters: a word, a sentence or a paragraph.

    Readings come from pypinyin's dictionary (its phrases settle most
    polyphones: `银行 yin2 hang2`, `行走 xing2 zou3`), with `一` and `不` put
    back to their citation tones; then the sandhi rules of this module:
    `一`/`不` look at the next syllable of the phrase, and 3-3 -> 2-3
    applies within each word when the text separates words by spaces
    (`"我们 一起 去 北京"`), else within each phrase, punctuation to
    punctuation. Numbers written in digits are read out: integers up to
    eight digits as cardinals (`29` 二十九, `105` 一百零五; `2` is always
    二, never 两), longer ones, those with a leading zero and four-digit years before `年`
    digit by digit; a decimal point is `点` and `%` is `百分之`.

    Args:
        text: characters, with any punctuation, spaces and digits.

    Returns:
        One `ExpectedSyllable` per syllable, with its character in `hanzi`.

    Raises:
        ImportError: pypinyin is not installed.
        ValueError: the text has no characters, or Latin letters (give
            their pinyin instead); the message names them.

    Example:
        >>> from keras_tone.hanzi import read_hanzi
        >>> print([(s.pinyin, s.surface) for s in read_hanzi("你好，一起去!")])
        [('ni3', 2), ('hao3', 3), ('yi1', 4), ('qi3', 3), ('qu4', 4)]
        >>> print(" ".join(s.pinyin for s in read_hanzi("设定29度")))
        she4 ding4 er4 shi2 jiu3 du4
    """
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError as error:  # a dependency of keras_tone; missing only in odd installs
        raise ImportError("Reading characters needs pypinyin: `pip install pypinyin`.") from error
    phrases = _phrases(_spell_numbers(text), text)
    out: list[ExpectedSyllable] = []
    for words in phrases:
        chars = [c for word in words for c in word]
        readings = lazy_pinyin("".join(chars), style=Style.TONE3, neutral_tone_with_five=True)
        syllables = [parse_pinyin(reading)[0] for reading in readings]
        syllables = [
            Syllable(s.syllable, {"一": 1, "不": 4}.get(c, s.tone) if s.tone != 5 else 5)
            for s, c in zip(syllables, chars, strict=True)
        ]
        bounds = [0, *itertools.accumulate(len(word) for word in words)]
        spans = list(zip(bounds[:-1], bounds[1:], strict=False))
        changed = _sandhi([s.tone for s in syllables], chars, spans if len(words) > 1 else None)
        out.extend(
            ExpectedSyllable(s.syllable, s.pinyin, s.tone, surface, char, rule)
            for s, char, (surface, rule) in zip(syllables, chars, changed, strict=True)
        )
    if not out:
        raise ValueError(f"Expected a text in Chinese characters. Received: text={text!r}")
    return out


_DIGITS = "零一二三四五六七八九"


def _is_hanzi(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char == "〇"


def _phrases(text: str, original: str) -> list[list[str]]:
    """Phrases (split at punctuation), each a list of words (split at spaces)."""
    letters = sorted({c for c in text if c.isascii() and c.isalpha()})
    if letters:
        raise ValueError(
            f"Cannot read the Latin letters {''.join(letters)!r} as characters; give the "
            f"reading in pinyin instead. Received: text={original!r}"
        )
    phrases: list[list[str]] = [[]]
    word = ""
    for char in text + "。":
        if _is_hanzi(char):
            word += char
            continue
        if word:
            phrases[-1].append(word)
            word = ""
        if not char.isspace() and phrases[-1]:
            phrases.append([])
    return [p for p in phrases if p]


def _spell_numbers(text: str) -> str:
    """Numbers in digits (and %) written out in characters (see `read_hanzi`)."""

    def spell(match: re.Match) -> str:
        whole, fraction, percent = match.group(1), match.group(2), match.group(3)
        year = len(whole) == 4 and text[match.end() : match.end() + 1] == "年"
        if year or len(whole) > 8 or (len(whole) > 1 and whole[0] == "0"):
            spoken = "".join(_DIGITS[int(d)] for d in whole)
        else:
            spoken = _cardinal(int(whole))
        if fraction:
            spoken += "点" + "".join(_DIGITS[int(d)] for d in fraction)
        return ("百分之" + spoken) if percent else spoken

    return re.sub(r"(\d+)(?:\.(\d+))?(%|％)?", spell, text)


def _cardinal(number: int) -> str:
    """An integer below 10**8 in characters: 10 十, 105 一百零五, 20030 二万零三十."""
    if number == 0:
        return "零"

    def below_10000(n: int) -> str:
        out, zero = "", False
        for unit, value in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
            digit, n = divmod(n, value)
            if digit:
                out += ("零" if zero and out else "") + _DIGITS[digit] + unit
                zero = False
            else:
                zero = True
        return out

    high, low = divmod(number, 10000)
    spoken = (below_10000(high) + "万" if high else "") + (
        ("零" if high and low < 1000 and low else "") + below_10000(low) if low else ""
    )
    return spoken[1:] if spoken.startswith("一十") else spoken


__all__ = ["read_hanzi"]
