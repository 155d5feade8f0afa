"""Training data: virtual speakers, their log-mel and pitch images, a tf.data pipeline.

Every clip gets `recipe.copies` augmented versions, made once with numpy
(`augment_waveform`): version `v` of all clips of a speaker is one *virtual
speaker* (the same pitch shift, `voice_draw`). Every
version goes through ToneNet's own front end (`FeatureExtractor`, the
`keras_tone.frontend.FrontEnd` of the model's config), and training
(`make_dataset`) draws one version of each clip per epoch, with a speaker
context made of other clips of the same virtual speaker.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_tone.config import ToneNetConfig
from keras_tone.recipe import Recipe


@dataclass(frozen=True)
class Features:
    """The training images of a corpus, version 0 clean, versions 1.. augmented.

    Attributes:
        log_mel: `[clips, versions, frames, n_mels]` float16.
        salience: `[clips, versions, frames, candidates]` float16.
        histograms: `[clips, versions, candidates]` float32 pitch histograms.
    """

    log_mel: np.ndarray
    salience: np.ndarray
    histograms: np.ndarray

    def select(self, mask: np.ndarray) -> Features:
        """The features of the clips that a boolean mask picks."""
        return Features(self.log_mel[mask], self.salience[mask], self.histograms[mask])


def voice_draw(recipe: Recipe, speaker: str, version: int, seed: int) -> float:
    """The virtual speaker `version` of `speaker`: its pitch shift in semitones."""
    rng = np.random.default_rng([seed, zlib.crc32(speaker.encode()), version])
    return float(rng.uniform(-recipe.pitch_semitones, recipe.pitch_semitones))


def augment_waveform(
    waveform: np.ndarray,
    rng: np.random.Generator,
    recipe: Recipe,
    sample_rate: int,
    *,
    voice: float = 0.0,
    tone: int = 0,
) -> np.ndarray:
    """One augmented version of a clip (numpy, float32).

    * Voice: the pitch moves by `voice` semitones plus a per-clip jitter
      uniform in `+-recipe.pitch_jitter`, by resampling (speed and formants
      move with it; linear interpolation, whose aliasing lands above the
      front end's 3.7 kHz).
    * Half third tone: with `tone == 3`, a share `recipe.half_third` of the
      versions are cut at 45-70% of their length, before the final rise.
    * Leading silence and noise: with `recipe.noise_probability`, a random
      silence of up to `max_lead_seconds` is put in front and white noise at
      an SNR uniform in `recipe.snr_db` (relative to the clip's RMS above
      its silence) is added over the whole clip.
    * Tempo: the result is time-stretched at a rate drawn log-uniformly from
      `recipe.tempo`, pitch kept (`librosa.effects.time_stretch`, n_fft 1024;
      clips under 2048 samples are left as they are).

    Gain is not augmented: the front end normalises loudness.
    """
    x = np.asarray(waveform, dtype=np.float32)
    semitones = voice + rng.uniform(-recipe.pitch_jitter, recipe.pitch_jitter)
    if semitones != 0.0:
        x = _resample(x, semitones)
    if recipe.half_third > 0 and tone == 3 and rng.random() < recipe.half_third:
        x = x[: max(int(len(x) * rng.uniform(0.45, 0.7)), 1)]
    if recipe.noise_probability > 0 and rng.random() < recipe.noise_probability:
        lead = int(rng.uniform(0, recipe.max_lead_seconds) * sample_rate)
        x = np.concatenate([np.zeros(lead, np.float32), x])
        level = np.sqrt(np.mean(np.square(x[np.abs(x) > 1e-3 * np.abs(x).max()])) + 1e-12)
        snr = rng.uniform(*recipe.snr_db)
        x = x + rng.standard_normal(len(x)).astype(np.float32) * level * 10 ** (-snr / 20)
    low, high = recipe.tempo
    if (low, high) != (1.0, 1.0):
        rate = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        if len(x) > 2048:
            import librosa

            x = librosa.effects.time_stretch(x, rate=rate, n_fft=1024).astype(np.float32)
    return x.astype(np.float32, copy=False)


def _resample(x: np.ndarray, semitones: float) -> np.ndarray:
    factor = 2.0 ** (semitones / 12.0)
    positions = np.arange(max(int(len(x) / factor), 1), dtype=np.float64) * factor
    return np.interp(positions, np.arange(len(x)), x).astype(np.float32)


class FeatureExtractor:
    """ToneNet's front end as a batch function: waveforms -> (log-mel, salience) images.

    The front-end pass of `keras_tone.runner.Runner` for the `FrontEnd`
    of `config` (a clip's images do not depend on its batch).

    Example:
        >>> import numpy as np
        >>> from keras_tone.config import ToneNetConfig
        >>> from keras_tone.features import FeatureExtractor
        >>> clips = [np.full(n, 0.1, "float32") for n in (4000, 9000)]
        >>> log_mel, salience = FeatureExtractor(ToneNetConfig())(clips)
        >>> log_mel.shape, salience.shape
        ((2, 32, 80), (2, 32, 87))
    """

    def __init__(self, config: ToneNetConfig) -> None:
        self.config = config

    def __call__(
        self, waveforms: Sequence[np.ndarray], batch_size: int = 128
    ) -> tuple[np.ndarray, np.ndarray]:
        """`(log_mel [n, frames, n_mels], salience [n, frames, candidates])`, float32."""
        from keras_tone.runner import Runner

        features = Runner(self.config, batch_size=batch_size).features(waveforms)
        return features.log_mel, features.salience


def make_features(
    corpus: Any, recipe: Recipe, config: ToneNetConfig, *, seed: int = 0, progress: bool = True
) -> Features:
    """The training images of every clip and version (`Features`).

    Version 0 is the clean clip; versions 1.. are augmented, version `v` of a
    speaker's clips being one virtual speaker. The augmentation of clip `i`
    depends only on `(seed, i, its speaker, its waveform)`, so every fold of
    a cross-validation sees the same versions of the same clips. Augmentation
    runs in one thread per CPU core.
    """
    from keras_tone.layers import PitchHistogram

    extract = FeatureExtractor(config)
    histogram = PitchHistogram(floor=config.front_end.pitch.floor)
    versions = 1 + recipe.copies
    n = len(corpus)
    log_mel = np.zeros((n, versions, *config.feature_shape()), np.float16)
    salience = np.zeros((n, versions, *config.pitch_shape()), np.float16)
    histograms = np.zeros((n, versions, config.pitch_shape()[1]), np.float32)
    chunk = 512
    starts: Any = range(0, n, chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="Features", unit="chunk")
    # Threads, not processes: numpy and librosa release the GIL for most of the
    # work, and Praat and TensorFlow's threads do not survive a fork.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for start in starts:
            stop = min(start + chunk, n)
            jobs = [
                (
                    corpus.waveforms[i],
                    recipe,
                    corpus.sample_rate,
                    str(corpus.speakers[i]),
                    int(corpus.tones[i]),
                    seed,
                    i,
                )
                for i in range(start, stop)
            ]
            waves = [w for versions_of_clip in pool.map(_versions, jobs) for w in versions_of_clip]
            mel, sal = extract(waves)
            log_mel[start:stop] = mel.reshape(stop - start, versions, *mel.shape[1:])
            salience[start:stop] = sal.reshape(stop - start, versions, *sal.shape[1:])
            histograms[start:stop] = np.asarray(histogram(sal)).reshape(stop - start, versions, -1)
    return Features(log_mel, salience, histograms)


def _versions(job: tuple) -> list[np.ndarray]:
    """The clean clip and its `recipe.copies` augmented versions (a worker's task)."""
    waveform, recipe, sample_rate, speaker, tone, seed, index = job
    versions = [np.asarray(waveform, np.float32)]
    for version in range(1, recipe.copies + 1):
        rng = np.random.default_rng([seed, index, version])
        voice = voice_draw(recipe, speaker, version, seed)
        versions.append(
            augment_waveform(waveform, rng, recipe, sample_rate, voice=voice, tone=tone)
        )
    return versions


def make_dataset(
    features: Features,
    y: np.ndarray,
    speakers: np.ndarray,
    *,
    classes: int,
    recipe: Recipe,
    seed: int,
    class_weights: np.ndarray | None,
) -> Any:
    """`tf.data` batches of `(inputs, one-hot label, class weight)` for `recipe.epochs` epochs.

    Each example is one version of a clip (drawn per epoch and clip) with a
    speaker context: the summed histograms of K random clips of the same
    speaker at the same version, K = 0 with probability `recipe.context_none`
    and otherwise log-uniform in 1 .. `recipe.context_max`. The draws depend
    only on `(seed, epoch, clip)`, so a run is repeatable.
    """
    import tensorflow as tf

    n, versions = features.log_mel.shape[:2]
    _, group = np.unique(speakers, return_inverse=True)
    order = np.argsort(group, kind="stable")
    first = np.searchsorted(group[order], group, side="left")
    count = np.searchsorted(group[order], group, side="right") - first
    k_max = recipe.context_max
    weights = class_weights if class_weights is not None else np.ones(classes)
    constants = {
        "log_mel": tf.constant(features.log_mel),
        "salience": tf.constant(features.salience),
        "histograms": tf.constant(features.histograms),
        "order": tf.constant(order, tf.int64),
        "first": tf.constant(first, tf.int64),
        "count": tf.constant(count, tf.int64),
        "y": tf.constant(y, tf.int64),
        "weights": tf.constant(weights, tf.float32),
    }

    def example(i: Any, counter: Any) -> Any:
        key = tf.stack([tf.constant(seed, tf.int64), counter])
        version = tf.random.stateless_uniform([], seed=key, maxval=versions, dtype=tf.int64)
        none = tf.random.stateless_uniform([], seed=key + 1) < recipe.context_none
        log_k = tf.random.stateless_uniform([], seed=key + 2, maxval=float(np.log(k_max + 1)))
        k = tf.where(none, tf.constant(0, tf.int64), tf.cast(tf.floor(tf.exp(log_k)), tf.int64))
        draws = tf.random.stateless_uniform(
            [k_max], seed=key + 3, maxval=constants["count"][i], dtype=tf.int64
        )
        members = tf.gather(constants["order"], constants["first"][i] + draws)
        histograms = tf.gather(tf.gather(constants["histograms"], members), version, axis=1)
        used = tf.cast(tf.range(k_max, dtype=tf.int64) < k, tf.float32)[:, None]
        inputs = {
            "log_mel": tf.cast(constants["log_mel"][i, version], tf.float32),
            "salience": tf.cast(constants["salience"][i, version], tf.float32),
            "speaker_context": tf.reduce_sum(histograms * used, axis=0),
        }
        label = constants["y"][i]
        return inputs, tf.one_hot(label, classes), tf.gather(constants["weights"], label)

    steps = -(-n // recipe.batch_size)
    total = steps * recipe.batch_size * recipe.epochs  # whole batches for every step
    ids = tf.data.Dataset.range(n).repeat().shuffle(n, seed=seed, reshuffle_each_iteration=True)
    data = tf.data.Dataset.zip((ids.take(total), tf.data.Dataset.range(total)))
    data = data.map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return data.batch(recipe.batch_size).prefetch(tf.data.AUTOTUNE)


__all__ = [
    "FeatureExtractor",
    "Features",
    "augment_waveform",
    "make_dataset",
    "make_features",
    "voice_draw",
]
