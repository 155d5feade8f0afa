"""Reading tone corpora: manifests of labelled clips, decoded once and cached.

A corpus folder holds audio files and a `manifest.csv` with the columns
`path,syllable,tone,speaker,sex`: `path` is relative to the CSV, `tone` is
1-4, or 5 for the neutral tone.

* `read_manifest(path)` parses and checks one manifest.
* `load_corpus(manifests, ...)` decodes every clip once
  (`keras_tone.load_audio`: libsndfile, mono, resampled, float32), caches the decoded
  arrays per manifest and sampling rate, and returns a `Corpus` of waveforms
  and labels. Clips that cannot be decoded are left out and listed in
  `Corpus.unreadable`, with the reason.

Example:
    >>> from keras_tone.datasets import load_corpus  # doctest: +SKIP
    >>> corpus = load_corpus(["data/pffy_f1/manifest.csv"])  # doctest: +SKIP
    >>> len(corpus), corpus.speakers[0]  # doctest: +SKIP
    (1622, 'pffy_F1')
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone import labels
from keras_tone.config import SAMPLE_RATE

logger = logging.getLogger(__name__)

#: Columns every manifest must have, in any order (extra columns are ignored).
MANIFEST_COLUMNS = ("path", "syllable", "tone", "speaker", "sex")

#: Version of the cache layout; bump it to invalidate every cache file.
_CACHE_VERSION = 1


@dataclass(frozen=True)
class ManifestRow:
    """One clip of a manifest; `path` is absolute (resolved against the CSV)."""

    path: Path
    syllable: str
    tone: int
    speaker: str
    sex: str


@dataclass
class Corpus:
    """Decoded clips and their labels, all arrays aligned by clip.

    Attributes:
        waveforms: list of 1-D float32 arrays at `sample_rate`.
        labels: int array of class indices (tone - 1; the neutral tone is 4).
        tones: int array of tone numbers 1-5.
        speakers, sexes, syllables, paths: string arrays.
        sample_rate: sampling rate of `waveforms`, in Hz.
        classes: 4 (tones 1-4) or 5 (with the neutral tone).
        unreadable: `(path, reason)` of each clip of the manifests that could
            not be decoded, and is therefore not in the corpus.
    """

    waveforms: list[np.ndarray]
    labels: np.ndarray
    tones: np.ndarray
    speakers: np.ndarray
    sexes: np.ndarray
    syllables: np.ndarray
    paths: np.ndarray
    sample_rate: int
    classes: int
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.waveforms)

    def select(self, mask: np.ndarray | Sequence[int]) -> Corpus:
        """The clips that a boolean mask (or an index array) picks."""
        index = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask)
        return Corpus(
            waveforms=[self.waveforms[i] for i in index],
            labels=self.labels[index],
            tones=self.tones[index],
            speakers=self.speakers[index],
            sexes=self.sexes[index],
            syllables=self.syllables[index],
            paths=self.paths[index],
            sample_rate=self.sample_rate,
            classes=self.classes,
            unreadable=list(self.unreadable),
        )

    def concatenate(self, other: Corpus) -> Corpus:
        """This corpus and `other` (same sampling rate and classes), one after the other."""
        if (other.sample_rate, other.classes) != (self.sample_rate, self.classes):
            raise ValueError(
                "Only corpora of one sampling rate and number of classes can be joined. "
                f"Received: ({self.sample_rate}, {self.classes}) and "
                f"({other.sample_rate}, {other.classes})"
            )
        return Corpus(
            waveforms=[*self.waveforms, *other.waveforms],
            **{
                name: np.concatenate([getattr(self, name), getattr(other, name)])
                for name in ("labels", "tones", "speakers", "sexes", "syllables", "paths")
            },
            sample_rate=self.sample_rate,
            classes=self.classes,
            unreadable=[*self.unreadable, *other.unreadable],
        )

    def speaker_names(self) -> list[str]:
        """The speakers in the order they first appear."""
        return list(dict.fromkeys(self.speakers.tolist()))


def csv_records(
    path: Path, columns: Sequence[str], *, kind: str, hint: str = ""
) -> Iterator[tuple[int, dict[str, str]]]:
    """`(line number, {column: stripped value})` for each row of a manifest CSV.

    Raises `FileNotFoundError` naming `kind` when there is no file, and
    `ValueError` naming the missing columns (plus `hint`, when given a header
    of another kind) before any row is read.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"No {kind.lower()} at {str(path)!r}. A {kind.lower()} is a CSV file with the "
            f"columns {','.join(columns)}."
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [column for column in columns if column not in header]
        if missing:
            raise ValueError(
                f"{kind} {str(path)!r} lacks the column(s) {', '.join(missing)}; "
                f"expected the header {','.join(columns)}. "
                f"Received: header={','.join(header) or '(empty file)'}{hint}"
            )
        reader.fieldnames = header
        for record in reader:
            yield reader.line_num, {key: (record.get(key) or "").strip() for key in columns}


def audio_path(
    manifest: Path, value: str, *, where: str, allow_outside_paths: bool = False
) -> Path:
    """The absolute path of the audio file that a manifest row names, relative to its folder.

    A manifest names its audio files relative to its own folder. Unless
    `allow_outside_paths`, a row whose path is absolute or leads out of that
    folder (`../../etc/passwd`) is refused: a manifest from elsewhere must
    not make keras_tone open files outside it. The check is on the text of
    the path; links inside the folder are followed.

    Raises:
        ValueError: the path leaves the folder (the message starts with `where`).

    Example:
        >>> from pathlib import Path
        >>> from keras_tone.datasets import audio_path
        >>> audio_path(Path("/data/manifest.csv"), "clips/a1.wav", where="line 2").as_posix()
        '/data/clips/a1.wav'
        >>> audio_path(Path("/data/manifest.csv"), "../../etc/passwd", where="line 3")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: line 3: the path leads outside the manifest's folder /data; ...
    """
    joined = manifest.parent / value
    if not allow_outside_paths:
        folder = os.path.normpath(os.path.abspath(manifest.parent))
        target = os.path.normpath(os.path.abspath(joined))
        if Path(value).is_absolute() or os.path.commonpath([folder, target]) != folder:
            raise ValueError(
                f"{where}: the path leads outside the manifest's folder {folder}; a manifest "
                "names its audio files relative to its folder. If you trust this manifest, "
                "allow it (allow_outside_paths=True, or --allow-outside-paths on the command "
                f"line). Received: path={value!r}"
            )
    return joined.resolve()


def read_manifest(
    path: str | os.PathLike, *, allow_outside_paths: bool = False
) -> list[ManifestRow]:
    """Parse a manifest CSV (`path,syllable,tone,speaker,sex`).

    Args:
        path: the CSV file. Audio paths in it are relative to its folder.
        allow_outside_paths: accept rows whose audio path is absolute or
            leads out of the manifest's folder (`audio_path`).

    Returns:
        One `ManifestRow` per clip, with absolute audio paths. The audio files
        are not opened (`load_corpus` does that and names any that is missing).

    Raises:
        FileNotFoundError: there is no manifest at `path`.
        ValueError: a column is missing, or a row has an empty field, a tone
            that is not 1-5, or a path outside the manifest's folder (the
            message names the file and line).
    """
    path = Path(path)
    rows: list[ManifestRow] = []
    for line, values in csv_records(path, MANIFEST_COLUMNS, kind="Manifest"):
        where = f"Manifest {str(path)!r}, line {line}"
        empty = [key for key in ("path", "tone", "speaker") if not values[key]]
        if empty:
            raise ValueError(f"{where}: empty {', '.join(empty)}.")
        try:
            tone = int(values["tone"])
        except ValueError:
            tone = -1
        if not 1 <= tone <= 5:
            raise ValueError(
                f"{where}: tone must be 1-4, or 5 for "
                f"the neutral tone. Received: tone={values['tone']!r}"
            )
        rows.append(
            ManifestRow(
                path=audio_path(
                    path, values["path"], where=where, allow_outside_paths=allow_outside_paths
                ),
                syllable=values["syllable"],
                tone=tone,
                speaker=values["speaker"],
                sex=values["sex"],
            )
        )
    return rows


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/keras_tone`, or `~/.cache/keras_tone`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keras_tone"


def load_corpus(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    sample_rate: int = SAMPLE_RATE,
    classes: int = 4,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    allow_outside_paths: bool = False,
) -> Corpus:
    """Decode the clips of one or more manifests, with a cache.

    Each manifest's clips are decoded once with `keras_tone.load_audio` (mono,
    resampled to `sample_rate`, float32) and stored in `cache_dir` as one
    `.npz` file per manifest and rate. The file's name carries a hash of the
    manifest's path and bytes, so editing the manifest decodes it again. A
    clip that cannot be decoded (a truncated MP3, a file that is not audio)
    is left out, logged as a warning and listed with the reason in
    `Corpus.unreadable`; the cache remembers it.

    Args:
        manifests: a manifest path or a list of them.
        sample_rate: sampling rate of the returned waveforms, in Hz.
        classes: 4 keeps tones 1-4 and skips the neutral tone (the count is
            logged); 5 keeps it as class index 4.
        cache_dir: folder of the cache files; `None` for `default_cache_dir()`.
            The cache holds every clip, so `classes=4` and `5` share it.
        progress: show a tqdm progress bar while decoding.
        allow_outside_paths: accept audio paths outside each manifest's
            folder (`read_manifest`).

    Returns:
        A `Corpus`.

    Raises:
        FileNotFoundError: a manifest or an audio file it lists is missing
            (the message names it).
        ValueError: a manifest is malformed, or `classes` is not 4 or 5.
    """
    if classes not in labels.SUPPORTED_CLASSES:
        raise ValueError(
            "classes must be 4 (tones 1-4) or 5 (with the neutral tone). "
            f"Received: classes={classes}"
        )
    if isinstance(manifests, (str, os.PathLike)):
        manifests = [manifests]
    manifests = [Path(m) for m in manifests]
    if not manifests:
        raise ValueError("load_corpus received no manifests.")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    waveforms: list[np.ndarray] = []
    meta: dict[str, list] = {k: [] for k in ("tones", "speakers", "sexes", "syllables", "paths")}
    unreadable: list[tuple[str, str]] = []
    for manifest in manifests:
        rows = read_manifest(manifest, allow_outside_paths=allow_outside_paths)
        decoded, errors = decode_cached(manifest, rows, sample_rate, cache, progress)
        skipped = 0
        for row, waveform, error in zip(rows, decoded, errors, strict=True):
            if error:
                unreadable.append((str(row.path), error))
                continue
            if row.tone == 5 and classes == 4:
                skipped += 1
                continue
            waveforms.append(waveform)
            meta["tones"].append(row.tone)
            meta["speakers"].append(row.speaker)
            meta["sexes"].append(row.sex)
            meta["syllables"].append(row.syllable)
            meta["paths"].append(str(row.path))
        if skipped:
            logger.info(
                "%s: skipped %d neutral-tone (tone 5) clips; pass classes=5 to keep them.",
                manifest,
                skipped,
            )
    for path, error in unreadable:
        logger.warning("Left out %s, which cannot be read: %s", path, error)
    tones = np.asarray(meta["tones"], dtype=np.int64)
    return Corpus(
        waveforms=waveforms,
        labels=tones - 1,
        tones=tones,
        speakers=np.asarray(meta["speakers"], dtype=str),
        sexes=np.asarray(meta["sexes"], dtype=str),
        syllables=np.asarray(meta["syllables"], dtype=str),
        paths=np.asarray(meta["paths"], dtype=str),
        sample_rate=int(sample_rate),
        classes=int(classes),
        unreadable=unreadable,
    )


def cache_path(manifest: str | os.PathLike, sample_rate: int, cache_dir: str | os.PathLike) -> Path:
    """The cache file of one manifest at one rate (hash of its path and bytes)."""
    manifest = Path(manifest).resolve()
    digest = hashlib.sha256()
    digest.update(f"v{_CACHE_VERSION}|{manifest}|{int(sample_rate)}|".encode())
    digest.update(manifest.read_bytes())
    name = f"{manifest.parent.name}-{int(sample_rate)}-{digest.hexdigest()[:16]}.npz"
    return Path(cache_dir) / name


def decode_cached(
    manifest: Path, rows: Sequence[Any], sample_rate: int, cache: Path, progress: bool
) -> tuple[list[np.ndarray], list[str]]:
    """Each row's waveform and decoding error (`""` when it decoded), from the cache if there.

    The decoding and its cache behind `load_corpus`, for any manifest whose
    rows have a `path` (`ManifestRow`, `keras_tone.words.WordRow`): one
    `.npz` file per manifest and rate in `cache` (`cache_path`).
    """
    target = cache_path(manifest, sample_rate, cache)
    if target.is_file():
        try:
            with np.load(target) as stored:
                audio, offsets = stored["audio"], stored["offsets"]
                # Files written before unreadable clips were kept had none.
                errors = stored["errors"].tolist() if "errors" in stored else [""] * len(rows)
            if len(offsets) == len(rows) + 1 and len(errors) == len(rows):
                return [audio[offsets[i] : offsets[i + 1]] for i in range(len(rows))], errors
            logger.warning("Cache file %s does not match its manifest; decoding again.", target)
        except (OSError, ValueError, KeyError) as error:
            logger.warning("Unreadable cache file %s (%s); decoding again.", target, error)

    for row in rows:  # name a missing file before spending minutes decoding
        if not row.path.is_file():
            raise FileNotFoundError(
                f"Manifest {str(manifest)!r} lists {str(row.path)!r}, which does not exist."
            )
    from keras_tone.audio import load_audio
    from keras_tone.decoding import failure_reason

    iterator: Iterable[Any] = rows
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(rows, desc=f"Decoding {manifest.parent.name}", unit="clip")
    decoded, errors = [], []
    for row in iterator:
        try:
            waveform, error = load_audio(row.path, sample_rate=sample_rate), ""
        except (OSError, ValueError) as failure:
            waveform, error = np.zeros(0, np.float32), failure_reason(failure)
        decoded.append(waveform)
        errors.append(error)

    offsets = np.zeros(len(decoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([w.size for w in decoded])
    audio = np.concatenate(decoded) if decoded else np.zeros(0, np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial.npz")
    np.savez(partial, audio=audio, offsets=offsets, errors=np.asarray(errors, dtype=str))
    os.replace(partial, target)
    return [audio[offsets[i] : offsets[i + 1]] for i in range(len(rows))], errors


__all__ = [
    "Corpus",
    "audio_path",
    "MANIFEST_COLUMNS",
    "ManifestRow",
    "cache_path",
    "decode_cached",
    "default_cache_dir",
    "load_corpus",
    "csv_records",
    "read_manifest",
]
