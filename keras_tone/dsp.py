"""Pure-numpy signal-processing constants: windows, DFT, mel filterbank, DCT, filters.

The layers in `keras_tone.layers` build these matrices once, at construction,
and embed them in the graph as constants. They follow librosa's conventions
(periodic windows, Slaney mel scale and area normalisation, orthonormal
DCT-II) so that features computed in the graph match `librosa.feature`.
librosa itself is not needed at run time for them.
"""

from __future__ import annotations

import numpy as np

WINDOWS = ("hann", "hamming", "ones")


def get_window(window: str, win_length: int, n_fft: int) -> np.ndarray:
    """A periodic analysis window of `win_length`, centred in `n_fft` samples.

    Matches `librosa.filters.get_window(window, win_length, fftbins=True)`
    followed by `librosa.util.pad_center(..., size=n_fft)`.

    Args:
        window: `"hann"`, `"hamming"` or `"ones"` (rectangular).
        win_length: window length in samples, `<= n_fft`.
        n_fft: FFT size the window is padded to.

    Returns:
        float64 array of shape `(n_fft,)`.

    Example:
        >>> get_window("hann", 4, 4)
        array([0. , 0.5, 1. , 0.5])
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}. Received: window={window!r}")
    if not 0 < win_length <= n_fft:
        raise ValueError(
            f"win_length must be in (0, n_fft={n_fft}]. Received: win_length={win_length}"
        )
    n = np.arange(win_length)
    if window == "hann":
        w = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)
    elif window == "hamming":
        w = 0.54 - 0.46 * np.cos(2.0 * np.pi * n / win_length)
    else:
        w = np.ones(win_length)
    left = (n_fft - win_length) // 2
    return np.pad(w, (left, n_fft - win_length - left))


def dft_matrices(n_fft: int, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary DFT matrices for the frequency `bins` of an `n_fft` DFT.

    `frames @ real` and `frames @ imag` give the real and imaginary parts of
    `np.fft.rfft(frames)[..., bins]`. Computing only the bins that the mel
    filterbank uses saves most of the work when `fmax` is well below Nyquist.

    Returns:
        Two float64 arrays of shape `(n_fft, len(bins))`.
    """
    n = np.arange(n_fft)[:, None]
    k = np.asarray(bins)[None, :]
    phase = 2.0 * np.pi * ((n * k) % n_fft) / n_fft
    return np.cos(phase), -np.sin(phase)


def folded_dft_matrices(
    real: np.ndarray, imag: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Half-size DFT matrices for windows symmetric about `n_fft / 2`, else `None`.

    With `w[n] == w[N - n]` (periodic Hann, Hamming and rectangular windows
    centred in an even `N`), row `N - n` of the windowed cosine matrix equals
    row `n` and the sine row is its negative. So `frames @ real` is
    `(x[1:h+1] + x[N-1:h-1:-1]) @ cos + x[0] * real[0]` and `frames @ imag`
    is `(x[1:h+1] - x[N-1:h-1:-1]) @ sin`, with `h = N / 2`, `cos = real[1:h+1]`
    (its last row halved: `x[h]` is its own partner and is counted twice) and
    `sin = imag[1:h+1]`.

    Returns:
        `(cos, sin, first)` as float32, `first` the row of `x[0]` or `None`
        when it is zero; `None` when the window is not symmetric.
    """
    n = real.shape[0]
    half = n // 2
    symmetric = (
        n % 2 == 0
        and np.allclose(real[1:half], real[:half:-1], rtol=0, atol=1e-12)
        and np.allclose(imag[1:half], -imag[:half:-1], rtol=0, atol=1e-12)
        and np.allclose(imag[[0, half]], 0.0, rtol=0, atol=1e-12)
    )
    if not symmetric:
        return None
    cos = real[1 : half + 1].copy()
    cos[-1] *= 0.5
    first = real[0] if np.any(real[0] != 0) else None
    return (
        cos.astype("float32"),
        imag[1 : half + 1].astype("float32"),
        None if first is None else first.astype("float32"),
    )


def hz_to_mel(frequencies: np.ndarray, *, htk: bool = False) -> np.ndarray:
    """Hz to mels, as `librosa.hz_to_mel` (Slaney scale unless `htk`)."""
    f = np.asanyarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_region = f >= min_log_hz
    return np.where(
        log_region,
        min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep,
        mels,
    )


def mel_to_hz(mels: np.ndarray, *, htk: bool = False) -> np.ndarray:
    """Mels to Hz, the inverse of `hz_to_mel`."""
    m = np.asanyarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(
        m >= min_log_mel,
        min_log_hz * np.exp(logstep * (m - min_log_mel)),
        f_sp * m,
    )


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
) -> np.ndarray:
    """Triangular mel filterbank, as `librosa.filters.mel`.

    Args:
        sample_rate: sampling rate in Hz.
        n_fft: FFT size; the filterbank has `1 + n_fft // 2` columns.
        n_mels: number of mel bands.
        fmin: lowest frequency in Hz.
        fmax: highest frequency in Hz; `None` means `sample_rate / 2`.
        htk: HTK mel scale instead of Slaney's.
        norm: `"slaney"` (area normalisation, librosa's default) or `None`.

    Returns:
        float64 array of shape `(n_mels, 1 + n_fft // 2)`.

    Example:
        >>> mel_filterbank(sample_rate=16000, n_fft=512, n_mels=40).shape
        (40, 257)
    """
    if fmax is None:
        fmax = sample_rate / 2.0
    if not 0.0 <= fmin < fmax <= sample_rate / 2.0:
        raise ValueError(
            "Expected 0 <= fmin < fmax <= sample_rate / 2. Received: "
            f"fmin={fmin}, fmax={fmax}, sample_rate={sample_rate}"
        )
    if norm not in ("slaney", None):
        raise ValueError(f"norm must be 'slaney' or None. Received: norm={norm!r}")
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    mel_points = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels + 2)
    mel_f = mel_to_hz(mel_points, htk=htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II as a matrix: `x @ D == scipy.fft.dct(x, norm="ortho")[:n_out]`.

    Returns:
        float64 array of shape `(n_in, n_out)`.
    """
    n = np.arange(n_in)[:, None]
    k = np.arange(n_out)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2.0 * n_in))
    scale = np.full(n_out, np.sqrt(2.0 / n_in))
    scale[0] = np.sqrt(1.0 / n_in)
    return basis * scale


def lifter_weights(n_mfcc: int, lifter: float) -> np.ndarray:
    """Sinusoidal cepstral liftering weights, as in `librosa.feature.mfcc`."""
    if lifter <= 0:
        return np.ones(n_mfcc)
    return 1.0 + (lifter / 2.0) * np.sin(np.pi * np.arange(1, 1 + n_mfcc) / lifter)


def lowpass_fir(*, sample_rate: int, cutoff_hz: float, taps: int) -> np.ndarray:
    """Linear-phase FIR low-pass: a Hamming-windowed sinc with unit gain at DC.

    Returns:
        float64 array of shape `(taps,)`, symmetric, summing to 1.

    Example:
        >>> kernel = lowpass_fir(sample_rate=16000, cutoff_hz=3600.0, taps=63)
        >>> kernel.shape, round(float(kernel.sum()), 12)
        ((63,), 1.0)
    """
    if taps < 3 or taps % 2 == 0:
        raise ValueError(f"taps must be an odd number >= 3. Received: taps={taps}")
    if not 0 < cutoff_hz < sample_rate / 2:
        raise ValueError(
            f"cutoff_hz must be in (0, sample_rate / 2 = {sample_rate / 2}). "
            f"Received: cutoff_hz={cutoff_hz}"
        )
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2.0 * cutoff_hz / sample_rate * n) * np.hamming(taps)
    return kernel / kernel.sum()


def highpass_fir(*, sample_rate: int, cutoff_hz: float, taps: int) -> np.ndarray:
    """Linear-phase FIR high-pass: a delta minus `lowpass_fir`.

    Returns:
        float64 array of shape `(taps,)`, symmetric, unit gain at Nyquist and
        zero gain at DC.

    Example:
        >>> kernel = highpass_fir(sample_rate=16000, cutoff_hz=60.0, taps=1023)
        >>> kernel.shape, bool(abs(kernel.sum()) < 1e-9)
        ((1023,), True)
    """
    kernel = -lowpass_fir(sample_rate=sample_rate, cutoff_hz=cutoff_hz, taps=taps)
    kernel[(taps - 1) // 2] += 1.0
    return kernel


def polyphase_kernel(kernel: np.ndarray, phases: int) -> np.ndarray:
    """An FIR kernel rearranged to filter blocks of `phases` samples with one convolution.

    Entry `[j, s, r]` is `kernel[phases * j + s - r]` (zero out of range), so
    that convolving a signal reshaped to `[blocks, phases]` with it (VALID
    padding, `phases` input and output channels) gives the cross-correlation
    of the signal with `kernel`: the same multiply-adds as a one-channel
    convolution, as one dense convolution that CPUs run many times faster.

    Returns:
        float64 array of shape `(ceil((taps + phases - 1) / phases), phases, phases)`.
    """
    taps = kernel.size
    blocks = -(-(taps + phases - 1) // phases)
    j, s, r = np.meshgrid(np.arange(blocks), np.arange(phases), np.arange(phases), indexing="ij")
    index = phases * j + s - r
    index = np.where((index >= 0) & (index < taps), index, taps)
    return np.append(kernel, 0.0)[index]


def pitch_candidates(fmin: float, fmax: float, step: float) -> np.ndarray:
    """F0 candidates from `fmin` up to `fmax` Hz, `step` semitones apart.

    Example:
        >>> pitch_candidates(100.0, 200.0, 6.0).round(1)
        array([100. , 141.4, 200. ])
    """
    if not 0 < fmin < fmax:
        raise ValueError(f"Expected 0 < fmin < fmax. Received: fmin={fmin}, fmax={fmax}")
    if step <= 0:
        raise ValueError(f"step must be positive. Received: step={step}")
    count = int(np.floor(12.0 / step * np.log2(fmax / fmin) + 1e-9)) + 1
    return fmin * 2.0 ** (np.arange(count) * step / 12.0)


def subharmonic_matrix(
    *,
    sample_rate: int,
    n_fft: int,
    bins: np.ndarray,
    candidates: np.ndarray,
    harmonics: int,
    decay: float,
) -> np.ndarray:
    """Subharmonic summation (Hermes, 1988) as a matrix over DFT bins.

    `spectrum @ matrix` gives, for each F0 candidate `f`, the sum over
    harmonics `h = 1 .. harmonics` of `decay ** (h - 1) * spectrum(h * f)`,
    the spectrum read between bins by linear interpolation. Harmonics outside
    `bins` add nothing. A voiced frame's true F0 collects its harmonics at
    the largest weights; its subharmonics and octave-up candidates collect
    fewer, with smaller weights.

    Args:
        sample_rate: sampling rate in Hz.
        n_fft: DFT size.
        bins: the consecutive DFT bin indices of `spectrum`'s columns.
        candidates: F0 candidates in Hz (`pitch_candidates`).
        harmonics: harmonics summed per candidate.
        decay: weight ratio of successive harmonics, in (0, 1].

    Returns:
        float64 array of shape `(len(bins), len(candidates))`.

    Example:
        >>> m = subharmonic_matrix(sample_rate=16000, n_fft=1024, bins=np.arange(5, 237),
        ...                        candidates=pitch_candidates(50.0, 600.0, 0.5),
        ...                        harmonics=12, decay=0.84)
        >>> m.shape
        (232, 87)
    """
    bins = np.asarray(bins)
    first, last = int(bins[0]), int(bins[-1])
    order = np.arange(1, harmonics + 1)
    position = np.outer(candidates, order) * n_fft / sample_rate  # [candidates, harmonics]
    lower = np.floor(position).astype(int)
    fraction = position - lower
    weight = decay ** (order - 1)[None, :]
    matrix = np.zeros((bins.size, len(candidates)))
    column = np.broadcast_to(np.arange(len(candidates))[:, None], position.shape)
    for offset, share in ((0, 1.0 - fraction), (1, fraction)):
        index = lower + offset
        inside = (index >= first) & (index <= last)
        np.add.at(matrix, (index[inside] - first, column[inside]), (weight * share)[inside])
    return matrix


def autocorrelation_matrix(n_fft: int, lags: np.ndarray) -> np.ndarray:
    """Wiener-Khinchin as a matrix: power spectrum (one-sided) to autocorrelation.

    For a frame `x` zero-padded to `n_fft` samples, `power = abs(rfft(x)) ** 2`
    and `power @ autocorrelation_matrix(n_fft, lags)` is
    `[sum(x[:len(x) - t] * x[t:]) for t in lags]`, the linear autocorrelation,
    as long as `len(x) + max(lags) <= n_fft` (no wrap-around). Bins 1 to
    `n_fft / 2 - 1` count twice, for their negative-frequency twins.

    Returns:
        float64 array of shape `(n_fft // 2 + 1, len(lags))`.

    Example:
        >>> x = np.array([1.0, 2.0, 3.0])
        >>> power = np.abs(np.fft.rfft(x, 8)) ** 2
        >>> np.round(power @ autocorrelation_matrix(8, np.arange(3)), 6)
        array([14.,  8.,  3.])
    """
    k = np.arange(n_fft // 2 + 1)
    twice = np.where((k == 0) | (k == n_fft // 2), 1.0, 2.0)
    phase = 2.0 * np.pi * ((k[:, None] * np.asarray(lags)[None, :]) % n_fft) / n_fft
    return np.cos(phase) * twice[:, None] / n_fft


def band_matrix(n_bins: int, bands: int) -> np.ndarray:
    """0/1 matrix summing `n_bins` frequency bins into `bands` bands of equal width.

    Returns:
        float64 array of shape `(n_bins, bands)`; bin `k` falls in band
        `min(k * bands // (n_bins - 1), bands - 1)` (the last bin, Nyquist,
        joins the last band).

    Example:
        >>> band_matrix(5, 2).T
        array([[1., 1., 0., 0., 0.],
               [0., 0., 1., 1., 1.]])
    """
    band = np.minimum(np.arange(n_bins) * bands // (n_bins - 1), bands - 1)
    return (band[:, None] == np.arange(bands)[None, :]).astype(np.float64)
