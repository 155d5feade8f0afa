"""Pitch in the graph: salience over F0 candidates, a speaker's pitch histogram, relative pitch.

* `PitchSalience`: for each frame, how strongly each F0 candidate's
  harmonics are present (subharmonic summation over the magnitude spectrum).
* `PitchHistogram`: where a clip's voiced frames put their pitch, as a
  normalised histogram over the candidates. Summed over a speaker's clips it
  is the *speaker context* of ToneNet: the speaker's pitch range, computed
  without labels.
* `RelativePitch`: a clip's salience re-centred on the median pitch of its
  speaker (the clip plus the speaker context), so that what follows sees
  where the syllable lies in the speaker's range: a half third tone and a
  fourth tone are both falls, one low in the range, the other high.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras
from keras_tone.layers._base import PACKAGE, Spectrogram, float32_only


@keras.utils.register_keras_serializable(package=PACKAGE)
class PitchSalience(Spectrogram):
    """Pitch salience of mono waveforms: `[batch, frames, candidates]`, computed in the graph.

    For each frame (centred, Hann window of `n_fft`, hop `hop_length`) and F0
    candidate `f` (from `fmin` to `fmax`, `step` semitones apart), the sum of
    the compressed magnitude spectrum `|X|^(2 * compression)` at the
    harmonics `h * f`, `h = 1 .. harmonics`, weighted `decay ** (h - 1)`
    (subharmonic summation, `keras_tone.dsp.subharmonic_matrix`), over the
    spectrum between `min_frequency` and `max_frequency`. Each example is then
    divided by its largest value, so its peak is 1. On voiced speech the peak
    candidate of a frame is meant to be its F0; the documentation's design
    page says how often it is.

    Args:
        sample_rate: sampling rate in Hz.
        n_fft: frame length of the DFT.
        hop_length: samples between frames.
        fmin: lowest F0 candidate in Hz.
        fmax: highest F0 candidate in Hz (included when on the grid).
        step: candidate spacing in semitones.
        harmonics: harmonics summed per candidate.
        decay: weight ratio of successive harmonics.
        compression: exponent applied to the power spectrum (0.25: the square
            root of the magnitude).
        min_frequency: lowest spectrum frequency summed, in Hz.
        max_frequency: highest spectrum frequency summed, in Hz.

    Input shape:
        `[batch, samples]` float waveforms.

    Output shape:
        `[batch, 1 + samples // hop_length, candidates]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import PitchSalience
        >>> t = np.arange(8000) / 16000
        >>> voice = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in range(1, 9))
        >>> layer = PitchSalience(sample_rate=16000)
        >>> salience = np.asarray(layer(voice[None].astype("float32")))
        >>> round(float(layer.candidates[salience[0, 8].argmax()]))
        200
    """

    _CONFIG = (
        "sample_rate",
        "n_fft",
        "hop_length",
        "fmin",
        "fmax",
        "step",
        "harmonics",
        "decay",
        "compression",
        "min_frequency",
        "max_frequency",
    )

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 512,
        fmin: float = 50.0,
        fmax: float = 600.0,
        step: float = 0.5,
        harmonics: int = 12,
        decay: float = 0.84,
        compression: float = 0.25,
        min_frequency: float = 75.0,
        max_frequency: float = 3700.0,
        **kwargs: Any,
    ) -> None:
        float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self._set_frames(
            n_fft=n_fft, hop_length=hop_length, win_length=None, window="hann", center=True
        )
        self.sample_rate = int(sample_rate)
        self.fmin, self.fmax, self.step = float(fmin), float(fmax), float(step)
        self.harmonics, self.decay = int(harmonics), float(decay)
        self.compression = float(compression)
        self.min_frequency, self.max_frequency = float(min_frequency), float(max_frequency)
        if not 0 < self.decay <= 1 or self.harmonics < 1 or self.compression <= 0:
            raise ValueError(
                "Expected 0 < decay <= 1, harmonics >= 1 and compression > 0. "
                f"Received: decay={decay}, harmonics={harmonics}, compression={compression}"
            )
        width = self.sample_rate / self.n_fft
        first = int(np.ceil(self.min_frequency / width))
        last = int(np.floor(min(self.max_frequency, self.sample_rate / 2) / width))
        if not 0 <= first < last:
            raise ValueError(
                "min_frequency and max_frequency leave no DFT bin between them. Received: "
                f"min_frequency={min_frequency}, max_frequency={max_frequency}"
            )
        bins = np.arange(first, last + 1)
        self._set_bins(bins)
        self.candidates = dsp.pitch_candidates(self.fmin, self.fmax, self.step)
        self._matrix = dsp.subharmonic_matrix(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            bins=bins,
            candidates=self.candidates,
            harmonics=self.harmonics,
            decay=self.decay,
        ).astype("float32")

    def _from_power(self, power: tf.Tensor) -> tf.Tensor:
        magnitude = tf.pow(power + 1e-12, self.compression)
        salience = tf.matmul(magnitude, tf.constant(self._matrix))
        return salience / (tf.reduce_max(salience, axis=[1, 2], keepdims=True) + 1e-9)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        return (*input_shape[:-1], self._n_frames(input_shape[-1]), len(self.candidates))


@keras.utils.register_keras_serializable(package=PACKAGE)
class PitchHistogram(keras.layers.Layer):
    """Where a clip's pitch lies: `[batch, frames, candidates]` salience -> `[batch, candidates]`.

    Each frame votes for its most salient candidate with the weight
    `max(peak - floor, 0)`, its peak salience above `floor` (the salience of
    `PitchSalience` peaks at 1 per clip, so weak and unvoiced frames do not
    vote); the votes are normalised to sum to 1 per clip (all zeros when no
    frame votes). The sum of the histograms of a speaker's clips is the
    speaker context that `RelativePitch` and ToneNet take.

    Args:
        floor: salience below which a frame does not vote, in [0, 1).

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import PitchHistogram
        >>> salience = np.zeros((1, 3, 5), "float32")
        >>> salience[0, :, 2] = [1.0, 0.9, 0.1]
        >>> PitchHistogram()(salience).numpy().round(2)
        array([[0., 0., 1., 0., 0.]], dtype=float32)
    """

    def __init__(self, *, floor: float = 0.15, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not 0 <= floor < 1:
            raise ValueError(f"floor must be in [0, 1). Received: floor={floor}")
        self.floor = float(floor)

    def call(self, salience: Any) -> tf.Tensor:
        salience = tf.cast(salience, "float32")
        weight = tf.nn.relu(tf.reduce_max(salience, axis=-1) - self.floor)
        peak = tf.one_hot(tf.argmax(salience, axis=-1), tf.shape(salience)[-1])
        votes = tf.reduce_sum(peak * weight[..., None], axis=1)
        return votes / (tf.reduce_sum(votes, axis=-1, keepdims=True) + 1e-6)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "floor": self.floor}


@keras.utils.register_keras_serializable(package=PACKAGE)
class RelativePitch(keras.layers.Layer):
    """A clip's pitch salience re-centred on its speaker's median pitch.

    The reference is the median of the clip's own `PitchHistogram` plus the
    speaker context (the summed histograms of other clips of the speaker;
    zeros, or no context at all, for the clip alone). The output keeps the
    `window` candidates on each side of it, zeros beyond the candidate range,
    and the confidence `log(1 + context mass)` (0 without context). Without
    context the reference is the clip's own median pitch, so the output
    carries the contour's shape but not its register.

    Args:
        window: candidates kept on each side of the reference.
        floor: as in `PitchHistogram`.

    Call arguments:
        salience: `[batch, frames, candidates]` from `PitchSalience`.
        context: `[batch, candidates]` speaker context, or `None`.

    Returns:
        `(relative, confidence)`: `[batch, frames, 2 * window]` and `[batch, 1]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import RelativePitch
        >>> salience = np.zeros((1, 2, 40), "float32")
        >>> salience[0, :, 20] = 1.0
        >>> relative, confidence = RelativePitch(window=4)(salience)
        >>> relative.numpy()[0, 0].tolist(), float(confidence[0, 0])
        ([0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], 0.0)
    """

    def __init__(self, *, window: int = 36, floor: float = 0.15, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if window < 1:
            raise ValueError(f"window must be a positive integer. Received: window={window}")
        self.window = int(window)
        self.histogram = PitchHistogram(floor=floor, name="histogram")

    def build(self, input_shape: Any) -> None:
        self.histogram.build(input_shape)

    def call(self, salience: Any, context: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        salience = tf.cast(salience, "float32")
        total = self.histogram(salience)
        if context is None:
            confidence = tf.zeros_like(total[:, :1])
        else:
            context = tf.cast(context, "float32")
            total += context
            # log(1 + x) rather than log1p: tf2onnx has no Log1p.
            confidence = tf.math.log(1.0 + tf.reduce_sum(context, axis=-1, keepdims=True))
        candidates = tf.shape(salience)[-1]
        mass = tf.reduce_sum(total, axis=-1, keepdims=True)
        below_half = tf.cumsum(total, axis=-1) < 0.5 * mass
        median = tf.reduce_sum(tf.cast(below_half, "int32"), axis=-1)
        reference = tf.where(mass[:, 0] > 1e-6, median, candidates // 2)
        index = reference[:, None] + tf.range(-self.window, self.window)[None, :]
        valid = tf.cast((index >= 0) & (index < candidates), "float32")
        index = tf.clip_by_value(index, 0, candidates - 1)
        relative = tf.gather(salience, index, axis=2, batch_dims=1) * valid[:, None, :]
        return relative, confidence

    def compute_output_shape(self, salience_shape: tuple, context_shape: Any = None) -> tuple:
        return (*tuple(salience_shape)[:-1], 2 * self.window), (salience_shape[0], 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "window": self.window, "floor": self.histogram.floor}
