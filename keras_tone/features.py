"""Training data: virtual speakers, their log-mel and pitch images, a tf.data pipeline.

Every clip gets `recipe.copies` augmented versions, made once with numpy
(`augment_waveform`): version `v` of all clips of a speaker is one *virtual
speaker* (the same pitch shift, `voice_draw`, and the same recording
condition, `condition_draw`). Every version goes through ToneNet's own front
end (the front-end pass of `keras_tone.runner.Runner` for the model's
config), and training
(`make_dataset`) draws one version of each clip per epoch, with a speaker
context made of other clips of the same virtual speaker.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from keras_tone import conditions
from keras_tone.conditions import Condition
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


def condition_draw(
    recipe: Recipe, speaker: str, version: int, seed: int, rooms: Sequence[np.ndarray] = ()
) -> Condition:
    """The virtual speaker `version` of `speaker`: where it was recorded (`Condition`).

    With the recipe's probabilities, a room from `rooms`, a noise of
    `recipe.noise_types` at an SNR in `recipe.snr_db`, and the telephone
    band; each independently. Version 0 (the clean clip) is never drawn.
    """
    rng = np.random.default_rng([seed, zlib.crc32(speaker.encode()), version, 1])
    room = None
    if len(rooms) and rng.random() < recipe.room_probability:
        room = rooms[int(rng.integers(len(rooms)))]
    noise = None
    if recipe.noise_types and rng.random() < recipe.noise_probability:
        noise = recipe.noise_types[int(rng.integers(len(recipe.noise_types)))]
    channel = "telephone" if rng.random() < recipe.telephone_probability else None
    return Condition(
        room=room, noise=noise, snr_db=float(rng.uniform(*recipe.snr_db)), channel=channel
    )


def augment_waveform(
    waveform: np.ndarray,
    rng: np.random.Generator,
    recipe: Recipe,
    sample_rate: int,
    *,
    voice: float = 0.0,
    tone: int = 0,
    condition: Condition | None = None,
    babble_sources: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """One augmented version of a clip (numpy, float32).

    * Voice: the pitch moves by `voice` semitones plus a per-clip jitter
      uniform in `+-recipe.pitch_jitter`, by resampling (speed and formants
      move with it; linear interpolation, whose aliasing lands above the
      front end's 3.7 kHz).
    * Contour: a share `recipe.contour` of the versions get their pitch
      contour bent within the tone's natural variation (`reshape_contour`).
    * Half third tone: with `tone == 3`, a share `recipe.half_third` of the
      versions are cut at 45-70% of their length, before the final rise.
    * Cut short: a share `recipe.truncate` of the versions, of any tone, end
      at 60-95% of their voice (the span within 25 dB of the loudest 20 ms).
    * Tempo: the result is time-stretched at a rate drawn log-uniformly from
      `recipe.tempo`, pitch kept (`librosa.effects.time_stretch`, n_fft 1024;
      clips under 2048 samples are left as they are).
    * Onset: a random silence of up to `recipe.max_lead_seconds` is put in
      front (the front end trims clean silence, but not to the sample: what
      is left moves the syllable against the frames).
    * Recording: under `condition` (`keras_tone.conditions.apply`: room,
      noise, channel), the noise's SNR varied by +-3 dB per clip; babble is
      drawn from `babble_sources`.

    Gain is not augmented: the front end normalises loudness.
    """
    x = np.asarray(waveform, dtype=np.float32)
    semitones = voice + rng.uniform(-recipe.pitch_jitter, recipe.pitch_jitter)
    if semitones != 0.0:
        x = _resample(x, semitones)
    if recipe.contour > 0 and rng.random() < recipe.contour:
        x = reshape_contour(x, sample_rate, rng, tone=tone)
    if recipe.half_third > 0 and tone == 3 and rng.random() < recipe.half_third:
        x = x[: max(int(len(x) * rng.uniform(0.45, 0.7)), 1)]
    if recipe.truncate > 0 and rng.random() < recipe.truncate:
        start, end = _voiced_span(x, sample_rate)
        x = x[: start + max(int((end - start) * rng.uniform(0.6, 0.95)), 1)]
    low, high = recipe.tempo
    if (low, high) != (1.0, 1.0):
        rate = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        if len(x) > 2048:
            import librosa

            x = librosa.effects.time_stretch(x, rate=rate, n_fft=1024).astype(np.float32)
    lead = int(rng.uniform(0, recipe.max_lead_seconds) * sample_rate)
    x = np.concatenate([np.zeros(lead, np.float32), x])
    if condition is not None:
        if condition.noise is not None:
            condition = replace(condition, snr_db=condition.snr_db + rng.uniform(-3.0, 3.0))
        x = conditions.apply(
            x, condition, rng, sample_rate=sample_rate, babble_sources=babble_sources
        )
    return x.astype(np.float32, copy=False)


def reshape_contour(
    waveform: np.ndarray, sample_rate: int, rng: np.random.Generator, *, tone: int = 0
) -> np.ndarray:
    """The clip with its pitch contour bent within a tone's natural variation (`Recipe.contour`).

    Praat's pitch tier (10 ms, 75-600 Hz) gets a linear tilt of up to +-1.5
    semitones across the voiced part and a Gaussian bump (width 10-20% of
    the voice) of up to +-1.5 semitones centred in its middle 60%; for tone 2
    the bump is 0.5-3 semitones down, centred at 5-35% of the voice (an
    initial dip that delays the rise). Resynthesised by overlap-add (PSOLA):
    the duration and the formants stay. A clip without a voiced frame is
    returned as it is.

    Example:
        >>> import numpy as np
        >>> from keras_tone.features import reshape_contour
        >>> t = np.arange(8000) / 16000
        >>> vowel = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in range(1, 12)) / 5
        >>> reshape_contour(vowel, 16000, np.random.default_rng(0), tone=2).shape
        (8000,)
    """
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(np.asarray(waveform, np.float64), sampling_frequency=sample_rate)
    manipulation = call(sound, "To Manipulation", 0.01, 75, 600)
    tier = call(manipulation, "Extract pitch tier")
    count = call(tier, "Get number of points")
    if count < 2:
        return np.asarray(waveform, np.float32)
    times = np.array([call(tier, "Get time from index", i + 1) for i in range(count)])
    values = np.array([call(tier, "Get value at index", i + 1) for i in range(count)])
    position = (times - times[0]) / (times[-1] - times[0])
    width = rng.uniform(0.1, 0.2)
    if tone == 2:
        centre, height = rng.uniform(0.05, 0.35), -rng.uniform(0.5, 3.0)
    else:
        centre, height = rng.uniform(0.2, 0.8), rng.uniform(-1.5, 1.5)
    semitones = rng.uniform(-1.5, 1.5) * (position - 0.5)
    semitones += height * np.exp(-0.5 * ((position - centre) / width) ** 2)
    call(tier, "Remove points between", times[0] - 1, times[-1] + 1)
    for time, value in zip(times, values * 2.0 ** (semitones / 12.0), strict=True):
        call(tier, "Add point", float(time), float(value))
    call([manipulation, tier], "Replace pitch tier")
    out = call(manipulation, "Get resynthesis (overlap-add)").values[0]
    return out[: len(waveform)].astype(np.float32)


def _voiced_span(x: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """`(start, end)` samples of the part of a clip within 25 dB of its loudest 20 ms."""
    frame = max(sample_rate // 50, 1)
    frames = max(x.size // frame, 1)
    energy = np.mean(np.resize(x.astype(np.float64), frames * frame).reshape(frames, frame) ** 2, 1)
    loud = np.flatnonzero(energy >= energy.max() * 10**-2.5)
    return int(loud[0]) * frame, min(int(loud[-1] + 1) * frame, x.size)


def _resample(x: np.ndarray, semitones: float) -> np.ndarray:
    factor = 2.0 ** (semitones / 12.0)
    positions = np.arange(max(int(len(x) / factor), 1), dtype=np.float64) * factor
    return np.interp(positions, np.arange(len(x)), x).astype(np.float32)


def make_features(
    corpus: Any,
    recipe: Recipe,
    config: ToneNetConfig,
    *,
    seed: int = 0,
    babble_speakers: Sequence[str] | None = None,
    progress: bool = True,
) -> Features:
    """The training images of every clip and version (`Features`).

    Version 0 is the clean clip; versions 1.. are augmented, version `v` of a
    speaker's clips being one virtual speaker. The augmentation of clip `i`
    depends only on `(seed, i, its speaker, its waveform)` (and, for babble,
    the clips of `babble_speakers`), so every fold of a cross-validation sees
    the same versions of the same clips. Augmentation runs in one thread per
    CPU core.

    Args:
        babble_speakers: the speakers whose clips make babble noise (never the
            clip's own speaker); `None` for every speaker. Cross-validation
            passes the speakers it never holds out, so no held-out voice is
            heard in training, not even as babble.
    """
    from keras_tone.runner import Runner

    front_end = Runner(config, voicing=False)
    augment = _Augmenter(corpus, recipe, seed, babble_speakers)
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
    # work, and TensorFlow's threads do not survive a fork.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for start in starts:
            stop = min(start + chunk, n)
            waves = [w for clip in pool.map(augment.versions, range(start, stop)) for w in clip]
            images = front_end.features(waves)
            shape = (stop - start, versions)
            log_mel[start:stop] = images.log_mel.reshape(*shape, *images.log_mel.shape[1:])
            salience[start:stop] = images.salience.reshape(*shape, *images.salience.shape[1:])
            histograms[start:stop] = images.histograms.reshape(*shape, -1)
    return Features(log_mel, salience, histograms)


class _Augmenter:
    """The versions of each clip of a corpus: the clean clip, then its virtual speakers.

    Version `v` of every clip of a speaker shares one pitch shift
    (`voice_draw`) and one recording condition (`condition_draw`); the rooms
    are simulated once per run, and babble is made of other speakers' clips.
    """

    def __init__(
        self, corpus: Any, recipe: Recipe, seed: int, babble_speakers: Sequence[str] | None
    ) -> None:
        self.corpus, self.recipe, self.seed = corpus, recipe, seed
        self.rooms: list[np.ndarray] = []
        if recipe.room_probability > 0 and recipe.copies > 0:
            self.rooms = conditions.room_impulse_responses(
                recipe.rooms, rt60=recipe.rt60, sample_rate=corpus.sample_rate, seed=seed
            )
        speakers = np.asarray(corpus.speakers)
        talkers = np.ones(len(speakers), bool)
        if babble_speakers is not None:
            talkers = np.isin(speakers, list(babble_speakers))
        self._others = {s: np.flatnonzero(talkers & (speakers != s)) for s in np.unique(speakers)}

    def versions(self, index: int) -> list[np.ndarray]:
        """The clean clip and its `recipe.copies` augmented versions."""
        corpus, recipe, seed = self.corpus, self.recipe, self.seed
        waveform = corpus.waveforms[index]
        speaker, tone = str(corpus.speakers[index]), int(corpus.tones[index])
        out = [np.asarray(waveform, np.float32)]
        for version in range(1, recipe.copies + 1):
            rng = np.random.default_rng([seed, index, version])
            condition = condition_draw(recipe, speaker, version, seed, self.rooms)
            sources: list[np.ndarray] = []
            if condition.noise == "babble":
                others = self._others[speaker]
                if others.size == 0:  # nobody to overhear: pink noise instead
                    condition = replace(condition, noise="pink")
                else:
                    picks = rng.choice(others, size=min(8, others.size), replace=False)
                    sources = [corpus.waveforms[i] for i in picks]
            out.append(
                augment_waveform(
                    waveform,
                    rng,
                    recipe,
                    corpus.sample_rate,
                    voice=voice_draw(recipe, speaker, version, seed),
                    tone=tone,
                    condition=condition,
                    babble_sources=sources,
                )
            )
        return out


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
    "Features",
    "augment_waveform",
    "condition_draw",
    "reshape_contour",
    "make_dataset",
    "make_features",
    "voice_draw",
]
