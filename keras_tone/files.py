"""Classify the tone of many audio files: the folder job as one function.

`predict_files(model, paths)` decodes files on a thread pool while the model
classifies the ones already decoded, so that decoding and inference share
the cores; batches clips of similar length (after cutting leading and
trailing digital silence), so that the front end does not run over seconds
of zero padding; checks each file once; and returns one `FileResult` per
path, in the order given, with the reason for each file that could not be
classified instead of an exception. Each result also says how much voiced
speech the clip holds (`keras_tone.layers.VoicedSpeech`): a clip without
any gets probabilities, but `FileResult.top` gives no tone for it.

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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_tone import labels
from keras_tone.layers import VoicedSpeech

#: A clip holds voiced speech when `VoicedSpeech` finds at least this much:
#: two consecutive 16 ms frames with the same pitch.
MIN_VOICED_SECONDS = 0.03

#: Clips are batched with others whose length (after cutting digital
#: silence) falls in the same band of this many seconds.
BUCKET_SECONDS = 0.25


@dataclass(frozen=True)
class FileResult:
    """What `predict_files` found for one file.

    Attributes:
        path: the file, as given.
        probabilities: float32 `[classes]`, or None when the file could not
            be classified (see `error`).
        voiced_seconds: how long the clip holds voiced speech
            (`keras_tone.layers.VoicedSpeech`), or None with an error.
        error: why the file could not be classified, e.g. `"empty file (0
            bytes)"`; None when it was.
    """

    path: str
    probabilities: np.ndarray | None = None
    voiced_seconds: float | None = None
    error: str | None = None

    @property
    def voiced(self) -> bool:
        """Whether the clip holds voiced speech (at least `MIN_VOICED_SECONDS`)."""
        return self.voiced_seconds is not None and self.voiced_seconds >= MIN_VOICED_SECONDS

    def top(self, k: int = 1) -> list[tuple[int, str, float]]:
        """The `k` most probable tones as `(tone, name, probability)`, best first.

        Empty when the file failed or holds no voiced speech: probabilities of
        a clip without a voice are not an answer.
        """
        if self.probabilities is None or not self.voiced:
            return []
        return labels.decode_predictions(self.probabilities[None], top=k)[0]


def predict_files(
    model: Any,
    paths: Iterable[str | os.PathLike],
    *,
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool | Callable[[int, int], object] = False,
) -> list[FileResult]:
    """Classify the tone of each audio file; one `FileResult` per path, in order.

    Args:
        model: a ToneNet that takes waveforms (`include_preprocessing=True`,
            the default), or any Keras model with a `[batch, samples]`
            waveform input whose layers name their `sample_rate`.
        paths: audio files (WAV, FLAC, OGG, MP3).
        batch_size: clips per model call.
        workers: decoding threads; `None` for the number of CPU cores.
        progress: `True` for a progress bar on stderr (tqdm), or a callable
            `progress(done, total)` called as files finish; counts files.

    Returns:
        A list of `FileResult`, `len(paths)` long. A file that cannot be read
        or classified gets `error` (the reason, without the path), never an
        exception.

    Raises:
        ValueError: `model` does not take waveforms, or `batch_size < 1`.

    Example:
        >>> import keras_tone
        >>> model = keras_tone.ToneNet(weights=None)
        >>> keras_tone.predict_files(model, ["no/such/file.wav"])[0].error
        'no such file'
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive; received batch_size={batch_size}.")
    paths = [str(p) for p in paths]
    sample_rate = model_sample_rate(model)
    voicing, run = _graph(model, sample_rate)
    trim = _Trim.for_model(model, voicing)
    results: list[FileResult | None] = [None] * len(paths)
    report = _progress(progress, len(paths))
    bucket_width = max(1, round(BUCKET_SECONDS * sample_rate))
    buckets: dict[int, list[tuple[int, np.ndarray]]] = collections.defaultdict(list)

    def classify(items: list[tuple[int, np.ndarray]]) -> None:
        batch = np.zeros((len(items), max(w.size for _, w in items)), np.float32)
        for row, (_, waveform) in zip(batch, items, strict=True):
            row[: waveform.size] = waveform
        probabilities, seconds = (t.numpy() for t in run(batch))
        for (index, _), p, s in zip(items, probabilities, seconds, strict=True):
            results[index] = FileResult(paths[index], p, float(s))
        report(len(items))

    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        decoded = _decode_ahead(pool, paths, sample_rate, trim, ahead=4 * batch_size)
        for index, waveform, error in decoded:
            if error is not None:
                results[index] = FileResult(paths[index], error=error)
                report(1)
                continue
            bucket = buckets[math.ceil(waveform.size / bucket_width)]
            bucket.append((index, waveform))
            if len(bucket) == batch_size:
                classify(bucket)
                bucket.clear()
    rest = sorted((item for b in buckets.values() for item in b), key=lambda i: i[1].size)
    for start in range(0, len(rest), batch_size):
        classify(rest[start : start + batch_size])
    report(0, close=True)
    return [r for r in results if r is not None]


def model_sample_rate(model: Any) -> int:
    """The sampling rate a waveform model expects: that of its first layer that names one.

    Raises:
        ValueError: the model takes something other than `[batch, samples]`
            waveforms, or none of its layers has a `sample_rate`.
    """
    shape = tuple(model.input_shape)
    if len(shape) != 2:
        raise ValueError(
            "predict_files needs a model that takes waveforms [batch, samples] "
            f"(ToneNet with include_preprocessing=True); received input shape {shape}."
        )
    for layer in model.layers:
        rate = getattr(layer, "sample_rate", None)
        if rate:
            return int(rate)
    raise ValueError(
        "None of the model's layers names a sample_rate, so the rate to decode "
        "at is unknown; use a ToneNet (keras_tone.ToneNet)."
    )


#: The traced graph of each model, kept while the model lives (as Keras keeps
#: `model.predict_function`): tracing takes most of a second.
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _graph(model: Any, sample_rate: int) -> tuple[Any, Callable[[np.ndarray], Any]]:
    """`(voicing layer, run)`: `run(batch)` gives probabilities and voiced seconds in one call."""
    if model not in _GRAPHS:
        import tensorflow as tf

        voicing = VoicedSpeech(sample_rate=sample_rate)
        weak = weakref.ref(model)  # a strong reference here would keep the model alive
        run = tf.function(
            lambda x: (weak()(x, training=False), voicing(x)),
            input_signature=[tf.TensorSpec([None, None], tf.float32)],
        )
        _GRAPHS[model] = (voicing, run)
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
) -> tuple[np.ndarray | None, str | None]:
    from keras_tone.audio import load_audio, validate_clip
    from keras_tone.decoding import AudioFileError

    try:
        waveform = validate_clip(load_audio(path, sample_rate), sample_rate, name="the clip")
    except FileNotFoundError:
        return None, "no such file"
    except AudioFileError as error:
        return None, error.reason
    except (OSError, ValueError) as error:
        return None, str(error).rstrip(".")
    return (waveform if trim is None else trim(waveform)), None


def _decode_ahead(
    pool: ThreadPoolExecutor, paths: list[str], sample_rate: int, trim: _Trim | None, *, ahead: int
) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
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
