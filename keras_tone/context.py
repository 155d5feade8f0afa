"""Speaker context: a speaker's pitch range, from their clips, for ToneNet's second input.

A ToneNet built with `speaker_context=True` takes, besides the waveforms, a
`"speaker_context"` vector per clip: the summed pitch histograms
(`keras_tone.layers.PitchHistogram`) of other clips of the same speaker. It
needs no labels: any clips of the speaker will do, the more the better (the
model card gives accuracy for 1, 5, 20 and all clips).

* `context_encoder(config)`: the Keras model waveform -> pitch histogram,
  the front end of ToneNet and a `PitchHistogram` (exportable like ToneNet).
* `pitch_histograms(clips)`: one histogram per clip, from the front-end pass
  of `keras_tone.runner.Runner` (which also gives them with its
  probabilities).
* `speaker_context(clips)`: the context that these clips make (their sum).
* `leave_one_out(histograms, speakers)`: for each clip, the context of the
  other clips of its speaker; how `keras-tone predict --speaker-context` and
  `keras-tone evaluate --speaker-context` use a folder or a corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_tone._keras import keras
from keras_tone.config import ToneNetConfig
from keras_tone.frontend import FrontEnd
from keras_tone.runner import Runner, heard_histograms, leave_one_out


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
    histogram = heard_histograms(waveforms, salience, floor=config.front_end.pitch.floor)
    return keras.Model(waveforms, histogram, name="context_encoder")


def pitch_histograms(
    clips: Sequence[np.ndarray],
    *,
    model: keras.Model | None = None,
    config: ToneNetConfig | None = None,
) -> np.ndarray:
    """The pitch histogram of each clip: `[len(clips), P]` float32, each summing to 1 or 0.

    Args:
        clips: mono waveforms at the model's sampling rate (float or integer
            PCM, as `keras_tone.prepare_batch` takes them).
        model: a waveform ToneNet whose front end to use; or
        config: a `ToneNetConfig` (default: `ToneNetConfig()`).

    Returns:
        float32 `[len(clips), P]`, from the front-end pass of
        `keras_tone.runner.Runner`. When you also want the clips'
        probabilities, `Runner(model).predict(clips)` gives both from one pass.

    Example:
        >>> import numpy as np
        >>> from keras_tone.context import pitch_histograms
        >>> t = np.arange(8000) / 16000
        >>> voice = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 9))
        >>> histograms = pitch_histograms([voice.astype("float32")])
        >>> histograms.shape, round(float(histograms.sum()), 3)
        ((1, 87), 1.0)
    """
    if model is not None and config is not None:
        raise ValueError(
            f"Pass model= or config=, not both. Received: model={model.name!r}, config={config!r}"
        )
    source = model if model is not None else (ToneNetConfig() if config is None else config)
    return Runner(source).features(clips).histograms


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


__all__ = ["context_encoder", "leave_one_out", "pitch_histograms", "speaker_context"]
