"""A plain numpy implementation of `keras_tone.layers.VoicedSpeech`, as its test reference.

Written from the layer's docstring with `np.fft` and loops over lags, not
from `keras_tone.dsp`'s matrices, so that the two can disagree.
"""

from __future__ import annotations

import numpy as np


def voiced_frames(
    x: np.ndarray,
    sample_rate: int = 16000,
    *,
    f0_min: float = 65.0,
    f0_max: float = 500.0,
    max_aperiodicity: float = 0.55,
    max_partial_share: float = 0.97,
    max_low_share: float = 0.95,
    max_flatness: float = 0.75,
    max_f0_jump: float = 1.2,
    max_imbalance_db: float = 20.0,
    range_db: float = 40.0,
    floor_db: float = -70.0,
) -> dict[str, np.ndarray]:
    """Per-frame measures and the voiced decision of one clip (float64)."""
    x = np.asarray(x, np.float64)
    rate = sample_rate / 2
    frame = 2 * round(0.016 * rate)
    hop = frame // 2
    n_fft = 2 * frame

    taps = 63
    n = np.arange(taps) - (taps - 1) / 2
    lowpass = np.sinc(2 * 0.45 * rate / sample_rate * n) * np.hamming(taps)
    lowpass /= lowpass.sum()
    decimated = np.convolve(x, lowpass)[(taps - 1) // 2 :][::2][: -(-x.size // 2)]

    count = -(-decimated.size // hop)
    padded = np.pad(decimated, (0, (count - 1) * hop + frame - decimated.size))
    frames = np.stack([padded[i * hop : i * hop + frame] for i in range(count)])
    frames = frames - frames.mean(axis=1, keepdims=True)

    lag_min, lag_max = int(np.floor(rate / f0_max)), int(np.ceil(rate / f0_min))
    lags = np.arange(lag_max + 2)
    correlation = np.stack([[f[: frame - t] @ f[t:] for t in lags] for f in frames])
    head = np.stack([[f[: frame - t] @ f[: frame - t] for t in lags] for f in frames])
    tail = np.stack([[f[t:] @ f[t:] for t in lags] for f in frames])
    difference = np.maximum(1 - correlation / np.sqrt(np.maximum(head * tail, 1e-30)), 0)
    normalised = difference[:, 1:] * lags[1:] / np.maximum(np.cumsum(difference[:, 1:], 1), 1e-12)
    inner = normalised[:, lag_min - 1 : lag_max]
    minimum = (inner <= normalised[:, lag_min - 2 : lag_max - 1]) & (
        inner <= normalised[:, lag_min : lag_max + 1]
    )
    candidates = np.where(minimum, inner, 10.0)
    aperiodicity = candidates.min(axis=1)
    period = candidates.argmin(axis=1) + lag_min

    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)
    spectrum = np.abs(np.fft.rfft(frames * window, n_fft)) ** 2
    spectrum[:, 1:-1] *= 2
    total = np.maximum(spectrum.sum(axis=1), 1e-30)
    partial = max_window_sum(spectrum, 9) / total
    low_share = spectrum[:, : int(np.ceil(250 * n_fft / rate))].sum(axis=1) / total
    bands = np.minimum(np.arange(spectrum.shape[1]) * 8 // (spectrum.shape[1] - 1), 7)
    energy = np.stack([spectrum[:, bands == b].sum(axis=1) for b in range(8)], 1) + 1e-30
    flatness = np.exp(np.log(energy).mean(axis=1)) / energy.mean(axis=1)

    level = 10 * np.log10(np.maximum((frames**2).sum(axis=1) / frame, 1e-20))
    halves = np.stack(
        [(frames[:, : frame // 2] ** 2).sum(1), (frames[:, frame // 2 :] ** 2).sum(1)]
    )
    balance = 10 * np.log10(np.maximum(halves.min(0) / np.maximum(halves.max(0), 1e-30), 1e-20))
    candidate = (
        (level >= floor_db)
        & (level >= level.max() - range_db)
        & (balance >= -max_imbalance_db)
        & (aperiodicity <= max_aperiodicity)
        & (partial <= max_partial_share)
        & (low_share <= max_low_share)
        & (flatness <= max_flatness)
    )
    steady = np.abs(np.log(period[1:] / period[:-1])) <= np.log(max_f0_jump)
    pair = candidate[1:] & candidate[:-1] & steady
    voiced = np.zeros(count, bool)
    voiced[1:] |= pair
    voiced[:-1] |= pair
    return {
        "level_db": level,
        "balance_db": balance,
        "aperiodicity": aperiodicity,
        "partial_share": partial,
        "low_share": low_share,
        "flatness": flatness,
        "voiced": voiced,
        "seconds": voiced.sum() * hop / rate,
    }


def max_window_sum(spectrum: np.ndarray, width: int) -> np.ndarray:
    """Largest sum of `width` adjacent bins (zeros beyond the ends), per row."""
    half = width // 2
    padded = np.pad(spectrum, ((0, 0), (half, half)))
    sums = np.stack([padded[:, k : k + width].sum(axis=1) for k in range(spectrum.shape[1])], 1)
    return sums.max(axis=1)
