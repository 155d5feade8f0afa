"""Training data: augmented versions of each clip, their log-mel images, a tf.data pipeline.

Every clip gets `recipe.copies` augmented versions, made once with numpy
(`augment_waveform`); every version goes through ToneNet's own front end
(`FeatureExtractor`, the `keras_tone.frontend.FrontEnd` of the model's
config), and training draws one version of each clip per epoch
(`make_dataset`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from keras_tone.audio import pad_batch
from keras_tone.config import ToneNetConfig
from keras_tone.recipe import Recipe


def augment_waveform(
    waveform: np.ndarray, rng: np.random.Generator, recipe: Recipe, sample_rate: int
) -> np.ndarray:
    """One augmented version of a clip (numpy, float32).

    * Pitch and speed: resampled by a factor `2 ** (s / 12)`, `s` uniform in
      `+-recipe.pitch_semitones` (linear interpolation; aliasing lands above
      the front end's 3.7 kHz, so no low-pass is needed for shifts under
      half an octave up).
    * Leading silence and noise: with `recipe.noise_probability`, a random
      silence of up to `max_lead_seconds` is put in front and white noise at
      an SNR uniform in `recipe.snr_db` (relative to the clip's RMS above
      its silence) is added over the whole clip.
    * Tempo: the result is time-stretched at a rate drawn log-uniformly from
      `recipe.tempo`, pitch kept (`librosa.effects.time_stretch`, n_fft 1024;
      clips under 2048 samples are left as they are).

    Gain is not augmented: the front end normalises loudness, so a gain is a
    no-op for the model.
    """
    x = np.asarray(waveform, dtype=np.float32)
    if recipe.pitch_semitones > 0:
        factor = 2.0 ** (rng.uniform(-recipe.pitch_semitones, recipe.pitch_semitones) / 12.0)
        n_out = max(int(len(x) / factor), 1)
        positions = np.arange(n_out, dtype=np.float64) * factor
        x = np.interp(positions, np.arange(len(x)), x).astype(np.float32)
    if recipe.noise_probability > 0 and rng.random() < recipe.noise_probability:
        lead = int(rng.uniform(0, recipe.max_lead_seconds) * sample_rate)
        x = np.concatenate([np.zeros(lead, np.float32), x])
        level = np.sqrt(np.mean(np.square(x[np.abs(x) > 1e-3 * np.abs(x).max()])) + 1e-12)
        snr = rng.uniform(*recipe.snr_db)
        noise = rng.standard_normal(len(x)).astype(np.float32) * level * 10 ** (-snr / 20)
        x = x + noise
    low, high = recipe.tempo
    if (low, high) != (1.0, 1.0):
        rate = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        if len(x) > 2048:
            import librosa

            x = librosa.effects.time_stretch(x, rate=rate, n_fft=1024).astype(np.float32)
    return x


class FeatureExtractor:
    """ToneNet's front end as a batch function: waveforms -> log-mel images.

    The `FrontEnd` of `config` in one `tf.function` over padded batches, each
    clip filtered as if alone (the lengths are passed). Clips are batched by
    length, so little work goes into padding.

    Example:
        >>> import numpy as np
        >>> from keras_tone.config import ToneNetConfig
        >>> from keras_tone.features import FeatureExtractor
        >>> clips = [np.full(n, 0.1, "float32") for n in (4000, 9000)]
        >>> FeatureExtractor(ToneNetConfig())(clips).shape
        (2, 32, 80)
    """

    def __init__(self, config: ToneNetConfig) -> None:
        import tensorflow as tf

        from keras_tone.frontend import FrontEnd

        front_end = FrontEnd(config)
        self.feature_shape = config.feature_shape()
        self._fn = tf.function(
            lambda x, lengths: front_end(x, lengths=lengths),
            input_signature=[
                tf.TensorSpec([None, None], tf.float32),
                tf.TensorSpec([None], tf.int32),
            ],
            reduce_retracing=True,
        )

    def __call__(self, waveforms: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """Log-mel images `[len(waveforms), frames, n_mels]` (float32)."""
        order = np.argsort([len(w) for w in waveforms], kind="stable")
        out = np.zeros((len(waveforms), *self.feature_shape), np.float32)
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            batch, lengths = pad_batch([waveforms[i] for i in index])
            out[index] = self._fn(batch, lengths).numpy()
        return out


def make_features(
    corpus: Any, recipe: Recipe, config: ToneNetConfig, *, seed: int = 0, progress: bool = True
) -> np.ndarray:
    """Log-mel images of every clip: `[clips, 1 + copies, frames, n_mels]`, float16.

    Version 0 is the clean clip; versions 1.. are augmented. The augmentation
    of clip `i` depends only on `(seed, i, its waveform)`, so every fold of a
    cross-validation sees the same versions of the same clips.
    """
    extract = FeatureExtractor(config)
    versions = 1 + recipe.copies
    result = np.zeros((len(corpus), versions, *extract.feature_shape), np.float16)
    chunk = 512
    starts: Any = range(0, len(corpus), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Features", unit="chunk")
    for start in starts:
        stop = min(start + chunk, len(corpus))
        waves = []
        for i in range(start, stop):
            rng = np.random.default_rng([seed, i])
            waves.append(corpus.waveforms[i])
            waves.extend(
                augment_waveform(corpus.waveforms[i], rng, recipe, corpus.sample_rate)
                for _ in range(recipe.copies)
            )
        result[start:stop] = extract(waves).reshape(stop - start, versions, *extract.feature_shape)
    return result


def make_dataset(
    features: np.ndarray,
    y: np.ndarray,
    *,
    classes: int,
    recipe: Recipe,
    seed: int,
    class_weights: np.ndarray | None,
) -> Any:
    """`tf.data` batches of `(image, one-hot label, class weight)` for `recipe.epochs` epochs.

    Each epoch draws one version of each clip (`features[:, version]`); the
    draw depends only on `(seed, epoch, clip)`, so a run is repeatable.
    """
    import tensorflow as tf

    versions = features.shape[1]
    weights = tf.constant(
        class_weights if class_weights is not None else np.ones(classes), tf.float32
    )

    def pick(x, label, index):
        draw = tf.random.stateless_uniform(
            [], seed=tf.stack([tf.cast(seed, tf.int64), index]), maxval=versions, dtype=tf.int64
        )
        image = tf.cast(tf.gather(x, draw), tf.float32)
        return image, tf.one_hot(label, classes), tf.gather(weights, label)

    n = len(y)
    data = tf.data.Dataset.from_tensor_slices((features, y.astype(np.int64)))
    # A distinct counter per (epoch, clip) makes the version draw repeatable.
    epoch_counter = tf.data.Dataset.range(recipe.epochs + 1).flat_map(
        lambda e: tf.data.Dataset.range(n).map(lambda i: e * n + i)
    )
    data = (
        data.repeat()
        .shuffle(n, seed=seed, reshuffle_each_iteration=True)
        .take(n * (recipe.epochs + 1))
    )
    data = tf.data.Dataset.zip((data, epoch_counter)).map(
        lambda xy, i: pick(xy[0], xy[1], i), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return data.batch(recipe.batch_size, drop_remainder=False).prefetch(tf.data.AUTOTUNE)


__all__ = ["FeatureExtractor", "augment_waveform", "make_dataset", "make_features"]
