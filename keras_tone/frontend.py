"""The front end of ToneNet: waveforms in, the log-mel and pitch images of one syllable out.

`FrontEnd` composes the primitive layers of `keras_tone.layers` from a
`ToneNetConfig`, in the manner of kapre's composed layers. It is the only
place where they are put together: ToneNet runs it in its graph, training
computes its features with it, `keras-tone plot` and `scripts/tone_contours.py`
show what it sees.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import tensorflow as tf

from keras_tone._keras import keras
from keras_tone.config import ToneNetConfig
from keras_tone.layers import (
    HighPass,
    LogMelSpectrogram,
    PitchSalience,
    PowerSpectrogram,
    SyllableNormalization,
    check_waveforms,
    clip_lengths,
)


@keras.utils.register_keras_serializable(package="keras_tone")
class FrontEnd(keras.layers.Layer):
    """ToneNet's front end: high-pass, syllable normalisation, log-mel and pitch salience.

    For each clip: a linear-phase FIR high-pass removes DC offsets and rumble
    (`highpass`, a `keras_tone.layers.HighPass`); `syllable`
    (`keras_tone.layers.SyllableNormalization`) trims the silence around the
    syllable and normalises its loudness; `log_mel`
    (`keras_tone.layers.LogMelSpectrogram`) and `pitch`
    (`keras_tone.layers.PitchSalience`) turn it into two images over the same
    frames, from one power spectrum (`spectrum`, a
    `keras_tone.layers.PowerSpectrogram` over the bins either reads): each
    image is what its layer gives alone. Both images span
    `config.front_end.syllable.duration`: a syllable that long or shorter
    keeps its frames (silence after it), a longer one (up to `max_duration`)
    has its frames resampled in time to fit, so the image shows the whole
    syllable. The settings come from `config.front_end` and
    `config.sample_rate`; the layer computes in float32, also under a
    mixed-precision policy.

    A clip ends with its last non-zero sample (`keras_tone.layers.clip_lengths`):
    the high-pass's ringing past that end is zeroed and the syllable stops
    there at the latest, so trailing zeros, a batch's padding or digital
    silence at the end of a recording, change nothing. A clip gives the same
    images alone and in any zero-padded batch.

    Args:
        config: the `ToneNetConfig` to build from (default `ToneNetConfig()`).

    Call arguments:
        waveforms: `[batch, samples]` mono float waveforms at
            `config.sample_rate`, zero-padded at the end.

    Returns:
        `(log_mel, salience)`: `[batch, frames, n_mels]` (`config.feature_shape()`)
        and `[batch, frames, candidates]` (`config.pitch_shape()`).

    Example:
        >>> import numpy as np
        >>> from keras_tone.config import ToneNetConfig
        >>> from keras_tone.frontend import FrontEnd
        >>> log_mel, salience = FrontEnd(ToneNetConfig())(np.full((2, 12000), 0.1, "float32"))
        >>> log_mel.shape, salience.shape
        (TensorShape([2, 32, 80]), TensorShape([2, 32, 87]))
    """

    def __init__(self, config: ToneNetConfig | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.config = ToneNetConfig() if config is None else config
        rate, settings = self.config.sample_rate, self.config.front_end
        self.sample_rate = rate
        self.frames = self.config.frames()
        self.highpass = HighPass(sample_rate=rate, **asdict(settings.highpass), name="highpass")
        self.syllable = SyllableNormalization(
            sample_rate=rate, **asdict(settings.syllable), name="syllable"
        )
        self.log_mel = LogMelSpectrogram(
            sample_rate=rate, **asdict(settings.log_mel), name="log_mel"
        )
        pitch = {k: v for k, v in asdict(settings.pitch).items() if k != "floor"}
        self.pitch = PitchSalience(
            sample_rate=rate,
            n_fft=settings.log_mel.n_fft,
            hop_length=settings.log_mel.hop_length,
            **pitch,
            name="pitch",
        )
        self.spectrum = PowerSpectrogram.covering([self.log_mel, self.pitch], name="spectrum")

    def build(self, input_shape: tuple) -> None:
        for layer in (self.highpass, self.syllable, self.log_mel, self.pitch, self.spectrum):
            layer.build(input_shape)

    def normalize(self, waveforms: Any) -> tuple[tf.Tensor, tf.Tensor]:
        """`(syllables, lengths)`: the normalised syllables the images are made of.

        `syllables` is `[batch, samples]`, at least `duration` and at most
        `max_duration` long; `lengths` counts each syllable's samples.
        """
        x = check_waveforms(
            waveforms, layer_name=type(self).__name__, expected_rate=self.sample_rate
        )
        if x.shape.rank == 1:
            x = tf.expand_dims(x, 0)
        ends = clip_lengths(x)
        x = self.highpass(x) * tf.sequence_mask(ends, tf.shape(x)[1], dtype=x.dtype)
        return self.syllable.segment(x, ends)

    def call(self, waveforms: Any) -> tuple[tf.Tensor, tf.Tensor]:
        syllables, lengths = self.normalize(waveforms)
        frames = 1 + lengths // self.log_mel.hop_length
        power = self.spectrum(syllables)
        images = [
            layer.from_power(self.spectrum.select(power, layer))
            for layer in (self.log_mel, self.pitch)
        ]
        return tuple(fit_frames(image, frames, self.frames) for image in images)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        batch = tuple(input_shape)[:-1]
        return (*batch, *self.config.feature_shape()), (*batch, *self.config.pitch_shape())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(config=self.config.to_dict())
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FrontEnd:
        config = dict(config)
        config["config"] = ToneNetConfig.from_dict(config["config"])
        return cls(**config)


def fit_frames(images: tf.Tensor, frames: tf.Tensor, size: int) -> tf.Tensor:
    """Fit images `[batch, time, channels]` to `size` frames each.

    Example `i` covers `frames[i]` frames: up to `size` they are kept as they
    are (with the frames after them); more are resampled to `size` by linear
    interpolation in time, first and last frame kept.

    Example:
        >>> import numpy as np
        >>> from keras_tone.frontend import fit_frames
        >>> images = np.arange(6, dtype="float32").reshape(1, 6, 1)
        >>> fit_frames(images, np.array([5]), 3).numpy()[0, :, 0].tolist()
        [0.0, 2.0, 4.0]
        >>> fit_frames(images, np.array([2]), 3).numpy()[0, :, 0].tolist()
        [0.0, 1.0, 2.0]
    """
    total = tf.shape(images)[1]
    step = tf.maximum((tf.cast(frames, "float32")[:, None] - 1.0) / (size - 1.0), 1.0)
    position = tf.cast(tf.range(size), "float32")[None, :] * step
    lower = tf.minimum(tf.cast(tf.floor(position), "int32"), total - 1)
    upper = tf.minimum(lower + 1, total - 1)
    fraction = (position - tf.floor(position))[..., None]
    below = tf.gather(images, lower, batch_dims=1)
    return below + (tf.gather(images, upper, batch_dims=1) - below) * fraction


def front_end_of(model: keras.Model) -> FrontEnd:
    """The `FrontEnd` layer of a waveform ToneNet.

    Raises:
        ValueError: the model has none (`include_preprocessing=False`, or a
            model of keras_tone 0.1.0 whose front end was three layers).
    """
    for layer in model.layers:
        if isinstance(layer, FrontEnd):
            return layer
    raise ValueError(
        f"The model {model.name!r} has no keras_tone FrontEnd layer. "
        f"Received: model.input_shape={model.input_shape}"
    )


__all__ = ["FrontEnd", "fit_frames", "front_end_of"]
