"""Sentence manifests: recordings of sentences, one expected tone per syllable.

A sentence manifest is a word manifest (`keras_tone.words`:
`path,hanzi,pinyin,surface,speaker,sex`, read by the same reader) whose
recordings hold sentences, with an optional `partial` column (1 where the
labels cover only some of the syllables the recording holds, e.g. where a
corpus could not align a word). Syllable times, when a corpus has them,
come in a second CSV file, `syllables.csv` beside it by default:
`path,start,end,index` (seconds; `index` counts from 0 within the
sentence; other columns are ignored).

`load_sentence_corpus` decodes each recording once (cached), finds the
span of every syllable, and returns a `SentenceCorpus`: per syllable its
clip, surface tone, position and sentence, and per sentence its whole
recording, so that a model can also look at a syllable's neighbours
(`SentenceCorpus.neighbours`).

Where the spans come from (`spans=`):

* `"aligned"`: `keras_tone.alignment.align` on the recording and its
  pinyin; a `partial` sentence, whose pinyin misses syllables of the
  recording, cannot be aligned and gets its given times instead (or is
  left out with `partial="skip"`);
* `"given"`: the times of the syllable file as they are;
* `"corrected"`: the given times moved by `shift` seconds (a corpus whose
  aligner put every boundary early, see `docs/sentences.md`).

Example:
    >>> import os, tempfile
    >>> from keras_tone.sentences import read_syllable_times
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "syllables.csv"), "w", encoding="utf-8") as f:
    ...     _ = f.write("path,start,end,index\\n")
    ...     _ = f.write("a.wav,0.40,0.71,0\\na.wav,0.71,0.95,1\\n")
    >>> read_syllable_times(os.path.join(folder, "syllables.csv"))[
    ...     os.path.join(folder, "a.wav")].tolist()
    [[0.4, 0.71], [0.71, 0.95]]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_tone.config import SAMPLE_RATE
from keras_tone.datasets import csv_records, decode_cached, default_cache_dir
from keras_tone.words import WordCorpus, WordRow, _header, _syllable_fields, read_word_manifest

logger = logging.getLogger(__name__)

#: Columns a syllable-times file must have (extra columns are ignored).
SYLLABLE_TIME_COLUMNS = ("path", "start", "end", "index")

#: Where `load_sentence_corpus` can take each syllable's span from.
SPAN_SOURCES = ("aligned", "given", "corrected")


def read_syllable_times(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The syllable times of a syllable-times file, `{absolute audio path: [syllables, 2]}`.

    Rows are ordered by `index` within each recording; paths are resolved
    against the file's folder, like a manifest's.

    Raises:
        FileNotFoundError: there is no file at `path`.
        ValueError: a column is missing, a time or index is not a number,
            a syllable ends before it starts, or a recording repeats an
            index (the message names the line).
    """
    path = Path(path)
    found: dict[str, list[tuple[int, float, float]]] = {}
    for line, values in csv_records(path, SYLLABLE_TIME_COLUMNS, kind="Syllable-times file"):
        where = f"Syllable-times file {str(path)!r}, line {line}"
        try:
            index, start, end = int(values["index"]), float(values["start"]), float(values["end"])
        except ValueError as error:
            raise ValueError(
                f"{where}: start and end must be seconds and index an integer. "
                f"Received: start={values['start']!r}, end={values['end']!r}, "
                f"index={values['index']!r}"
            ) from error
        if not 0.0 <= start < end:
            raise ValueError(f"{where}: needs 0 <= start < end. Received: {start}, {end}")
        key = str((path.parent / values["path"]).resolve())
        if any(i == index for i, _, _ in found.get(key, [])):
            raise ValueError(f"{where}: index {index} of {values['path']!r} appears twice.")
        found.setdefault(key, []).append((index, start, end))
    return {
        key: np.asarray([(s, e) for _, s, e in sorted(rows)], dtype=np.float64)
        for key, rows in found.items()
    }


@dataclass(frozen=True)
class SentenceRow:
    """One recording of a sentence manifest: its `WordRow` and whether its labels are partial."""

    row: WordRow
    partial: bool


def read_sentence_manifest(path: str | os.PathLike) -> list[SentenceRow]:
    """Parse a sentence manifest: a word manifest with an optional `partial` column (0/1).

    Raises:
        FileNotFoundError, ValueError: as `keras_tone.words.read_word_manifest`,
            and for a `partial` value other than empty, 0 or 1.
    """
    path = Path(path)
    rows = read_word_manifest(path)
    if "partial" not in _header(path):
        return [SentenceRow(row, False) for row in rows]
    flags = []
    for line, values in csv_records(path, ("partial",), kind="Sentence manifest"):
        if values["partial"] not in ("", "0", "1"):
            raise ValueError(
                f"Sentence manifest {str(path)!r}, line {line}: partial must be 0 or 1. "
                f"Received: partial={values['partial']!r}"
            )
        flags.append(values["partial"] == "1")
    return [SentenceRow(row, flag) for row, flag in zip(rows, flags, strict=True)]


@dataclass
class SentenceCorpus(WordCorpus):
    """The syllables of decoded sentence recordings, with the recordings themselves.

    A `keras_tone.words.WordCorpus` (`words` holds one row per sentence,
    `word` the sentence of each syllable, `segments` the span its clip was
    cut from, margins excluded) with:

    Attributes:
        recordings: the decoded recording of each sentence (mono, at the
            corpus' rate), for models that look at a syllable's neighbours.
        given: float `[syllables, 2]`, the syllable times of the syllable
            file (NaN where there are none).
        source: str `[syllables]`, where each span comes from: `"aligned"`,
            `"given"` or `"corrected"`.
        margin: seconds of context added on either side of each clip.
    """

    recordings: list[np.ndarray] | None = None
    given: np.ndarray | None = None
    source: np.ndarray | None = None
    margin: float = 0.0

    def neighbours(self, index: int, reach: int = 1) -> np.ndarray:
        """Spans `[2 * reach + 1, 2]` of a syllable and of `reach` syllables either side.

        Spans are seconds in the sentence's recording (`recordings[word[index]]`);
        rows beyond the sentence's first or last syllable are NaN.

        Example:
            >>> from keras_tone.sentences import load_sentence_corpus
            >>> corpus = load_sentence_corpus("sentences.csv")  # doctest: +SKIP
            >>> corpus.neighbours(0)  # doctest: +SKIP
            array([[ nan,  nan], [0.45, 0.74], [0.74, 0.98]])
        """
        sentence = self.word[index]
        out = np.full((2 * reach + 1, 2), np.nan)
        for row, other in enumerate(range(index - reach, index + reach + 1)):
            if 0 <= other < len(self.word) and self.word[other] == sentence:
                out[row] = self.segments[other]
        return out

    def select(self, mask: np.ndarray) -> SentenceCorpus:
        """The sentences that hold a syllable `mask` picks, with all their syllables."""
        sentences = np.unique(self.word[mask])
        keep = np.isin(self.word, sentences)
        words = super().select(mask)
        return SentenceCorpus(
            **{name: getattr(words, name) for name in WordCorpus.__dataclass_fields__},
            recordings=[self.recordings[int(i)] for i in sentences] if self.recordings else None,
            given=None if self.given is None else self.given[keep],
            source=None if self.source is None else self.source[keep],
            margin=self.margin,
        )


def load_sentence_corpus(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    spans: str = "aligned",
    times: str | os.PathLike | None = None,
    shift: float = 0.0,
    partial: str = "given",
    margin: float = 0.0,
    sample_rate: int = SAMPLE_RATE,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> SentenceCorpus:
    """Decode the recordings of sentence manifests and cut out every syllable.

    Args:
        manifests: a sentence manifest path or a list of them.
        spans: where the syllable spans come from: `"aligned"`
            (`keras_tone.alignment.align` on the pinyin), `"given"` (the
            syllable-times file) or `"corrected"` (those times plus
            `shift`). See the module docstring.
        times: the syllable-times file of the manifest(s); `None` for
            `syllables.csv` beside each manifest (optional with `"aligned"`).
        shift: seconds added to every given time for `"corrected"` spans,
            and for the given times a partial sentence falls back on.
        partial: what to do with `partial` sentences under `"aligned"`:
            `"given"` uses their (shifted) given times, `"skip"` leaves them out.
        margin: seconds of context added to each clip on either side (cut
            at the recording's edges); `segments` stay the syllables' own spans.
        sample_rate: sampling rate of the clips, in Hz.
        cache_dir: folder of the decoded-audio cache; `None` for
            `keras_tone.datasets.default_cache_dir()`.
        progress: show progress bars while decoding and aligning.

    Returns:
        A `SentenceCorpus`. Sentences that cannot be decoded or aligned,
        have no given times where they are needed, or whose given times do
        not have one span per syllable, are left out, logged and listed in
        `syllables.unreadable` with the reason.

    Raises:
        FileNotFoundError: a manifest, an audio file it lists, or a
            syllable-times file it needs, is missing.
        ValueError: an argument is not one of the values above, or a file
            is malformed.

    Example:
        >>> from keras_tone.sentences import load_sentence_corpus
        >>> corpus = load_sentence_corpus("aishell/sentences.csv", partial="skip")  # doctest: +SKIP
        >>> corpus.syllables.tones[:3], corpus.position[:3]  # doctest: +SKIP
        (array([4, 4, 4]), array([1, 2, 3]))
    """
    from keras_tone.alignment import align

    if spans not in SPAN_SOURCES:
        raise ValueError(f"spans must be one of {SPAN_SOURCES}. Received: spans={spans!r}")
    if partial not in ("given", "skip"):
        raise ValueError(f"partial must be 'given' or 'skip'. Received: partial={partial!r}")
    if not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be >= 0 seconds. Received: margin={margin!r}")
    if isinstance(manifests, (str, os.PathLike)):
        manifests = [manifests]
    manifests = [Path(m) for m in manifests]
    if not manifests:
        raise ValueError("load_sentence_corpus received no manifests.")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    kept: list[tuple[SentenceRow, np.ndarray, np.ndarray, np.ndarray, str]] = []
    unreadable: list[tuple[str, str]] = []
    for manifest in manifests:
        rows = read_sentence_manifest(manifest)
        times_path = Path(times) if times is not None else manifest.with_name("syllables.csv")
        given_times = {}
        if spans != "aligned" or times is not None or times_path.is_file():
            given_times = read_syllable_times(times_path)
        decoded, errors = decode_cached(
            manifest, [r.row for r in rows], sample_rate, cache, progress
        )
        items: Iterable = zip(rows, decoded, errors, strict=True)
        if progress:
            from tqdm.auto import tqdm

            items = tqdm(items, total=len(rows), desc=f"Spans of {manifest.name}", unit="sentence")
        for sentence, waveform, error in items:
            row = sentence.row
            given = given_times.get(str(row.path))
            if given is not None and len(given) != len(row):
                given, error = (
                    None,
                    error
                    or (f"its syllable times list {len(given)} syllables, its pinyin {len(row)}"),
                )
            source = "aligned" if spans == "aligned" and not sentence.partial else spans
            if spans == "aligned" and sentence.partial:
                source = "corrected" if partial == "given" else ""
                error = error or ("" if source else "partial labels (partial='skip')")
            if source in ("given", "corrected") and given is None and not error:
                error = "no syllable times for it"
            if not error and source == "aligned":
                try:
                    found = np.asarray(
                        align(waveform, sample_rate, list(row.pinyin)), dtype=np.float64
                    )
                except ValueError as failure:
                    error = f"cannot be aligned: {failure}"
            elif not error:
                found = given + (shift if source == "corrected" else 0.0)
            if error:
                unreadable.append((str(row.path), " ".join(error.split())))
                continue
            reference = given if given is not None else np.full((len(row), 2), np.nan)
            kept.append((sentence, waveform, found, reference, source))
    for path, error in unreadable:
        logger.warning("Left out %s: %s", path, error)
    return _corpus(kept, unreadable, sample_rate, margin)


def _corpus(
    kept: list[tuple[SentenceRow, np.ndarray, np.ndarray, np.ndarray, str]],
    unreadable: list[tuple[str, str]],
    sample_rate: int,
    margin: float,
) -> SentenceCorpus:
    """The corpus of the kept `(sentence, waveform, spans, given, source)` tuples."""
    from keras_tone.audio import cut

    rows = [sentence.row for sentence, *_ in kept]
    lengths = [len(row) for row in rows]
    clips: list[np.ndarray] = []
    for _, waveform, found, _, _ in kept:
        seconds = waveform.size / sample_rate
        wide = np.stack(
            [np.maximum(found[:, 0] - margin, 0.0), np.minimum(found[:, 1] + margin, seconds)], 1
        )
        clips.extend(cut(waveform, sample_rate, [tuple(span) for span in wide]))

    stack = (lambda arrays: np.concatenate(arrays)) if kept else (lambda _: np.zeros((0, 2)))
    return SentenceCorpus(
        **_syllable_fields(rows, clips, sample_rate, unreadable),
        segments=stack([found for _, _, found, _, _ in kept]),
        recordings=[waveform for _, waveform, _, _, _ in kept],
        given=stack([reference for _, _, _, reference, _ in kept]),
        source=np.repeat(np.asarray([source for *_, source in kept], dtype=str), lengths),
        margin=float(margin),
    )


__all__ = [
    "SPAN_SOURCES",
    "SYLLABLE_TIME_COLUMNS",
    "SentenceCorpus",
    "SentenceRow",
    "load_sentence_corpus",
    "read_sentence_manifest",
    "read_syllable_times",
]
