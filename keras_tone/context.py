"""Speaker context: a speaker's pitch range, from their clips, for ToneNet's second input.

A ToneNet built with `speaker_context=True` takes, besides the waveforms, a
`"speaker_context"` vector per clip: the summed pitch histograms
(`keras_tone.layers.PitchHistogram`) of other clips of the same speaker. It
needs no labels: any clips of the speaker will do, the more the better (the
model card gives accuracy for 1, 5, 20 and all clips).

* `context_encoder(config)`: the Keras model waveform -> pitch histogram,
  the front end of ToneNet and a `PitchHistogram` (exportable like ToneNet).
* `pitch_histograms(clips)`: one histogram per clip.
* `speaker_context(clips)`: the context that these clips make (their sum).
* `leave_one_out(histograms, speakers)`: for each clip, the context of the
  other clips of its speaker; how `keras-tone predict --speaker-context` and
  `keras-tone evaluate --speaker-context` use a folder or a corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from keras_tone._keras import keras
from keras_tone.audio import pad_batch, to_mono_float
from keras_tone.config import ToneNetConfig
from keras_tone.frontend import FrontEnd, front_end_of
from keras_tone.layers import PitchHistogram

#: Clips per forward pass of the context encoder.
BATCH_SIZE = 64


def context_encoder(config: ToneNetConfig | None = None) -> keras.Model:
    """The model that turns waveforms `[batch, samples]` into pitch histograms `[batch, P]`.

    It has no weights: the front end and the histogram are fixed signal
    processing, so it depends on the config alone (`config.front_end`).

    Example:
        >>> import numpy as np
        >>> from keras_tone.context import context_encoder
        >>> context_encoder().predict(np.zeros((2, 8000), "float32"), verbose=0).shape
        (2, 87)
    """
    config = ToneNetConfig() if config is None else config
    waveforms = keras.Input(shape=(None,), name="waveform")
    _, salience = FrontEnd(config, name="front_end")(waveforms)
    histogram = PitchHistogram(floor=config.front_end.pitch.floor, name="histogram")(salience)
    # Digital silence has no voiced frame, but its salience (the spectrum's
    # epsilon, normalised to a peak of 1) would vote: it adds nothing instead.
    heard = keras.ops.max(keras.ops.abs(waveforms), axis=-1, keepdims=True) > 0.0
    histogram = histogram * keras.ops.cast(heard, histogram.dtype)
    return keras.Model(waveforms, histogram, name="context_encoder")


def pitch_histograms(
    clips: Sequence[np.ndarray],
    *,
    model: keras.Model | None = None,
    config: ToneNetConfig | None = None,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """The pitch histogram of each clip: `[len(clips), P]` float32, each summing to 1 or 0.

    Args:
        clips: mono waveforms at the model's sampling rate (float or integer
            PCM, as `keras_tone.prepare_batch` takes them).
        model: a waveform ToneNet whose front end to use; or
        config: a `ToneNetConfig` (default: `ToneNetConfig()`).
        batch_size: clips per forward pass (clips are batched by length).

    Returns:
        float32 `[len(clips), P]`. It builds `context_encoder` on each call:
        pass all the clips at once.

    Example:
        >>> import numpy as np
        >>> from keras_tone.context import pitch_histograms
        >>> t = np.arange(8000) / 16000
        >>> voice = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 9))
        >>> histograms = pitch_histograms([voice.astype("float32")])
        >>> histograms.shape, round(float(histograms.sum()), 3)
        ((1, 87), 1.0)
    """
    if model is not None:
        if config is not None:
            raise ValueError(
                "Pass model= or config=, not both. "
                f"Received: model={model.name!r}, config={config!r}"
            )
        config = front_end_of(model).config
    encoder = context_encoder(config)
    waves = [to_mono_float(clip, name=f"clip {i}") for i, clip in enumerate(clips)]
    out = np.zeros((len(waves), encoder.output_shape[-1]), np.float32)
    order = np.argsort([len(w) for w in waves], kind="stable")
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        batch, _ = pad_batch([waves[i] for i in index])
        out[index] = np.asarray(encoder(batch, training=False))
    return out


def speaker_context(
    clips: Sequence[np.ndarray],
    *,
    model: keras.Model | None = None,
    config: ToneNetConfig | None = None,
) -> np.ndarray:
    """The speaker context that some clips of one speaker make: `[P]` float32.

    The sum of their pitch histograms (`pitch_histograms`); pass it, repeated
    per clip, as the `"speaker_context"` input of a ToneNet built with
    `speaker_context=True`. Clips without voiced frames add nothing.

    Example:
        >>> import numpy as np
        >>> import keras_tone
        >>> clips = [np.random.default_rng(i).normal(0, 0.1, 8000).astype("float32")
        ...          for i in range(5)]
        >>> keras_tone.speaker_context(clips).shape
        (87,)
    """
    return pitch_histograms(clips, model=model, config=config).sum(axis=0)


def leave_one_out(histograms: np.ndarray, speakers: Sequence[Any]) -> np.ndarray:
    """For each clip, the context of the other clips of its speaker: `[n, P]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.context import leave_one_out
        >>> h = np.eye(3, dtype="float32")
        >>> leave_one_out(h, ["a", "a", "b"]).tolist()
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    speakers = np.asarray(speakers)
    out = np.zeros_like(histograms)
    for speaker in np.unique(speakers):
        mask = speakers == speaker
        out[mask] = histograms[mask].sum(axis=0, keepdims=True) - histograms[mask]
    return out


__all__ = ["context_encoder", "leave_one_out", "pitch_histograms", "speaker_context"]
