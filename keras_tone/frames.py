"""Per-frame measures of a recording: level, sonority, periodicity, spectral change.

What the syllable finders (`keras_tone.segmentation` for words,
`keras_tone.alignment` for sentences) see of a recording, in 10 ms frames
of 32 ms Hann windows. Pure numpy/scipy.

Example:
    >>> import numpy as np
    >>> from keras_tone.frames import HOP_SECONDS, frame_measures
    >>> measures = frame_measures(np.zeros(16000), 16000)
    >>> HOP_SECONDS, measures.level.shape
    (0.01, (101,))
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

#: Frame hop of the analysis, in seconds: boundaries are multiples of it.
HOP_SECONDS = 0.01

_WINDOW_SECONDS = 0.032
_SONORITY_BAND_HZ = (300.0, 2500.0)
_LEVEL_BAND_HZ = (60.0, 8000.0)
_PERIODICITY_LOWPASS_HZ = 1200.0
_PITCH_RANGE_HZ = (60.0, 600.0)
_DIP_REACH_FRAMES = 20
_CHANGE_REACH_FRAMES = 2
_CHANGE_BANDS = 32


def check_rate(sample_rate: int) -> int:
    """`sample_rate` as an int, or a ValueError when it is not an integer >= 8000 Hz."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise ValueError(f"sample_rate must be an integer in Hz; received {sample_rate!r}.")
    if sample_rate < 8000:
        raise ValueError(
            f"sample_rate must be at least 8000 Hz (the analysis uses 300-2500 Hz and "
            f"pitch periods down to 1.7 ms); received sample_rate={sample_rate}."
        )
    return int(sample_rate)


class FrameMeasures(NamedTuple):
    """What `frame_measures` measures in each 10 ms frame (all 1-D `[frames]` but `bands`).

    Frame k is centred at `k * HOP_SECONDS`. Levels are in dB (not normalised).
    """

    level: np.ndarray  # 60 Hz-8 kHz
    sonority: np.ndarray  # 300-2500 Hz, smoothed over 30 ms
    periodicity: np.ndarray  # 0-1, highest normalised autocorrelation below 1.2 kHz
    change: np.ndarray  # spectral change, dB (32 mel-spaced bands, 20 ms before vs after)
    dip: np.ndarray  # dB of sonority below the lower of the peaks within 200 ms either side
    bands: (
        np.ndarray
    )  # [frames, 6]: levels of 60-300, 300-800, 800-1500, 1500-2500, 2500-4000, 4000-8000 Hz


#: Edges of `FrameMeasures.bands`, in Hz.
BAND_EDGES_HZ = (60.0, 300.0, 800.0, 1500.0, 2500.0, 4000.0, 8000.0)

# Frames analysed per block: the spectra of one block are held at once (bounded memory).
_BLOCK_FRAMES = 1024


def frame_measures(waveform: np.ndarray, sample_rate: int) -> FrameMeasures:
    """Per-frame level, sonority, periodicity, spectral change and band levels.

    The measurements behind `keras_tone.segmentation.segment` and
    `keras_tone.alignment.align`: 32 ms
    Hann windows every 10 ms (frame k centred at `k * HOP_SECONDS`), the
    spectra computed a block of frames at a time, so a long recording needs
    memory for its waveform and a few numbers per frame only.

    Args:
        waveform: mono float waveform `[samples]`.
        sample_rate: its sampling rate in Hz, at least 8000.

    Returns:
        A `FrameMeasures`, `waveform.size // (sample_rate / 100) + 1` frames.

    Example:
        >>> import numpy as np
        >>> from keras_tone.frames import frame_measures
        >>> tone = np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
        >>> measures = frame_measures(tone, 16000)
        >>> measures.level.shape, measures.bands.shape, bool(measures.periodicity[50] > 0.9)
        ((101,), (101, 6), True)
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    from keras_tone.audio import to_mono_float
    from keras_tone.dsp import hz_to_mel, mel_to_hz

    sample_rate = check_rate(sample_rate)
    x = to_mono_float(waveform, name="waveform").astype(np.float64)
    hop = int(round(HOP_SECONDS * sample_rate))
    win = int(round(_WINDOW_SECONDS * sample_rate))
    n_fft = 1 << int(np.ceil(np.log2(2 * win)))  # zero-padded: autocorrelation without wrap-around
    count = x.size // hop + 1
    padded = np.pad(x, (win // 2, win // 2 + hop))
    all_frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:count]
    window = np.hanning(win + 1)[:-1]
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    nyquist = sample_rate / 2.0
    window_ac = np.fft.irfft(np.abs(np.fft.rfft(window, n=n_fft)) ** 2, n=n_fft)
    lags = np.arange(
        int(sample_rate / _PITCH_RANGE_HZ[1]),
        min(int(sample_rate / _PITCH_RANGE_HZ[0]), win - 1) + 1,
    )
    # Mel-spaced rectangular bands summed with reduceat: no matrix product (BLAS threads
    # cost more than the sum on a busy machine).
    mels = np.linspace(hz_to_mel(60.0), hz_to_mel(min(8000.0, nyquist)), _CHANGE_BANDS + 1)
    edges = np.unique(np.searchsorted(freqs, mel_to_hz(mels)))

    def band_db(power: np.ndarray, low: float, high: float) -> np.ndarray:
        band = (freqs >= low) & (freqs < min(high, nyquist))
        return 10.0 * np.log10(power[:, band].sum(axis=1) + 1e-12)

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("level", "son", "per", "mel", "bands")}
    for first in range(0, count, _BLOCK_FRAMES):
        frames = all_frames[first : first + _BLOCK_FRAMES]
        frames = frames - frames.mean(axis=1, keepdims=True)
        power = np.abs(np.fft.rfft(frames * window, n=n_fft, axis=1)) ** 2
        parts["level"].append(band_db(power, *_LEVEL_BAND_HZ))
        parts["son"].append(band_db(power, *_SONORITY_BAND_HZ))
        parts["bands"].append(
            np.stack(
                [band_db(power, lo, hi) for lo, hi in itertools.pairwise(BAND_EDGES_HZ)],
                axis=1,
            )
        )
        # Periodicity: normalised autocorrelation of the low-passed frame, corrected for
        # the window.
        autocorr = np.fft.irfft(power * (freqs < _PERIODICITY_LOWPASS_HZ), n=n_fft, axis=1)
        ratio = (
            autocorr[:, lags]
            / np.maximum(autocorr[:, :1], 1e-20)
            * (window_ac[0] / window_ac[lags])
        )
        parts["per"].append(np.clip(ratio.max(axis=1), 0.0, 1.0))
        bands = np.add.reduceat(power[:, edges[0] : edges[-1]], edges[:-1] - edges[0], axis=1)
        parts["mel"].append(10.0 * np.log10(bands + 1e-12))
    level, sonority, periodicity, log_mel, band_levels = (
        np.concatenate(parts[k]) for k in ("level", "son", "per", "mel", "bands")
    )
    sonority = uniform_filter1d(sonority, 3, mode="nearest")

    # Spectral change: log-mel difference 20 ms before and after each frame.
    reach = _CHANGE_REACH_FRAMES
    edged = np.pad(log_mel, ((reach, reach), (0, 0)), mode="edge")
    change = np.abs(edged[2 * reach :] - edged[: -2 * reach]).mean(axis=1)

    # Dip: depth below the lower of the highest points within reach on either side.
    span = _DIP_REACH_FRAMES + 1
    left = maximum_filter1d(sonority, span, origin=span // 2, mode="nearest")
    right = maximum_filter1d(sonority, span, origin=-(span // 2), mode="nearest")
    dip = np.clip(np.minimum(left, right) - sonority, 0.0, 30.0)
    return FrameMeasures(level, sonority, periodicity, change, dip, band_levels)


__all__ = ["BAND_EDGES_HZ", "HOP_SECONDS", "FrameMeasures", "check_rate", "frame_measures"]
