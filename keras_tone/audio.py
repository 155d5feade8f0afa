"""Reading audio files and turning clips of any length into a model batch."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from keras_tone.config import SAMPLE_RATE

#: Longest clip `prepare_batch` accepts, in seconds. ToneNet classifies one
#: syllable; longer recordings should be split first.
MAX_CLIP_SECONDS = 30.0


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read an audio file as mono float32 at `sample_rate`.

    wav, flac, ogg and mp3, decoded by libsndfile (`keras_tone.decoding`);
    multichannel audio is averaged to mono and resampled with soxr at high
    quality, the result librosa's `librosa.load(path, sr=sample_rate)` gives
    (tested to be equal), without librosa.

    Args:
        path: path of the audio file.
        sample_rate: sampling rate of the returned waveform, in Hz.

    Returns:
        float32 array of shape `[samples]`.

    Raises:
        FileNotFoundError: there is no file at `path`.
        ValueError: the file could not be decoded as audio; the message says
            why (a `keras_tone.decoding.AudioFileError`, whose `reason` holds
            the reason alone).

    Example:
        >>> import numpy as np, soundfile as sf, tempfile, os
        >>> from keras_tone import load_audio
        >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        >>> sf.write(path, np.zeros(22050, "float32"), 22050)
        >>> load_audio(path, sample_rate=16000).shape
        (16000,)
    """
    from keras_tone.decoding import read_audio

    waveform, native_rate = read_audio(path)
    mono = waveform[:, 0] if waveform.shape[1] == 1 else waveform.mean(axis=1)
    return resample(mono, native_rate, sample_rate)


def to_mono_float(clip: np.ndarray, *, name: str = "clip") -> np.ndarray:
    """One clip as a 1-D float32 waveform, with the documented conversions.

    * integer PCM is scaled to [-1, 1) by its type's range (int16 / 32768);
    * 2-D arrays are taken as multichannel and averaged to mono: channels
      first (`[channels, samples]`) or last (`[samples, channels]`), whichever
      axis is the shorter;
    * empty clips and NaN/Inf samples raise `ValueError`.
    """
    clip = np.asarray(clip)
    if clip.dtype.kind in "iu":
        info = np.iinfo(clip.dtype)
        midpoint = (info.min + info.max + 1) / 2  # 0 for signed PCM, 128 for uint8
        clip = (clip.astype(np.float64) - midpoint) / (info.max + 1 - midpoint)
    elif clip.dtype.kind != "f":
        raise ValueError(
            f"{name} must hold float or integer PCM samples. Received: dtype={clip.dtype}"
        )
    if clip.ndim == 2:
        clip = clip.mean(axis=int(np.argmin(clip.shape)))
    elif clip.ndim != 1:
        raise ValueError(
            f"{name} has shape {clip.shape}; expected a waveform [samples] or "
            "multichannel audio [samples, channels]."
        )
    if clip.size == 0:
        raise ValueError(f"{name} is empty (0 samples).")
    if not np.all(np.isfinite(clip)):
        raise ValueError(
            f"{name} has NaN or Inf samples; clean it first, e.g. "
            "`np.nan_to_num(clip, nan=0.0, posinf=0.0, neginf=0.0)`."
        )
    return clip.astype(np.float32, copy=False)


def validate_clip(clip: np.ndarray, sample_rate: int, *, name: str = "clip") -> np.ndarray:
    """One clip as a 1-D float32 waveform that ToneNet can classify, or `ValueError`.

    The conversions of `to_mono_float`, then the checks that need the rate:
    at most `MAX_CLIP_SECONDS` long, and not silent (all zeros).

    Example:
        >>> validate_clip(np.zeros(100, "float32"), 16000)
        Traceback (most recent call last):
        ...
        ValueError: clip is silent (all samples are zero): there is no tone to classify.
    """
    waveform = to_mono_float(clip, name=name)
    check_duration(waveform.size / sample_rate, name=name)
    if not np.any(waveform):
        raise ValueError(f"{name} is silent (all samples are zero): there is no tone to classify.")
    return waveform


def check_duration(seconds: float | None, *, name: str = "clip") -> None:
    """`ValueError` when a clip of `seconds` is longer than `MAX_CLIP_SECONDS`.

    `keras-tone plot` and `check` call it with the length a file's header
    declares (`keras_tone.decoding.declared_seconds`), before decoding it;
    `validate_clip` with the decoded length. `None` (unknown) passes.

    Example:
        >>> from keras_tone.audio import check_duration
        >>> check_duration(600.0, name="lecture.wav")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: lecture.wav is 600.0 s long; ToneNet classifies one syllable ...
    """
    if seconds is not None and seconds > MAX_CLIP_SECONDS:
        raise ValueError(
            f"{name} is {seconds:.1f} s long; ToneNet "
            f"classifies one syllable (at most {MAX_CLIP_SECONDS:.0f} s are "
            "accepted). Split long recordings into syllables first, e.g. "
            "with `librosa.effects.split`."
        )


def prepare_batch(
    clips: Sequence[np.ndarray] | np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    *,
    model_sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Stack clips of different lengths into one zero-padded batch for `model.predict`.

    Each clip is converted by the rules of `to_mono_float` (int16 PCM scaled,
    stereo averaged), resampled from `sample_rate` to `model_sample_rate`
    when they differ, and zero-padded at the end to the longest clip. Silence
    trimming, loudness normalisation and the fixed-length crop happen inside
    the model (`keras_tone.layers.SyllableNormalization`), so a saved model
    does exactly what this API does.

    Args:
        clips: a list of waveforms (or one waveform), each `[samples]` or
            `[samples, channels]`.
        sample_rate: sampling rate of `clips`, in Hz.
        model_sample_rate: sampling rate the model was built for.

    Returns:
        float32 array of shape `[len(clips), longest]`.

    Raises:
        ValueError: a clip is empty, silent (all zeros), has NaN/Inf samples,
            or is longer than `MAX_CLIP_SECONDS`.

    Example:
        >>> import numpy as np
        >>> from keras_tone import prepare_batch
        >>> clips = [np.ones(8000, "float32") * 0.1, np.ones(4000, "int16") * 3000]
        >>> prepare_batch(clips).shape
        (2, 8000)
    """
    if isinstance(clips, (str, bytes, os.PathLike)):
        raise ValueError(
            "prepare_batch takes waveforms (numpy arrays), not file names: read the file with "
            "`keras_tone.load_audio(path)`, or classify files with `keras_tone.predict_files`. "
            f"Received: clips={clips!r}"
        )
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = [clips]
    if len(clips) == 0:
        raise ValueError("prepare_batch received no clips.")
    prepared = [
        resample(validate_clip(clip, sample_rate, name=f"clip {i}"), sample_rate, model_sample_rate)
        for i, clip in enumerate(clips)
    ]
    return pad_batch(prepared)[0]


def resample(waveform: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a mono float waveform with soxr (high quality), as librosa does.

    The output has `ceil(len(waveform) * target_rate / orig_rate)` samples,
    like `librosa.resample(..., res_type="soxr_hq")` (librosa's default),
    whose output this equals.

    Example:
        >>> import numpy as np
        >>> resample(np.zeros(441, "float32"), 44100, 16000).shape
        (160,)
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    if orig_rate == target_rate:
        return waveform
    import soxr

    size = math.ceil(waveform.shape[0] * target_rate / orig_rate)
    out = soxr.resample(waveform, orig_rate, target_rate, quality="HQ")
    if out.shape[0] < size:
        out = np.pad(out, (0, size - out.shape[0]))
    return out[:size].astype(np.float32, copy=False)


def cut(
    waveform: np.ndarray, sample_rate: int, intervals: Sequence[tuple[float, float]]
) -> list[np.ndarray]:
    """The samples of each interval: `waveform[start * rate : end * rate]`, rounded.

    How `keras_tone.score` and `keras_tone.words.load_word_corpus` turn the
    syllables of a word (`keras_tone.segmentation.Segment`s, or a TextGrid's
    intervals through `keras_tone.segmentation.as_segment`) into clips for a
    tone model: exactly the interval, no margin added.

    Args:
        waveform: mono float waveform `[samples]`.
        sample_rate: its sampling rate in Hz.
        intervals: `(start, end)` pairs in seconds (a `Segment` is one).

    Returns:
        One view of `waveform` per interval (one that runs past the end of
        the recording is cut at the end).

    Raises:
        ValueError: an interval has `start >= end`, starts before 0, or
            starts at or after the end of the recording; the message names it.

    Example:
        >>> import numpy as np
        >>> from keras_tone.audio import cut
        >>> clips = cut(np.arange(100, dtype="float32"), 100, [(0.1, 0.25), (0.5, 2.0)])
        >>> print([(int(clip[0]), clip.size) for clip in clips])
        [(10, 15), (50, 50)]
    """
    seconds = len(waveform) / sample_rate
    clips = []
    for i, (start, end) in enumerate(intervals):
        if not (0.0 <= start < end) or start >= seconds:
            raise ValueError(
                f"Interval {i + 1} runs from {start} s to {end} s; intervals must have "
                f"0 <= start < end and start within the recording (0-{seconds:.3f} s)."
            )
        clips.append(waveform[int(round(start * sample_rate)) : int(round(end * sample_rate))])
    return clips


def pad_batch(waveforms: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad 1-D float32 waveforms at the end into one batch; also return their lengths.

    Unlike `prepare_batch` it checks and converts nothing.

    Returns:
        `(batch [len(waveforms), longest] float32, lengths [len(waveforms)] int32)`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.audio import pad_batch
        >>> batch, lengths = pad_batch([np.ones(3, "float32"), np.ones(5, "float32")])
        >>> batch.shape, lengths.tolist()
        ((2, 5), [3, 5])
    """
    lengths = np.array([len(w) for w in waveforms], np.int32)
    batch = np.zeros((len(waveforms), int(lengths.max())), np.float32)
    for row, waveform, length in zip(batch, waveforms, lengths, strict=True):
        row[:length] = waveform
    return batch, lengths
