"""Classifying audio files: the library behind `keras-tone predict`.

A ladder in the manner of CREPE: `find_audio_files` turns files and folders
into audio files; `predict_files(model, paths)` classifies them and returns
one `FileResult` per path, in the order given, with the reason for each file
that could not be classified instead of an exception.

`predict_files` decodes files on a thread pool (`keras_tone.decoding`) while
the model classifies the ones already decoded, so that decoding and
inference share the cores; batches clips of similar length (after cutting
leading and trailing digital silence), so that the front end does not run
over seconds of zero padding; and checks each file once. Each result also
says how much voiced speech the clip holds (`keras_tone.layers.VoicedSpeech`,
computed in the same graph call): a clip without enough for a tone
(`keras_tone.gate`) gets probabilities, but `FileResult.top` gives no tone
for it and `FileResult.refusal` says why. With `speakers=`, each clip is
classified with the speaker context of the other clips of its speaker
(`keras_tone.context`).

Cutting digital silence and batching by length change no prediction: zeros
added after a clip leave ToneNet's output unchanged once the clip ends with
`(taps - 1) / 2 + frame_length` zeros (the high-pass's reach and one
silence-detection frame), so every clip is given at least that many; and a
leading cut is a multiple of the front end's hops that keeps the high-pass's
reach of zeros, so the silence detection sees the same frames, shifted.

Example:
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> import keras_tone
    >>> folder = tempfile.mkdtemp()
    >>> t = np.arange(8000) / 16000
    >>> vowel = sum(np.sin(2 * np.pi * 200 * k * t) / k**1.5 for k in range(1, 20))
    >>> sf.write(os.path.join(folder, "a.wav"), 0.1 * vowel, 16000)
    >>> open(os.path.join(folder, "b.mp3"), "w").close()
    >>> model = keras_tone.ToneNet(weights=None)
    >>> paths = [os.path.join(folder, name) for name in ("a.wav", "b.mp3")]
    >>> results = keras_tone.predict_files(model, paths)
    >>> results[0].probabilities.shape, results[0].voiced, results[1].error
    ((4,), True, 'empty file (0 bytes)')
"""

from __future__ import annotations

import collections
import math
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone import labels
from keras_tone.gate import refusal
from keras_tone.layers import VoicedSpeech
from keras_tone.tonenet import model_sample_rate

#: File name endings that `find_audio_files` picks up when it walks a folder.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

#: Clips are batched with others whose length (after cutting digital
#: silence) falls in the same band of this many seconds.
BUCKET_SECONDS = 0.25

#: The name of ToneNet's second input (`ToneNet(speaker_context=True)`).
CONTEXT_INPUT = "speaker_context"


@dataclass(frozen=True)
class FileResult:
    """What `predict_files` found for one file.

    Attributes:
        path: the file, as given.
        probabilities: float32 `[classes]`, or None when the file could not
            be classified (see `error`).
        voiced_seconds: how long the clip holds voiced speech
            (`keras_tone.layers.VoicedSpeech`), or None with an error.
        error: why the file could not be classified, without the path, e.g.
            `"empty file (0 bytes)"`; None when it was.
        seconds: the clip's length in seconds, or None with an error.
    """

    path: str
    probabilities: np.ndarray | None = None
    voiced_seconds: float | None = None
    error: str | None = None
    seconds: float | None = None

    @property
    def refusal(self) -> str | None:
        """Why a clip that was read gets no tone (`keras_tone.gate.refusal`), else None."""
        return None if self.error is not None else refusal(self.voiced_seconds, self.seconds)

    @property
    def voiced(self) -> bool:
        """Whether the clip holds enough voiced speech for a tone (`keras_tone.gate`)."""
        return self.error is None and self.refusal is None

    def top(self, k: int = 1) -> list[tuple[int, str, float]]:
        """The `k` most probable tones as `(tone, name, probability)`, best first.

        Empty when the file failed or holds too little voiced speech
        (`refusal` says why): probabilities of a clip without a voice are not
        an answer.
        """
        if self.probabilities is None or not self.voiced:
            return []
        return labels.decode_predictions(self.probabilities[None], top=k)[0]


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
            found = _audio_files_in(path)
            if not found:
                problems.append((text, _NO_AUDIO_IN_FOLDER))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append((text, "no such file or folder"))
    return files, problems


#: Why a folder gives no file to classify.
_NO_AUDIO_IN_FOLDER = f"no {'/'.join(AUDIO_SUFFIXES)} files in this folder"


def _audio_files_in(folder: Path) -> list[Path]:
    """The `AUDIO_SUFFIXES` files under `folder`, recursively, in sorted order."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
    )


def _expand_folders(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
) -> tuple[list[str], list[int]]:
    """`(files, origin)`: each folder replaced by its audio files (an empty one kept).

    `origin[i]` is the index in `paths` that file `i` comes from.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[str] = []
    origin: list[int] = []
    for index, text in enumerate(map(os.fspath, paths)):
        found = _audio_files_in(Path(text)) if os.path.isdir(text) else []
        expanded = [os.fspath(p) for p in found] or [text]
        files.extend(expanded)
        origin.extend([index] * len(expanded))
    return files, origin


def predict_files(
    model: Any,
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    speakers: Sequence[Any] | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool | Callable[[int, int], object] = False,
) -> list[FileResult]:
    """Classify the tone of each audio file; one `FileResult` per path, in order.

    Args:
        model: a ToneNet that takes waveforms (`include_preprocessing=True`,
            the default; `keras_tone.load_model`), with or without the
            speaker-context input, or any Keras model with a
            `[batch, samples]` waveform input whose layers name their
            `sample_rate`.
        paths: audio files (WAV, FLAC, OGG, MP3) and folders, or one of
            them; a folder stands for its audio files (`AUDIO_SUFFIXES`,
            recursively, in sorted order).
        speakers: `None`, or the speaker of each path (any hashable labels,
            one per path; a folder's speaker is that of all its files;
            `speakers_by_folder` makes them from the folders). With speakers,
            each clip gets the speaker context of the other clips of its
            speaker that could be decoded
            (`keras_tone.context.pitch_histograms` and `leave_one_out`), which
            needs a model with the `"speaker_context"` input
            (`load_model(handle, speaker_context=True)`); every file is then
            decoded before the first is classified. Without speakers such a
            model gets a context of zeros, which is the model alone.
        batch_size: clips per model call.
        workers: decoding threads; `None` for the number of CPU cores.
        progress: `True` for a progress bar on stderr (tqdm), or a callable
            `progress(done, total)` called as files finish; counts files.

    Returns:
        A list of `FileResult`, one per file in the order given (folders
        expanded in place). A file that cannot be read or classified, or a
        folder without audio files, gets `error` (the reason, without the
        path), never an exception; a clip without enough voiced speech gets
        `refusal`.

    Raises:
        ValueError: `model` does not take waveforms; `speakers` is given for a
            model without the speaker-context input, or is not one per path;
            or `batch_size < 1`.

    Example:
        >>> import keras_tone
        >>> model = keras_tone.ToneNet(weights=None)
        >>> keras_tone.predict_files(model, ["no/such/file.wav"])[0].error
        'no such file'

        A speaker's clips, each judged against the others (a folder of one
        learner's recordings, say):

        >>> import numpy as np, soundfile as sf, tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> t = np.arange(8000) / 16000
        >>> paths = []
        >>> for i, f0 in enumerate((150, 180, 210)):
        ...     voice = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
        ...     paths.append(os.path.join(folder, f"{i}.wav"))
        ...     sf.write(paths[-1], 0.1 * voice, 16000)
        >>> with_context = keras_tone.ToneNet(weights=None, speaker_context=True)
        >>> results = keras_tone.predict_files(with_context, paths, speakers=["me"] * 3)
        >>> tuple(r.probabilities.shape for r in results)
        ((4,), (4,), (4,))
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive. Received: batch_size={batch_size}")
    given = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else list(paths)
    paths, origin = _expand_folders(given)
    sample_rate, context_size = _check_model(model)
    if speakers is not None:
        speakers = list(speakers)
        if context_size is None:
            raise ValueError(
                "speakers= needs a model with the speaker_context input: build it with "
                "keras_tone.load_model(handle, speaker_context=True) or "
                "ToneNet(..., speaker_context=True). "
                f"Received: model.input_shape={model.input_shape}"
            )
        if len(speakers) != len(given):
            raise ValueError(
                "speakers= needs one speaker per path. "
                f"Received: {len(speakers)} speakers for {len(given)} paths"
            )
        speakers = [speakers[index] for index in origin]
    voicing, run = _graph(model, sample_rate, context_size)
    trim = _Trim.for_model(model, voicing)
    results: list[FileResult | None] = [None] * len(paths)
    lengths: list[float | None] = [None] * len(paths)  # seconds, before trimming
    report = _progress(progress, len(paths))

    def classify(items: list[tuple[int, np.ndarray]], context: np.ndarray | None) -> None:
        batch = np.zeros((len(items), max(w.size for _, w in items)), np.float32)
        for row, (_, waveform) in zip(batch, items, strict=True):
            row[: waveform.size] = waveform
        inputs = [batch]
        if context_size is not None:  # zeros: the model alone
            rows = [index for index, _ in items]
            zeros = np.zeros((len(items), context_size), np.float32)
            inputs.append(zeros if context is None else context[rows])
        probabilities, voiced = (t.numpy() for t in run(*inputs))
        for (index, _), p, s in zip(items, probabilities, voiced, strict=True):
            results[index] = FileResult(paths[index], p, float(s), seconds=lengths[index])
        report(len(items))

    decoded: list[tuple[int, np.ndarray]] = []
    batches = _Batches(round(BUCKET_SECONDS * sample_rate), batch_size)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for index, waveform, seconds, error in _decode_ahead(
            pool, paths, sample_rate, trim, ahead=4 * batch_size
        ):
            lengths[index] = seconds
            if error is not None:
                results[index] = FileResult(paths[index], error=error)
                report(1)
            elif speakers is not None:  # classified once every clip is decoded
                decoded.append((index, waveform))
            elif (full := batches.add(index, waveform)) is not None:
                classify(full, None)
    context = None
    if speakers is not None and decoded:
        context = _leave_one_out_contexts(model, decoded, speakers, len(paths))
        for index, waveform in decoded:
            if (full := batches.add(index, waveform)) is not None:
                classify(full, context)
    for rest in batches.rest():
        classify(rest, context)
    report(0, close=True)
    return [r for r in results if r is not None]


def speakers_by_folder(paths: Iterable[str | os.PathLike]) -> list[str]:
    """One speaker per folder: the folder that holds each file, as a speaker label.

    How `keras-tone predict --speaker-context` groups the clips it is given.

    Example:
        >>> from keras_tone.inference import speakers_by_folder
        >>> speakers_by_folder(["a/1.wav", "a/2.wav", "b/1.wav"])
        ['a', 'a', 'b']
    """
    return [os.fspath(Path(p).parent) for p in paths]


def _check_model(model: Any) -> tuple[int, int | None]:
    """`(sample_rate, context size or None)` of a waveform model, or `ValueError`."""
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    names = [tensor.name.split(":")[0] for tensor in model.inputs]
    second = names[1:] == [CONTEXT_INPUT] and len(shapes[1]) == 2
    if len(tuple(shapes[0])) != 2 or not (len(shapes) == 1 or second):
        raise ValueError(
            "predict_files needs a model that takes waveforms [batch, samples] (ToneNet with "
            "include_preprocessing=True), with or without the speaker_context input. "
            f"Received: model.input_shape={model.input_shape}"
        )
    return model_sample_rate(model), (int(shapes[1][-1]) if second else None)


def _leave_one_out_contexts(
    model: Any, decoded: list[tuple[int, np.ndarray]], speakers: list[Any], total: int
) -> np.ndarray:
    """`[total, P]`: row `index` is the context of the other decoded clips of its speaker."""
    from keras_tone.context import leave_one_out, pitch_histograms

    histograms = pitch_histograms([waveform for _, waveform in decoded], model=model)
    rows = leave_one_out(histograms, [str(speakers[index]) for index, _ in decoded])
    context = np.zeros((total, rows.shape[1]), np.float32)
    context[[index for index, _ in decoded]] = rows
    return context


class _Batches:
    """Clips grouped by length (bands of `width` samples); a group is handed back when full."""

    def __init__(self, width: int, size: int) -> None:
        self.width, self.size = max(1, width), size
        self.groups: dict[int, list[tuple[int, np.ndarray]]] = collections.defaultdict(list)

    def add(self, index: int, waveform: np.ndarray) -> list[tuple[int, np.ndarray]] | None:
        group = self.groups[math.ceil(waveform.size / self.width)]
        group.append((index, waveform))
        if len(group) < self.size:
            return None
        full = list(group)
        group.clear()
        return full

    def rest(self) -> Iterator[list[tuple[int, np.ndarray]]]:
        """The clips not handed back yet, sorted by length, in batches."""
        rest = sorted((item for g in self.groups.values() for item in g), key=lambda i: i[1].size)
        self.groups.clear()
        for start in range(0, len(rest), self.size):
            yield rest[start : start + self.size]


#: The traced graph of each model, kept while the model lives (as Keras keeps
#: `model.predict_function`): tracing takes most of a second.
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _graph(
    model: Any, sample_rate: int, context_size: int | None
) -> tuple[Any, Callable[..., Any]]:
    """`(voicing layer, run)`: `run(batch[, context])` gives probabilities and voiced seconds."""
    if model not in _GRAPHS:
        import tensorflow as tf

        voicing = VoicedSpeech(sample_rate=sample_rate)
        weak = weakref.ref(model)  # a strong reference here would keep the model alive
        signature = [tf.TensorSpec([None, None], tf.float32)]
        if context_size is None:

            def call(x: Any) -> Any:
                return weak()(x, training=False), voicing(x)

        else:
            signature.append(tf.TensorSpec([None, context_size], tf.float32))

            def call(x: Any, context: Any) -> Any:  # type: ignore[misc]
                return weak()([x, context], training=False), voicing(x)

        _GRAPHS[model] = (voicing, tf.function(call, input_signature=signature))
    return _GRAPHS[model]


@dataclass(frozen=True)
class _Trim:
    """How much digital silence may be cut from a clip without changing any output.

    `step`: leading cuts are multiples of it (every hop of the front end and
    of the voicing layer divides it). `lead`: zeros kept before the first
    non-zero sample (the high-pass's reach). `tail`: zeros kept, or added,
    after the last one (the high-pass's reach plus one silence-detection
    frame), so that the padding of a batch changes nothing.
    """

    step: int
    lead: int
    tail: int

    @classmethod
    def for_model(cls, model: Any, voicing: Any) -> _Trim | None:
        from keras_tone.frontend import front_end_of

        try:
            front_end = front_end_of(model)
        except ValueError:
            return None  # not a ToneNet front end: batch by length only
        highpass, syllable = front_end.highpass, front_end.syllable
        reach = (highpass.taps - 1) // 2
        step = math.lcm(syllable.hop_length, highpass.PHASES, 2 * voicing.hop)
        return cls(step=step, lead=reach, tail=reach + syllable.frame_length)

    def __call__(self, waveform: np.ndarray) -> np.ndarray:
        nonzero = np.flatnonzero(waveform)
        first, last = int(nonzero[0]), int(nonzero[-1])
        start = max(0, (first - self.lead) // self.step * self.step)
        end = last + 1 + self.tail
        out = waveform[start:end]
        if out.size < end - start:
            out = np.pad(out, (0, end - start - out.size))
        return out


def _decode(
    path: str, sample_rate: int, trim: _Trim | None
) -> tuple[np.ndarray | None, float | None, str | None]:
    """`(trimmed waveform, seconds before trimming, None)`, or `(None, None, reason)`."""
    from keras_tone.audio import load_audio, validate_clip
    from keras_tone.decoding import failure_reason

    if os.path.isdir(path):  # a folder left after `_expand_folders`: it holds no audio
        return None, None, _NO_AUDIO_IN_FOLDER
    try:
        waveform = validate_clip(load_audio(path, sample_rate), sample_rate, name="the clip")
    except (OSError, ValueError) as error:
        return None, None, failure_reason(error)
    return (waveform if trim is None else trim(waveform)), waveform.size / sample_rate, None


def _decode_ahead(
    pool: ThreadPoolExecutor, paths: list[str], sample_rate: int, trim: _Trim | None, *, ahead: int
) -> Iterator[tuple[int, np.ndarray | None, float | None, str | None]]:
    """Decoded files in input order, with at most `ahead` files decoded or in flight."""
    pending: collections.deque[tuple[int, Future]] = collections.deque()
    for index, path in enumerate(paths):
        pending.append((index, pool.submit(_decode, path, sample_rate, trim)))
        if len(pending) >= ahead:
            done, future = pending.popleft()
            yield done, *future.result()
    while pending:
        done, future = pending.popleft()
        yield done, *future.result()


def _progress(progress: bool | Callable[[int, int], object], total: int) -> Callable[..., None]:
    """A `report(n, close=False)` that advances the bar or calls the callback."""
    if progress is True:
        import sys

        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="file", desc="Classifying", file=sys.stderr)

        def report(n: int, close: bool = False) -> None:
            bar.update(n)
            if close:
                bar.close()

        return report
    done = 0

    def call(n: int, close: bool = False) -> None:
        nonlocal done
        done += n
        if callable(progress) and n:
            progress(done, total)

    return call


__all__ = [
    "AUDIO_SUFFIXES",
    "BUCKET_SECONDS",
    "FileResult",
    "find_audio_files",
    "predict_files",
    "speakers_by_folder",
]
