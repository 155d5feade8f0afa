"""Word manifests: recordings of words with one expected tone per syllable.

A word manifest is a CSV file with the columns
`path,hanzi,pinyin,surface,speaker,sex`, one row per recording of one word
or short phrase:

* `path`: the audio file, relative to the CSV's folder;
* `hanzi`: the characters, one per syllable, or empty when unknown;
* `pinyin`: the citation reading, syllables with tone digits
  (`"ni3 hao3"`; anything `keras_tone.pinyin.parse_pinyin` reads);
* `surface`: the tones expected in the audio after tone sandhi, one digit
  1-5 per syllable, space-separated (`"2 3"`) or run together (`"23"`);
* `speaker`, `sex` (sex may be empty).

Extra columns are ignored. Syllable manifests (`path,syllable,tone,...`)
are read by `keras_tone.datasets.read_manifest`; `is_word_manifest` tells
the two apart by their header.

`load_word_corpus` decodes the recordings of word manifests once (cached
like `keras_tone.datasets.load_corpus`), cuts each into the syllables of
its pinyin (`keras_tone.segmentation.segment`) and returns a `WordCorpus`:
one clip per syllable, labelled with its surface tone, and the word it
comes from.

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
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone.config import SAMPLE_RATE
from keras_tone.datasets import (
    Corpus,
    audio_path,
    csv_records,
    decode_cached,
    default_cache_dir,
)
from keras_tone.pinyin import TONES, _align_hanzi, parse_pinyin

logger = logging.getLogger(__name__)

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


def _header(path: Path) -> list[str]:
    """The column names of a CSV file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def read_word_manifest(
    path: str | os.PathLike, *, allow_outside_paths: bool = False
) -> list[WordRow]:
    """Parse and check a word manifest (`path,hanzi,pinyin,surface,speaker,sex`).

    Every row is checked: the pinyin must parse, `surface` must hold one tone
    1-5 per syllable of `pinyin`, and `hanzi`, when given, one character per
    syllable. Audio files are not opened.

    Args:
        path: the CSV file (UTF-8, a byte-order mark is allowed).
        allow_outside_paths: accept rows whose audio path is absolute or
            leads out of the manifest's folder
            (`keras_tone.datasets.audio_path`).

    Returns:
        One `WordRow` per row, in file order.

    Raises:
        FileNotFoundError: there is no file at `path`.
        ValueError: a column is missing, or a row has an empty `path`,
            `pinyin`, `surface` or `speaker`, a reading that does not parse,
            a surface tone that is not 1-5, counts that do not match, or a
            path outside the manifest's folder. The message names the file
            and the line.

    Example:
        >>> from keras_tone.words import read_word_manifest
        >>> rows = read_word_manifest("words/manifest.csv")  # doctest: +SKIP
        >>> rows[0].surface  # doctest: +SKIP
        (2, 4)
    """
    path = Path(path)
    hint = ""
    if path.is_file() and {"syllable", "tone"} <= set(_header(path)):
        hint = (
            " This looks like a syllable manifest: read it with keras_tone.datasets.read_manifest."
        )
    rows: list[WordRow] = []
    for line, values in csv_records(path, WORD_MANIFEST_COLUMNS, kind="Word manifest", hint=hint):
        where = f"Word manifest {str(path)!r}, line {line}"
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
                path=audio_path(
                    path, values["path"], where=where, allow_outside_paths=allow_outside_paths
                ),
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
    parts = list(text) if text.isdigit() else text.split()  # "444234" or "4 4 4 2 3 4"
    for part in parts:
        tone = int(part) if part.isdigit() else -1
        if tone not in TONES:
            raise ValueError(
                f"{where}: surface tone {part!r} in {text!r} is not 1-4, or 5 for the "
                "neutral tone; write one digit per syllable, space-separated ('2 3')."
            )
        tones.append(tone)
    return tuple(tones)


def is_word_manifest(path: str | os.PathLike) -> bool:
    """Whether a CSV file's header has every column of a word manifest.

    Only the header is read; `read_word_manifest` checks the rows.

    Raises:
        FileNotFoundError: there is no file at `path`.

    Example:
        >>> import os, tempfile
        >>> from keras_tone.words import is_word_manifest
        >>> path = os.path.join(tempfile.mkdtemp(), "manifest.csv")
        >>> _ = open(path, "w").write("path,syllable,tone,speaker,sex\\n")
        >>> is_word_manifest(path)
        False
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No manifest at {str(path)!r}.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = {name.strip() for name in next(csv.reader(handle), [])}
    return set(WORD_MANIFEST_COLUMNS) <= header


@dataclass
class WordCorpus:
    """The syllables of decoded word recordings, each with its word.

    Attributes:
        syllables: a `keras_tone.datasets.Corpus` with one clip per syllable:
            `labels` and `tones` are the surface tones (5 = neutral, class
            index 4), `syllables` the citation pinyin (`"hao3"`), `paths`,
            `speakers` and `sexes` those of the word; its `unreadable` lists
            the words that could not be decoded or cut, with the reason.
        words: the `WordRow` of each word that was cut, in manifest order.
        word: int `[syllables]`, the index in `words` of each syllable's word.
        position: int `[syllables]`, the syllable's position in its word, from 1.
        citation: int `[syllables]`, its citation tone (1-5).
        segments: float `[syllables, 2]`, its start and end in seconds in
            the word's recording.
    """

    syllables: Corpus
    words: list[WordRow]
    word: np.ndarray
    position: np.ndarray
    citation: np.ndarray
    segments: np.ndarray

    def __len__(self) -> int:
        return len(self.syllables)

    def select(self, mask: np.ndarray) -> WordCorpus:
        """The words that hold a syllable `mask` picks, with all their syllables."""
        words = np.unique(self.word[mask])
        keep = np.isin(self.word, words)
        renumber = np.full(len(self.words), -1, np.int64)
        renumber[words] = np.arange(len(words))
        return WordCorpus(
            syllables=self.syllables.select(keep),
            words=[self.words[int(i)] for i in words],
            word=renumber[self.word[keep]],
            position=self.position[keep],
            citation=self.citation[keep],
            segments=self.segments[keep],
        )


def load_word_corpus(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    sample_rate: int = SAMPLE_RATE,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    allow_outside_paths: bool = False,
) -> WordCorpus:
    """Decode the recordings of word manifests and cut them into their syllables.

    Each recording is decoded once (`keras_tone.datasets.decode_cached`:
    mono, resampled, cached per manifest and rate) and cut into as many
    syllables as its pinyin has, by `keras_tone.segmentation.segment` and
    `keras_tone.audio.cut`, the way `keras_tone.score` cuts a
    learner's word. A recording that cannot be decoded, or that `segment`
    refuses (silent, too short for its syllables), is left out, logged and
    listed with the reason.

    Args:
        manifests: a word manifest path or a list of them.
        sample_rate: sampling rate of the clips, in Hz.
        cache_dir: folder of the decoded-audio cache; `None` for
            `keras_tone.datasets.default_cache_dir()`.
        progress: show progress bars while decoding and cutting.
        allow_outside_paths: accept audio paths outside each manifest's
            folder (`read_word_manifest`).

    Returns:
        A `WordCorpus`.

    Raises:
        FileNotFoundError: a manifest, or an audio file it lists, is missing.
        ValueError: a manifest is malformed (`read_word_manifest`).

    Example:
        >>> from keras_tone.words import load_word_corpus
        >>> corpus = load_word_corpus("words/manifest.csv")  # doctest: +SKIP
        >>> corpus.syllables.tones[:2], corpus.position[:2]  # doctest: +SKIP
        (array([2, 4]), array([1, 2]))
    """
    from keras_tone.audio import cut
    from keras_tone.segmentation import segment

    if isinstance(manifests, (str, os.PathLike)):
        manifests = [manifests]
    manifests = [Path(m) for m in manifests]
    if not manifests:
        raise ValueError("load_word_corpus received no manifests.")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    clips: list[np.ndarray] = []
    words: list[WordRow] = []
    spans: list[tuple[float, float]] = []
    unreadable: list[tuple[str, str]] = []
    for manifest in manifests:
        rows = read_word_manifest(manifest, allow_outside_paths=allow_outside_paths)
        decoded, errors = decode_cached(manifest, rows, sample_rate, cache, progress)
        pairs: Iterable = zip(rows, decoded, errors, strict=True)
        if progress:
            from tqdm.auto import tqdm

            name = manifest.parent.name
            pairs = tqdm(pairs, total=len(rows), desc=f"Cutting {name}", unit="word")
        for row, waveform, error in pairs:
            if not error:
                try:
                    segments = segment(waveform, sample_rate, len(row))
                except ValueError as failure:
                    error = f"cannot be cut into {len(row)} syllables: {failure}"
            if error:
                unreadable.append((str(row.path), " ".join(error.split())))
                continue
            words.append(row)
            clips.extend(cut(waveform, sample_rate, segments))
            spans.extend(segments)
    for path, error in unreadable:
        logger.warning("Left out %s, which cannot be read: %s", path, error)
    return WordCorpus(
        **_syllable_fields(words, clips, sample_rate, unreadable),
        segments=np.asarray(spans, dtype=np.float64).reshape(-1, 2),
    )


def _syllable_fields(
    rows: list[WordRow], clips: list[np.ndarray], sample_rate: int, unreadable: list
) -> dict[str, Any]:
    """The `WordCorpus` fields that the rows and their syllables' clips (in order) decide."""
    lengths = [len(row) for row in rows]

    def per_syllable(values: Iterable, dtype: type) -> np.ndarray:
        return np.repeat(np.asarray(list(values), dtype=dtype), lengths)

    tones = np.asarray([t for row in rows for t in row.surface], dtype=np.int64)
    syllables = Corpus(
        waveforms=clips,
        labels=tones - 1,
        tones=tones,
        speakers=per_syllable((row.speaker for row in rows), str),
        sexes=per_syllable((row.sex for row in rows), str),
        syllables=np.asarray([p for row in rows for p in row.pinyin], dtype=str),
        paths=per_syllable((str(row.path) for row in rows), str),
        sample_rate=int(sample_rate),
        classes=5,
        unreadable=unreadable,
    )
    return {
        "syllables": syllables,
        "words": rows,
        "word": np.repeat(np.arange(len(rows)), lengths),
        "position": np.concatenate([np.arange(1, n + 1) for n in lengths] or [np.zeros(0, int)]),
        "citation": np.asarray([t for row in rows for t in row.citation], dtype=np.int64),
    }


__all__ = [
    "WORD_MANIFEST_COLUMNS",
    "WordCorpus",
    "WordRow",
    "is_word_manifest",
    "load_word_corpus",
    "read_word_manifest",
]
