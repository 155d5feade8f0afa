"""Word manifests: recordings of words with one expected tone per syllable.

A word manifest is a CSV file with the columns
`path,hanzi,pinyin,surface,speaker,sex`, one row per recording of one word
or short phrase (the format of `../shared/words`):

* `path`: the audio file, relative to the CSV's folder;
* `hanzi`: the characters, one per syllable, or empty when unknown;
* `pinyin`: the citation reading, syllables with tone digits
  (`"ni3 hao3"`; anything `keras_tone.pinyin.parse_pinyin` reads);
* `surface`: the tones expected in the audio after tone sandhi, one digit
  1-5 per syllable, space-separated (`"2 3"`);
* `speaker`, `sex` (sex may be empty).

Extra columns are ignored. Syllable manifests (`path,syllable,tone,...`)
are read by `keras_tone.datasets.read_manifest`.

Example:
    >>> import os, tempfile
    >>> from keras_tone.words import read_word_manifest
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "manifest.csv"), "w", encoding="utf-8") as f:
    ...     _ = f.write("path,hanzi,pinyin,surface,speaker,sex\\n")
    ...     _ = f.write("clips/1.wav,你好,ni3 hao3,2 3,learner_1,F\\n")
    >>> row = read_word_manifest(os.path.join(folder, "manifest.csv"))[0]
    >>> row.pinyin, row.citation, row.surface, row.path.name
    (('ni3', 'hao3'), (3, 3), (2, 3), '1.wav')
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from keras_tone.pinyin import TONES, _align_hanzi, parse_pinyin

#: Columns every word manifest must have, in any order (extra columns are ignored).
WORD_MANIFEST_COLUMNS = ("path", "hanzi", "pinyin", "surface", "speaker", "sex")


@dataclass(frozen=True)
class WordRow:
    """One recording of a word manifest.

    Attributes:
        path: the audio file, absolute (resolved against the CSV's folder).
        hanzi: the characters as written in the manifest (may be `""`).
        syllables: the toneless syllables (ü written `v`), e.g. `("ni", "hao")`.
        pinyin: the citation reading per syllable, e.g. `("ni3", "hao3")`.
        citation: the citation tones, 1-5 (5 = neutral).
        surface: the tones expected in the audio, 1-5, one per syllable.
        speaker, sex: as in the manifest.
        line: the line of the CSV file this row comes from (the header is line 1).
    """

    path: Path
    hanzi: str
    syllables: tuple[str, ...]
    pinyin: tuple[str, ...]
    citation: tuple[int, ...]
    surface: tuple[int, ...]
    speaker: str
    sex: str
    line: int

    def __len__(self) -> int:
        return len(self.syllables)


def read_word_manifest(path: str | os.PathLike) -> list[WordRow]:
    """Parse and check a word manifest (`path,hanzi,pinyin,surface,speaker,sex`).

    Every row is checked: the pinyin must parse, `surface` must hold one tone
    1-5 per syllable of `pinyin`, and `hanzi`, when given, one character per
    syllable. Audio files are not opened.

    Args:
        path: the CSV file (UTF-8, a byte-order mark is allowed).

    Returns:
        One `WordRow` per row, in file order.

    Raises:
        FileNotFoundError: there is no file at `path`.
        ValueError: a column is missing, or a row has an empty `path`,
            `pinyin`, `surface` or `speaker`, a reading that does not parse,
            a surface tone that is not 1-5, or counts that do not match. The
            message names the file and the line.

    Example:
        >>> from keras_tone.words import read_word_manifest
        >>> rows = read_word_manifest("words/manifest.csv")  # doctest: +SKIP
        >>> rows[0].surface  # doctest: +SKIP
        (2, 4)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No word manifest at {str(path)!r}. A word manifest is a CSV file with "
            f"the columns {','.join(WORD_MANIFEST_COLUMNS)}."
        )
    rows: list[WordRow] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [column for column in WORD_MANIFEST_COLUMNS if column not in header]
        if missing:
            hint = ""
            if "syllable" in header and "tone" in header:
                hint = (
                    " This looks like a syllable manifest: read it with "
                    "keras_tone.datasets.read_manifest."
                )
            raise ValueError(
                f"Word manifest {str(path)!r} lacks the column(s) {', '.join(missing)}; "
                f"expected the header {','.join(WORD_MANIFEST_COLUMNS)}, received "
                f"{','.join(header) or '(empty file)'}.{hint}"
            )
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num
            where = f"Word manifest {str(path)!r}, line {line}"
            values = {key: (record.get(key) or "").strip() for key in WORD_MANIFEST_COLUMNS}
            empty = [key for key in ("path", "pinyin", "surface", "speaker") if not values[key]]
            if empty:
                raise ValueError(f"{where}: empty {', '.join(empty)}.")
            try:
                syllables = parse_pinyin(values["pinyin"])
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from error
            surface = _surface(values["surface"], where)
            if len(surface) != len(syllables):
                raise ValueError(
                    f"{where}: surface {values['surface']!r} has {len(surface)} tones "
                    f"but pinyin {values['pinyin']!r} has {len(syllables)} syllables; "
                    "give one surface tone per syllable."
                )
            if values["hanzi"]:
                try:
                    _align_hanzi(values["hanzi"], syllables)
                except ValueError as error:
                    raise ValueError(f"{where}: {error}") from error
            rows.append(
                WordRow(
                    path=(path.parent / values["path"]).resolve(),
                    hanzi=values["hanzi"],
                    syllables=tuple(s.syllable for s in syllables),
                    pinyin=tuple(s.pinyin for s in syllables),
                    citation=tuple(s.tone for s in syllables),
                    surface=surface,
                    speaker=values["speaker"],
                    sex=values["sex"],
                    line=line,
                )
            )
    return rows


def _surface(text: str, where: str) -> tuple[int, ...]:
    tones = []
    for part in text.split():
        tone = int(part) if part.isdigit() else -1
        if tone not in TONES:
            raise ValueError(
                f"{where}: surface tone {part!r} in {text!r} is not 1-4, or 5 for the "
                "neutral tone; write one digit per syllable, space-separated ('2 3')."
            )
        tones.append(tone)
    return tuple(tones)


__all__ = ["WORD_MANIFEST_COLUMNS", "WordRow", "read_word_manifest"]
