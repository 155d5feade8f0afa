"""Classifying audio files: the library behind `keras-tone predict`.

A ladder in the manner of CREPE: `find_audio_files` turns files and folders
into audio files; `classify_files` decodes them, runs a model over them in
chunks and yields one `FileResult` per file, with the tones or the reason
the file could not be read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_tone._keras import keras
from keras_tone.audio import load_audio, pad_batch, prepare_batch
from keras_tone.labels import decode_predictions
from keras_tone.tonenet import model_sample_rate

#: File name endings that `find_audio_files` picks up when it walks a folder.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

#: Clips per `model.predict` call in `classify_files`.
CHUNK_SIZE = 64


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file: its most probable tones, or why it failed.

    Attributes:
        path: the file.
        guesses: `(tone, name, probability)` tuples, most probable first
            (`keras_tone.decode_predictions`), or `None` if it failed.
        error: why the file could not be classified, or `None`.
    """

    path: Path
    guesses: list[tuple[int, str, float]] | None = None
    error: str | None = None


def find_audio_files(
    paths: Sequence[str | os.PathLike],
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into audio files; return `(files, problems)`.

    Folders are walked recursively for `AUDIO_SUFFIXES` (any case), in sorted
    order; files named explicitly are kept whatever their suffix. A path that
    does not exist is a problem `(path, message)`.

    Example:
        >>> from keras_tone.inference import find_audio_files
        >>> files, problems = find_audio_files(["tests/data", "nope.wav"])
        >>> [f.name for f in files], problems
        (['ma1.wav', 'ma2.wav', 'ma3.wav', 'ma4.wav'], [('nope.wav', 'no such file or folder')])
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for text in map(os.fspath, paths):
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
            if not found:
                problems.append((text, f"no {'/'.join(AUDIO_SUFFIXES)} files in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append((text, "no such file or folder"))
    return files, problems


def classify_files(
    model: keras.Model,
    files: Sequence[Path],
    *,
    top: int = 1,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], object] | None = None,
) -> Iterator[FileResult]:
    """Classify audio files with a waveform model, in order, one result per file.

    Args:
        model: a waveform ToneNet with its classifier (`keras_tone.load_model`).
        files: the audio files.
        top: how many of the most probable tones each result lists.
        chunk_size: files decoded and classified per `model.predict` call.
        progress: called with 1 after each file (e.g. a tqdm bar's `update`).

    Yields:
        A `FileResult` per file: a file that cannot be decoded, or whose audio
        `prepare_batch` refuses (empty, silent, too long), gets its reason.

    Example:
        >>> from keras_tone import load_model
        >>> from keras_tone.inference import classify_files, find_audio_files
        >>> files, _ = find_audio_files(["tests/data/ma2.wav"])
        >>> (result,) = classify_files(load_model("blcu"), files)
        >>> tone, name, probability = result.guesses[0]
        >>> result.path.name, tone, name
        ('ma2.wav', 2, 'tone 2 (rising)')
    """
    sample_rate = model_sample_rate(model)
    top = min(top, int(model.output_shape[-1]))
    for start in range(0, len(files), chunk_size):
        results: list[FileResult | None] = []
        clips = []
        for path in files[start : start + chunk_size]:
            try:
                waveform = load_audio(path, sample_rate=sample_rate)
                clip = prepare_batch([waveform], sample_rate, model_sample_rate=sample_rate)
            except (OSError, ValueError) as error:
                results.append(FileResult(Path(path), error=" ".join(str(error).split())))
            else:
                results.append(None)
                clips.append(clip[0])
            if progress is not None:
                progress(1)
        guesses = iter([])
        if clips:
            probabilities = model.predict(pad_batch(clips)[0], verbose=0)
            guesses = iter(decode_predictions(np.asarray(probabilities), top=top))
        for path, result in zip(files[start : start + chunk_size], results, strict=True):
            yield result if result is not None else FileResult(Path(path), next(guesses))


__all__ = ["AUDIO_SUFFIXES", "FileResult", "classify_files", "find_audio_files"]
