"""The power spectrum, and log-mel spectrogram and MFCC layers that match librosa."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras
from keras_tone.layers._base import PACKAGE, Spectrogram, float32_only, log10


@keras.utils.register_keras_serializable(package=PACKAGE)
class PowerSpectrogram(Spectrogram):
    """The power spectrum `|STFT|^2` of mono waveforms over a range of DFT bins.

    The STFT of the spectral layers (`LogMelSpectrogram`, `MFCC`,
    `PitchSalience`) as a layer of its own, in the manner of kapre's
    composed layers: `PowerSpectrogram.covering(layers)` reads the frames
    those layers read over the bins any of them reads, `select(power, layer)`
    cuts out one layer's bins, and `layer.from_power(...)` finishes that
    layer's work. Several layers over the same frames then share one STFT
    (ToneNet's front end shares one between its log-mel and pitch images),
    with the outputs they give alone: each bin's DFT is the same matrix column.
    Its output is `np.abs(librosa.stft(y, ...)) ** 2` transposed to
    `[frames, bins]` and cut to the bins, and its defaults are librosa's.

    Args:
        sample_rate: sampling rate of the input in Hz.
        n_fft: FFT size.
        hop_length: samples between frames; `None` means `win_length // 4`.
        win_length: window length, `<= n_fft`; `None` means `n_fft`.
        window: `"hann"`, `"hamming"` or `"ones"`.
        center: pad `n_fft // 2` zeros on both sides so frame `t` is centred
            at sample `t * hop_length`.
        first_bin: the lowest DFT bin computed (bin `k` is `k * sample_rate /
            n_fft` Hz).
        last_bin: the highest, at most `n_fft // 2`; `None` means `n_fft // 2`.

    Input shape:
        `[batch, samples]` (or `[samples]`) float waveforms.

    Output shape:
        `[batch, frames, last_bin - first_bin + 1]`, `frames = 1 + samples //
        hop_length` when `center=True`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import LogMelSpectrogram, PitchSalience, PowerSpectrogram
        >>> log_mel = LogMelSpectrogram(sample_rate=16000, n_fft=1024, hop_length=512,
        ...                             n_mels=80, fmin=75.0, fmax=3700.0)
        >>> pitch = PitchSalience(sample_rate=16000)
        >>> spectrum = PowerSpectrogram.covering([log_mel, pitch])
        >>> x = np.random.default_rng(0).normal(0, 0.1, (2, 8000)).astype("float32")
        >>> power = spectrum(x)
        >>> shared = log_mel.from_power(spectrum.select(power, log_mel))
        >>> float(np.abs(shared - log_mel(x)).max())
        0.0
    """

    _CONFIG = (
        "sample_rate",
        "n_fft",
        "hop_length",
        "win_length",
        "window",
        "center",
        "first_bin",
        "last_bin",
    )

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        first_bin: int = 0,
        last_bin: int | None = None,
        **kwargs: Any,
    ) -> None:
        float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self._set_frames(
            n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center
        )
        self.sample_rate = int(sample_rate)
        self.first_bin = int(first_bin)
        self.last_bin = int(self.n_fft // 2 if last_bin is None else last_bin)
        if not 0 <= self.first_bin <= self.last_bin <= self.n_fft // 2:
            raise ValueError(
                f"Expected 0 <= first_bin <= last_bin <= n_fft // 2 = {self.n_fft // 2}. "
                f"Received: first_bin={first_bin}, last_bin={last_bin}"
            )
        self._set_bins(np.arange(self.first_bin, self.last_bin + 1))

    @classmethod
    def covering(cls, layers: Sequence[Spectrogram], **kwargs: Any) -> PowerSpectrogram:
        """The power spectrum that every one of `layers` can read its bins from.

        Args:
            layers: spectral layers that read the same frames (sampling rate,
                `n_fft`, `hop_length`, `win_length`, `window`, `center`).
            **kwargs: Keras layer arguments (`name`).

        Raises:
            ValueError: the layers read different frames, or none is given.
        """
        framings = {layer._framing() for layer in layers}
        if len(framings) != 1:
            raise ValueError(
                "The layers that share a power spectrum must read the same frames "
                "(sample_rate, n_fft, hop_length, win_length, window, center). "
                f"Received: {sorted(framings, key=str)}"
            )
        sample_rate, n_fft, hop_length, win_length, window, center = framings.pop()
        return cls(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            first_bin=min(int(layer.bins[0]) for layer in layers),
            last_bin=max(int(layer.bins[-1]) for layer in layers),
            **kwargs,
        )

    def select(self, power: Any, layer: Spectrogram) -> tf.Tensor:
        """The bins of `power` (this layer's output) that `layer` reads, for `layer.from_power`.

        Raises:
            ValueError: `layer` reads other frames, or bins outside this spectrum.
        """
        if layer._framing() != self._framing() or not (
            self.first_bin <= layer.bins[0] and layer.bins[-1] <= self.last_bin
        ):
            raise ValueError(
                f"{layer.name} reads other frames or bins than this power spectrum "
                f"(bins {self.first_bin}-{self.last_bin}). Make the spectrum with "
                f"PowerSpectrogram.covering([...]). Received: bins "
                f"{int(layer.bins[0])}-{int(layer.bins[-1])} of {layer._framing()}"
            )
        start = int(layer.bins[0]) - self.first_bin
        return power[..., start : start + layer.bins.size]

    def _from_power(self, power: tf.Tensor) -> tf.Tensor:
        return power

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        return (*input_shape[:-1], self._n_frames(input_shape[-1]), self.bins.size)


@keras.utils.register_keras_serializable(package=PACKAGE)
class LogMelSpectrogram(Spectrogram):
    """Log-mel spectrogram of mono waveforms, computed in the graph.

    Equal to `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr,
    ...), ref=ref, amin=amin, top_db=top_db)`, transposed to
    `[frames, n_mels]`, and every default is librosa's: periodic Hann window,
    centred frames padded with zeros (`pad_mode="constant"`), Slaney mel scale
    with Slaney area normalisation, power 2, `amin=1e-10`, `ref=1.0`,
    `top_db=80`. tests/test_layers.py holds it to librosa within 0.01 dB on
    every bin above the `top_db` floor.

    The `top_db` floor is applied per example: unlike
    `keras.layers.MelSpectrogram`, a clip's features never depend on the other
    clips in its batch.

    Args:
        sample_rate: sampling rate of the input in Hz.
        n_fft: FFT size.
        hop_length: samples between frames; `None` means `win_length // 4`.
        win_length: window length, `<= n_fft`; `None` means `n_fft`.
        window: `"hann"`, `"hamming"` or `"ones"`.
        center: pad `n_fft // 2` zeros on both sides so frame `t` is centred
            at sample `t * hop_length`.
        n_mels: number of mel bands.
        fmin: lowest mel frequency in Hz.
        fmax: highest mel frequency in Hz; `None` means `sample_rate / 2`.
        htk: HTK mel scale instead of Slaney's.
        norm: `"slaney"` or `None` (no area normalisation).
        power: exponent of the magnitude (2 for power, 1 for magnitude).
        amin: floor of the mel power before the logarithm.
        ref: reference power for 0 dB: a positive number, or `"max"` for the
            loudest bin of each example (librosa's `ref=np.max`, per clip).
        top_db: floor the output at `max - top_db` per example; `None` for no
            floor.

    Input shape:
        `[batch, samples]` (or `[samples]`) float waveforms in [-1, 1].

    Output shape:
        `[batch, frames, n_mels]` with `frames = 1 + samples // hop_length`
        when `center=True`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import LogMelSpectrogram
        >>> layer = LogMelSpectrogram(sample_rate=16000, n_fft=1024,
        ...                           hop_length=512, n_mels=80)
        >>> layer(np.zeros((2, 16000), "float32")).shape
        TensorShape([2, 32, 80])
    """

    _CONFIG = (
        "sample_rate",
        "n_fft",
        "hop_length",
        "win_length",
        "window",
        "center",
        "n_mels",
        "fmin",
        "fmax",
        "htk",
        "norm",
        "power",
        "amin",
        "ref",
        "top_db",
    )

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        htk: bool = False,
        norm: str | None = "slaney",
        power: float = 2.0,
        amin: float = 1e-10,
        ref: float | str = 1.0,
        top_db: float | None = 80.0,
        **kwargs: Any,
    ) -> None:
        float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self._set_frames(
            n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center
        )
        if power <= 0:
            raise ValueError(f"power must be positive. Received: power={power}")
        if amin <= 0:
            raise ValueError(f"amin must be positive. Received: amin={amin}")
        if top_db is not None and top_db < 0:
            raise ValueError(f"top_db must be non-negative or None. Received: top_db={top_db}")
        if isinstance(ref, str):
            if ref != "max":
                raise ValueError(f"ref must be a positive number or 'max'. Received: ref={ref!r}")
        elif ref <= 0:
            raise ValueError(f"ref must be a positive number or 'max'. Received: ref={ref}")
        self.sample_rate = int(sample_rate)
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(self.sample_rate / 2.0 if fmax is None else fmax)
        self.htk = bool(htk)
        self.norm = norm
        self.power = float(power)
        self.amin = float(amin)
        self.ref = ref if isinstance(ref, str) else float(ref)
        self.top_db = None if top_db is None else float(top_db)

        filterbank = dsp.mel_filterbank(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            htk=self.htk,
            norm=self.norm,
        )
        used = np.flatnonzero(filterbank.any(axis=0))
        if used.size == 0:
            raise ValueError(
                f"The mel filterbank is empty: n_mels={n_mels} bands between "
                f"{self.fmin} and {self.fmax} Hz fall between the FFT bins of "
                f"n_fft={n_fft}. Use a larger n_fft or fewer mel bands."
            )
        bins = np.arange(used[0], used[-1] + 1)
        self._set_bins(bins)
        self._filterbank = filterbank[:, bins].T.astype("float32")

    def _from_power(self, power: tf.Tensor) -> tf.Tensor:
        if self.power != 2.0:
            power = tf.pow(power, self.power / 2.0)
        mel = tf.matmul(power, tf.constant(self._filterbank))
        log_mel = 10.0 * log10(tf.maximum(mel, self.amin))
        if self.ref == "max":
            ref = tf.reduce_max(mel, axis=[1, 2], keepdims=True)
            log_mel -= 10.0 * log10(tf.maximum(ref, self.amin))
        else:
            log_mel -= 10.0 * np.log10(max(self.ref, self.amin))
        if self.top_db is not None:
            peak = tf.reduce_max(log_mel, axis=[1, 2], keepdims=True)
            log_mel = tf.maximum(log_mel, peak - self.top_db)
        return log_mel

    def _n_features(self) -> int:
        return self.n_mels

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        frames = self._n_frames(input_shape[-1])
        return (*input_shape[:-1], frames, self._n_features())


@keras.utils.register_keras_serializable(package=PACKAGE)
class MFCC(LogMelSpectrogram):
    """Mel-frequency cepstral coefficients, computed in the graph.

    Equal to `librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, lifter=lifter,
    ...)` transposed to `[frames, n_mfcc]`: the log-mel of
    `LogMelSpectrogram` (same arguments and librosa defaults, including
    `n_mels=128` and `top_db=80`) followed by an orthonormal DCT-II over the
    mel axis and, when `lifter > 0`, librosa's sinusoidal liftering.

    Args:
        n_mfcc: number of coefficients, `<= n_mels`.
        lifter: liftering coefficient; 0 disables it.
        **kwargs: the arguments of `LogMelSpectrogram`.

    Output shape:
        `[batch, frames, n_mfcc]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import MFCC
        >>> MFCC(sample_rate=16000, n_mfcc=13)(np.zeros((1, 8000), "float32")).shape
        TensorShape([1, 16, 13])
    """

    _CONFIG = (*LogMelSpectrogram._CONFIG, "n_mfcc", "lifter")

    def __init__(self, *, n_mfcc: int = 20, lifter: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 < n_mfcc <= self.n_mels:
            raise ValueError(
                f"n_mfcc must be in [1, n_mels={self.n_mels}]. Received: n_mfcc={n_mfcc}"
            )
        if lifter < 0:
            raise ValueError(f"lifter must be >= 0. Received: lifter={lifter}")
        self.n_mfcc = int(n_mfcc)
        self.lifter = float(lifter)
        dct = dsp.dct_matrix(self.n_mels, self.n_mfcc)
        self._dct = (dct * dsp.lifter_weights(self.n_mfcc, self.lifter)[None, :]).astype("float32")

    def _from_power(self, power: tf.Tensor) -> tf.Tensor:
        return tf.matmul(super()._from_power(power), tf.constant(self._dct))

    def _n_features(self) -> int:
        return self.n_mfcc
