"""`SyllableNormalization`: trim, normalise loudness and fit each clip to a fixed duration."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from keras_tone._keras import keras
from keras_tone.layers._base import PACKAGE, WaveformLayer, clip_lengths, float32_only, log10


@keras.utils.register_keras_serializable(package=PACKAGE)
class SyllableNormalization(WaveformLayer):
    """Trim silence, normalise loudness and fit each clip to a fixed duration.

    The one place where keras_tone decides how a clip of any length, loudness
    and leading silence becomes a model input. For each example:

    1. **Trim**: frames (`frame_length`, `hop_length`) whose RMS is more than
       `top_db` below the clip's loudest frame are silence; the syllable runs
       from the first to the last frame that is not, and ends at the latest
       with the clip's last non-zero sample (`keras_tone.layers.clip_lengths`).
       Trailing zeros are not part of a clip, so a clip gives the same output
       alone and in a batch zero-padded to any length.
    2. **Fit**: the syllable starts at sample 0 of the output, padded with
       zeros after its end. With `max_duration=None` the output is
       `duration * sample_rate` samples and a longer syllable is cut there;
       with `max_duration`, the output is as long as the batch's longest
       syllable, at least `duration` and at most `max_duration` seconds (cut
       there), and `segment` also returns each syllable's length.
    3. **Loudness**: scaled so the syllable's RMS is `target_rms_db` dBFS.

    A clip of only zeros stays zeros.

    Args:
        sample_rate: sampling rate in Hz.
        duration: output length in seconds (the shortest with `max_duration`).
        top_db: silence threshold below the loudest frame, in dB.
        frame_length: analysis frame for the silence decision, in samples.
        hop_length: hop of the analysis frames, in samples.
        target_rms_db: RMS level of the syllable after scaling, in dBFS.
        max_duration: `None` for a fixed output length; else the longest
            syllable kept, in seconds, `>= duration`.

    Input shape:
        `[batch, samples]` float waveforms, any `samples >= 1`.

    Output shape:
        `[batch, round(duration * sample_rate)]`; `[batch, None]` with
        `max_duration`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import SyllableNormalization
        >>> clip = np.zeros((1, 24000), "float32")
        >>> clip[0, 8000:12000] = 0.1 * np.sin(np.arange(4000) * 0.1)
        >>> out = SyllableNormalization(sample_rate=16000)(clip)
        >>> out.shape, bool(np.abs(out[0, :1000]).max() > 0)
        (TensorShape([1, 16000]), True)
        >>> layer = SyllableNormalization(sample_rate=16000, max_duration=2.0)
        >>> segment, length = layer.segment(clip)
        >>> segment.shape, int(length[0]) < 16000
        (TensorShape([1, 16000]), True)
    """

    _CONFIG = (
        "sample_rate",
        "duration",
        "top_db",
        "frame_length",
        "hop_length",
        "target_rms_db",
        "max_duration",
    )

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        duration: float = 1.0,
        top_db: float = 40.0,
        frame_length: int = 512,
        hop_length: int = 128,
        target_rms_db: float = -20.0,
        max_duration: float | None = None,
        **kwargs: Any,
    ) -> None:
        float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        if duration <= 0:
            raise ValueError(f"duration must be positive. Received: duration={duration}")
        if top_db <= 0:
            raise ValueError(f"top_db must be positive. Received: top_db={top_db}")
        if max_duration is not None and max_duration < duration:
            raise ValueError(
                f"max_duration must be None or at least duration={duration}. "
                f"Received: max_duration={max_duration}"
            )
        self.sample_rate = int(sample_rate)
        self.duration = float(duration)
        self.top_db = float(top_db)
        self.frame_length = int(frame_length)
        self.hop_length = int(hop_length)
        self.target_rms_db = float(target_rms_db)
        self.max_duration = None if max_duration is None else float(max_duration)
        self.output_samples = int(round(self.duration * self.sample_rate))
        self.max_samples = (
            self.output_samples
            if self.max_duration is None
            else int(round(self.max_duration * self.sample_rate))
        )

    def segment(self, waveforms: Any, ends: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        """`(syllables, lengths)`: the normalised syllables and their lengths in samples.

        `lengths[i]` counts the samples of syllable `i` (at most the output
        length); the rest of its row is zeros. `ends` (`[batch]` int32) says
        where each clip ends, in samples: a syllable never runs past it. By
        default it is `clip_lengths(waveforms)`, the last non-zero sample.
        """
        x = self._check(waveforms)
        if x.shape.rank == 1:
            x = tf.expand_dims(x, 0)
        if ends is None:
            ends = clip_lengths(x)
        n = tf.shape(x)[1]
        short = tf.maximum(self.frame_length - n, 0)
        padded = tf.pad(x, [[0, 0], [0, short]])
        frames = tf.signal.frame(padded, self.frame_length, self.hop_length, pad_end=True)
        energy = tf.reduce_mean(tf.square(frames), axis=-1)
        level = 10.0 * log10(tf.maximum(energy, 1e-20))
        active = level > tf.reduce_max(level, axis=1, keepdims=True) - self.top_db
        active = tf.cast(active, "int32")
        n_frames = tf.shape(active)[1]
        first = tf.argmax(active, axis=1, output_type="int32")
        last = n_frames - 1 - tf.argmax(tf.reverse(active, [1]), axis=1, output_type="int32")
        start = first * self.hop_length
        lengths = tf.minimum(last * self.hop_length + self.frame_length, ends) - start
        lengths = tf.minimum(lengths, self.max_samples)
        if self.max_duration is None:
            out = self.output_samples
        else:  # as long as the longest syllable of the batch, within the bounds
            out = tf.clip_by_value(tf.reduce_max(lengths), self.output_samples, self.max_samples)

        offsets = tf.range(out)[None, :]
        inside = tf.sequence_mask(lengths, out, dtype="float32")
        index = tf.minimum(start[:, None] + offsets, n - 1)
        segment = tf.gather(x, index, batch_dims=1) * inside

        count = tf.maximum(tf.reduce_sum(inside, axis=1, keepdims=True), 1.0)
        rms = tf.sqrt(tf.reduce_sum(tf.square(segment), axis=1, keepdims=True) / count)
        gain = (10.0 ** (self.target_rms_db / 20.0)) / tf.maximum(rms, 1e-6)
        return segment * gain, lengths

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        return self.segment(x)[0]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        length = self.output_samples if self.max_duration is None else None
        return (*tuple(input_shape)[:-1], length)
