"""The front end of ToneNet: waveforms in, the log-mel image of one syllable out.

`FrontEnd` composes the three primitive layers of `keras_tone.layers` from a
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
from keras_tone.layers import HighPass, LogMelSpectrogram, SyllableNormalization


@keras.utils.register_keras_serializable(package="keras_tone")
class FrontEnd(keras.layers.Layer):
    """ToneNet's front end: high-pass, syllable normalisation, log-mel.

    For each clip: a linear-phase FIR high-pass removes DC offsets and rumble
    (`highpass`, a `keras_tone.layers.HighPass`); `syllable`
    (`keras_tone.layers.SyllableNormalization`) trims the silence around the
    syllable, normalises its loudness and fits it into a fixed duration;
    `log_mel` (`keras_tone.layers.LogMelSpectrogram`) turns it into an image.
    The settings come from `config.front_end` and `config.sample_rate`; the
    layer computes in float32, also under a mixed-precision policy.

    Args:
        config: the `ToneNetConfig` to build from (default `ToneNetConfig()`).

    Call arguments:
        waveforms: `[batch, samples]` (or `[samples]`) mono float waveforms at
            `config.sample_rate`, zero-padded at the end.
        lengths: optional `[batch]` int32 lengths of the clips before padding.
            With them each clip is filtered as if alone (the high-pass's ringing
            past a clip's end is zeroed); `ToneNet` does without, training
            passes them.

    Output shape:
        `[batch, frames, n_mels]`, `config.feature_shape()`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.config import ToneNetConfig
        >>> from keras_tone.frontend import FrontEnd
        >>> front_end = FrontEnd(ToneNetConfig())
        >>> front_end(np.full((2, 12000), 0.1, "float32")).shape
        TensorShape([2, 32, 80])
        >>> front_end.normalize(np.full((1, 12000), 0.1, "float32")).shape
        TensorShape([1, 16000])
    """

    def __init__(self, config: ToneNetConfig | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.config = ToneNetConfig() if config is None else config
        rate, settings = self.config.sample_rate, self.config.front_end
        self.sample_rate = rate
        self.highpass = HighPass(sample_rate=rate, **asdict(settings.highpass), name="highpass")
        self.syllable = SyllableNormalization(
            sample_rate=rate, **asdict(settings.syllable), name="syllable"
        )
        self.log_mel = LogMelSpectrogram(
            sample_rate=rate, **asdict(settings.log_mel), name="log_mel"
        )

    def build(self, input_shape: tuple) -> None:
        for layer in (self.highpass, self.syllable, self.log_mel):
            layer.build(input_shape)

    def normalize(self, waveforms: Any, lengths: Any = None) -> tf.Tensor:
        """The normalised syllable that the log-mel sees: `[batch, duration * rate]`."""
        x = self.highpass(waveforms)
        if lengths is not None:
            x = x * tf.sequence_mask(lengths, tf.shape(x)[-1], dtype=x.dtype)
        return self.syllable(x)

    def call(self, waveforms: Any, lengths: Any = None) -> tf.Tensor:
        return self.log_mel(self.normalize(waveforms, lengths))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], *self.config.feature_shape())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(config=self.config.to_dict())
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FrontEnd:
        config = dict(config)
        config["config"] = ToneNetConfig.from_dict(config["config"])
        return cls(**config)


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


__all__ = ["FrontEnd", "front_end_of"]
