"""VoicedSpeech: how many seconds of each clip hold voiced speech, computed in the graph.

Its constants (low-pass, DFT, autocorrelation and band matrices) come from
`keras_tone.dsp`; see the class docstring for what it measures, and
docs/troubleshooting.md ("No tone, no verdict") for what the gate built on
it (`keras_tone.gate`) gives on recordings and on generated non-speech
(`scripts/gate_report.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras
from keras_tone.layers._base import PACKAGE, WaveformLayer, check_waveforms, float32_only, log10
from keras_tone.layers.filters import polyphase_filter
from keras_tone.layers.nonfinite import finite_examples


@keras.utils.register_keras_serializable(package=PACKAGE)
class VoicedSpeech(WaveformLayer):
    """How many seconds of each clip hold voiced speech, computed in the graph.

    A voicing measure built from signal properties, not a classifier: no
    weights, and each threshold is a stated property of a voice. The clip is
    low-passed (63-tap windowed sinc at 0.45 of the new rate) and decimated by
    2 (8 kHz for 16 kHz input), then cut into 32 ms frames every 16 ms. A
    frame is a voiced candidate when all of these hold:

    1. **Level**: its mean square is at least `floor_db` dBFS and at most
       `range_db` below the clip's loudest frame, and neither half of it is
       more than `max_imbalance_db` quieter than the other (such a frame
       straddles an onset or a cut, and its spectrum is the cut's: a pure
       tone cut off looks rich there).
    2. **Periodicity in the voice's F0 range**: the normalised cross-
       correlation of the (mean-removed, rectangular) frame with itself at lag
       `t` over the overlapping part, `r(t) / sqrt(E1(t) * E2(t))`, becomes
       YIN's cumulative-mean-normalised difference `d'(t) = d(t) * t /
       sum(d(1..t))` with `d = 1 - r`; its smallest local minimum over the
       lags of `f0_min`..`f0_max` Hz (the aperiodicity) is at most
       `max_aperiodicity`, and that lag is the frame's period. `r` comes
       from the power spectrum (a DFT twice the frame's length, so no
       wrap-around), `E1` and `E2` from a cumulative sum of the squared
       frame. The rectangular frame keeps a periodic signal at exactly 0 at
       any lag (a tapered window biases long lags); YIN's normalisation keeps
       smooth, low-frequency noise from looking periodic at short lags; hum
       at 50 or 60 Hz has its period outside the range.
    3. **Harmonic richness**: the strongest partial (its Hann main lobe, 9
       bins) holds at most `max_partial_share` of the frame's power; a pure
       tone holds nearly all of it, also where it is cut off.
    4. **Spectral shape of a voice**: at most `max_low_share` of the power
       lies below 250 Hz (vowels have their first formant above it; hum does
       not, even with a strong second harmonic), and the envelope is not
       flat: the spectral flatness (geometric over arithmetic mean) of 8
       bands of equal width is at most `max_flatness` (clicks and white
       noise are flat; a voice has formants).
    5. **Continuity**: a candidate counts as voiced only next to another
       candidate whose period is within a factor `max_f0_jump` of its own
       (a voice's pitch moves little in 16 ms; noise that looks periodic in
       one frame does not in the next).

    Items 3 and 4 use the Hann-windowed power spectrum, exact from the same
    DFT (`X_hann[k] = X[k] / 2 - (X[k - 2] + X[k + 2]) / 4` for a frame half
    the DFT's length). The output is the number of voiced frames times the
    hop (16 ms). Zero padding after a clip does not change it. Examples that
    hold NaN or Inf give NaN. What the defaults give on recordings and on
    generated non-speech: docs/troubleshooting.md ("No tone, no verdict").

    Args:
        sample_rate: sampling rate of the input in Hz (analysed at half).
        f0_min: lowest fundamental frequency of a voice, in Hz.
        f0_max: highest fundamental frequency of a voice, in Hz.
        max_aperiodicity: largest aperiodicity (item 2) of a voiced frame.
        max_partial_share: largest share of the power in one partial.
        max_low_share: largest share of the power below 250 Hz.
        max_flatness: largest spectral flatness of the band envelope.
        max_f0_jump: largest ratio of the periods of neighbouring voiced frames.
        max_imbalance_db: largest level difference between a frame's halves.
        range_db: frames more than this below the loudest frame are silence.
        floor_db: frames below this mean-square level (dBFS) are silence.

    Input shape:
        `[batch, samples]` (or `[samples]`) float waveforms in [-1, 1].

    Output shape:
        `[batch]`: seconds of voiced speech per clip.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import VoicedSpeech
        >>> t = np.arange(16000) / 16000
        >>> vowel = sum(np.sin(2 * np.pi * 180 * k * t) / k**1.5 for k in range(1, 20))
        >>> clips = np.stack([0.1 * vowel, 0.3 * np.sin(2 * np.pi * 440 * t)])
        >>> seconds = VoicedSpeech(sample_rate=16000)(clips.astype("float32"))
        >>> tuple(round(float(s), 2) for s in seconds)
        (1.01, 0.0)
    """

    #: Frame length and hop at the analysis rate, in seconds.
    FRAME_SECONDS = 0.032
    HOP_SECONDS = 0.016
    #: Power below this frequency counts towards `max_low_share`.
    LOW_HZ = 250.0
    #: Bands of the envelope whose flatness is measured.
    BANDS = 8
    _TAPS = 63

    _CONFIG = (
        "sample_rate",
        "f0_min",
        "f0_max",
        "max_aperiodicity",
        "max_partial_share",
        "max_low_share",
        "max_flatness",
        "max_f0_jump",
        "max_imbalance_db",
        "range_db",
        "floor_db",
    )

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
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
        **kwargs: Any,
    ) -> None:
        float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        rate = self.sample_rate / 2.0
        self.frame = 2 * round(self.FRAME_SECONDS * rate / 2)
        self.hop = self.frame // 2
        if not rate / self.frame < f0_min < f0_max <= rate / 4:
            raise ValueError(
                f"Expected {rate / self.frame:.0f} < f0_min < f0_max <= {rate / 4:.0f} Hz "
                f"at sample_rate={self.sample_rate}. Received: f0_min={f0_min}, f0_max={f0_max}"
            )
        for name, value in (
            ("max_partial_share", max_partial_share),
            ("max_low_share", max_low_share),
            ("max_flatness", max_flatness),
        ):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]. Received: {name}={value}")
        if max_aperiodicity <= 0 or range_db <= 0 or max_f0_jump <= 1:
            raise ValueError(
                "max_aperiodicity and range_db must be positive and max_f0_jump above 1. "
                f"Received: max_aperiodicity={max_aperiodicity}, range_db={range_db}, "
                f"max_f0_jump={max_f0_jump}"
            )
        self.f0_min, self.f0_max = float(f0_min), float(f0_max)
        self.max_aperiodicity = float(max_aperiodicity)
        self.max_partial_share = float(max_partial_share)
        self.max_low_share = float(max_low_share)
        self.max_flatness = float(max_flatness)
        self.max_f0_jump = float(max_f0_jump)
        self.max_imbalance_db = float(max_imbalance_db)
        self.range_db, self.floor_db = float(range_db), float(floor_db)

        n_fft = 2 * self.frame
        self._lag_min = int(np.floor(rate / self.f0_max))
        self._lag_max = int(np.ceil(rate / self.f0_min))
        lags = np.arange(self._lag_max + 2)  # 0 .. lag_max + 1, for the local-minimum test
        bins = np.arange(n_fft // 2 + 1)
        # Built once; embedded as graph constants in call() (see module docs).
        lowpass = dsp.lowpass_fir(
            sample_rate=self.sample_rate, cutoff_hz=0.45 * rate, taps=self._TAPS
        )
        # Filter blocks of 32 samples, keep the even outputs: one dense convolution.
        self._decimator = dsp.polyphase_kernel(lowpass, 32)[:, :, ::2].astype("float32")
        real, imag = dsp.dft_matrices(n_fft, bins)
        self._dft = np.concatenate([real, imag], axis=1)[: self.frame].astype("float32")
        self._autocorrelation = dsp.autocorrelation_matrix(n_fft, lags).astype("float32")
        self._lags = lags.astype("int32")
        self._twice = np.where((bins == 0) | (bins == n_fft // 2), 1.0, 2.0).astype("float32")
        self._low_bins = int(np.ceil(self.LOW_HZ * n_fft / rate))
        self._bands = dsp.band_matrix(bins.size, self.BANDS).astype("float32")

    def frame_measures(self, waveforms: Any) -> dict[str, tf.Tensor]:
        """The per-frame measures behind the decision, for analysis and reports.

        Returns:
            A dict of `[batch, frames]` tensors: `level_db` (mean square,
            dBFS), `balance_db` (the quieter half re the louder),
            `aperiodicity`, `f0_hz` (from the period of item 2),
            `partial_share`, `low_share`, `flatness`, and `voiced` (bool,
            after the continuity rule).
        """
        x = check_waveforms(
            waveforms, layer_name=type(self).__name__, expected_rate=self.sample_rate
        )
        if x.shape.rank == 1:
            x = x[tf.newaxis]
        return self._measures(x)

    def _measures(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        decimated = polyphase_filter(x, self._decimator, left=(self._TAPS - 1) // 2)
        decimated = decimated[:, : (tf.shape(x)[1] + 1) // 2]
        # Frames up to the last one that starts inside the signal, zero-padded
        # explicitly: tf2onnx counts one frame fewer for `pad_end=True`.
        length = tf.shape(decimated)[1]
        count = (length + self.hop - 1) // self.hop
        decimated = tf.pad(decimated, [[0, 0], [0, (count - 1) * self.hop + self.frame - length]])
        frames = tf.signal.frame(decimated, self.frame, self.hop)
        frames -= tf.reduce_mean(frames, axis=-1, keepdims=True)
        n_bins = self._twice.size
        spectrum = tf.matmul(frames, tf.constant(self._dft))
        real, imag = spectrum[..., :n_bins], spectrum[..., n_bins:]

        # Periodicity: normalised cross-correlation over the overlap, then YIN.
        correlation = tf.matmul(
            tf.square(real) + tf.square(imag), tf.constant(self._autocorrelation)
        )
        energy = tf.pad(tf.cumsum(tf.square(frames), axis=-1), [[0, 0], [0, 0], [1, 0]])
        total = energy[..., -1:]
        head = tf.gather(energy, self.frame - self._lags, axis=-1)
        tail = total - tf.gather(energy, self._lags, axis=-1)
        difference = tf.maximum(
            1.0 - correlation * tf.math.rsqrt(tf.maximum(head * tail, 1e-30)), 0.0
        )
        lags = tf.constant(np.arange(1, self._lags.size, dtype="float32"))
        cumulative = tf.maximum(tf.cumsum(difference[..., 1:], axis=-1), 1e-12)
        normalised = difference[..., 1:] * lags / cumulative  # lags 1 .. lag_max + 1
        low, high = self._lag_min - 1, self._lag_max - 1  # lag t sits at index t - 1
        inner = normalised[..., low : high + 1]
        minimum = tf.logical_and(
            inner <= normalised[..., low - 1 : high], inner <= normalised[..., low + 1 : high + 2]
        )
        candidates = tf.where(minimum, inner, 10.0)
        aperiodicity = tf.reduce_min(candidates, axis=-1)
        period = tf.cast(
            tf.argmin(candidates, axis=-1, output_type="int32") + self._lag_min, "float32"
        )

        # Shape: the Hann-windowed power spectrum from the same DFT.
        hann_real = _hann_from_rectangular(real, negate_mirror=False)
        hann_imag = _hann_from_rectangular(imag, negate_mirror=True)
        power = (tf.square(hann_real) + tf.square(hann_imag)) * tf.constant(self._twice)
        power_sum = tf.maximum(tf.reduce_sum(power, axis=-1), 1e-30)
        running = tf.cumsum(tf.pad(power, [[0, 0], [0, 0], [5, 4]]), axis=-1)
        partial = tf.reduce_max(running[..., 9:] - running[..., :-9], axis=-1) / power_sum
        low_share = tf.reduce_sum(power[..., : self._low_bins], axis=-1) / power_sum
        bands = tf.matmul(power, tf.constant(self._bands)) + 1e-30
        flatness = tf.exp(tf.reduce_mean(tf.math.log(bands), axis=-1)) / tf.reduce_mean(
            bands, axis=-1
        )

        level = 10.0 * log10(tf.maximum(total[..., 0] / self.frame, 1e-20))
        first_half = energy[..., self.frame // 2]
        halves = tf.minimum(first_half, total[..., 0] - first_half) / tf.maximum(
            tf.maximum(first_half, total[..., 0] - first_half), 1e-30
        )
        balance = 10.0 * log10(tf.maximum(halves, 1e-20))
        loudest = tf.reduce_max(level, axis=-1, keepdims=True)
        candidate = (
            (level >= self.floor_db)
            & (level >= loudest - self.range_db)
            & (balance >= -self.max_imbalance_db)
            & (aperiodicity <= self.max_aperiodicity)
            & (partial <= self.max_partial_share)
            & (low_share <= self.max_low_share)
            & (flatness <= self.max_flatness)
        )
        # Continuity: a voiced frame has a voiced neighbour with nearly the same period.
        steady = tf.abs(tf.math.log(period[..., 1:] / period[..., :-1])) <= np.log(self.max_f0_jump)
        pair = tf.cast(candidate[..., 1:] & candidate[..., :-1] & steady, "float32")
        voiced = tf.maximum(tf.pad(pair, [[0, 0], [1, 0]]), tf.pad(pair, [[0, 0], [0, 1]])) > 0.5
        return {
            "level_db": level,
            "balance_db": balance,
            "aperiodicity": aperiodicity,
            "f0_hz": (self.sample_rate / 2.0) / period,
            "partial_share": partial,
            "low_share": low_share,
            "flatness": flatness,
            "voiced": voiced,
        }

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        finite = finite_examples(x)
        x = tf.where(finite[:, None], x, 0.0)
        voiced = tf.cast(self._measures(x)["voiced"], "float32")
        seconds = tf.reduce_sum(voiced, axis=-1) * (2.0 * self.hop / self.sample_rate)
        return tf.where(finite, seconds, np.nan)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)[:-1]


def _hann_from_rectangular(part: tf.Tensor, *, negate_mirror: bool) -> tf.Tensor:
    """The real or imaginary part of a Hann-windowed DFT from the rectangular one.

    For a frame of `N / 2` samples zero-padded to an `N`-point DFT, the
    periodic Hann window of the frame's length shifts by two bins:
    `X_hann[k] = X[k] / 2 - (X[k - 2] + X[k + 2]) / 4`. Bins below 0 and above
    `N / 2` are the complex conjugates of their mirror images (the imaginary
    part, `negate_mirror=True`, changes sign).
    """
    sign = -1.0 if negate_mirror else 1.0
    padded = tf.concat(
        [
            sign * part[..., 2:3],
            sign * part[..., 1:2],
            part,
            sign * part[..., -2:-1],
            sign * part[..., -3:-2],
        ],
        axis=-1,
    )
    return 0.5 * part - 0.25 * (padded[..., :-4] + padded[..., 4:])


__all__ = ["VoicedSpeech"]
