"""Training and speaker-independent evaluation of ToneNet.

The recipe (measured on six speakers, leave-one-speaker-out; see the blcu
model card) in one paragraph: every clip is decoded once
(`keras_tone.datasets.load_corpus`); each clip gets `copies` augmented
versions, made once with numpy (pitch and speed changed together by
resampling over a range of +-`pitch_semitones`, white noise at a random SNR
with a random leading silence, then the tempo changed with the pitch kept);
every version goes through the package's own
front end (`SyllableNormalization` + `LogMelSpectrogram` with the settings
of `keras_tone.tonenet`), and ToneNet is trained on those log-mel images
(`include_preprocessing=False`), drawing one version of each clip per epoch
in a `tf.data` pipeline. The trained weights are then loaded, layer by
layer by name, into the `include_preprocessing=True` model, which is what is
saved and what `evaluate` measures on raw waveforms.

Public functions:

* `train(manifests, output_dir, ...)`: train, write a preset and `report.json`.
* `evaluate(weights, manifests)`: accuracy, per-tone precision and recall and
  confusion matrices, per speaker and overall.
* `cross_validate(manifests, output_dir, ...)`: leave-one-speaker-out.
* `format_report(report)`: a human-readable table.
* `write_card(preset_dir)`: rewrite a preset's model card from its `report.json`.

`keras-tone train`, `keras-tone evaluate` and `keras-tone card` run them
from the command line (see `keras_tone.cli`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone import labels
from keras_tone._keras import check_same_keras, keras

logger = logging.getLogger(__name__)

REPORT_NAME = "report.json"


@dataclass(frozen=True)
class Recipe:
    """Every setting of a training run (stored in `report.json`).

    Attributes:
        epochs: passes over the training clips (one augmented version of each).
        batch_size: global batch size.
        learning_rate: peak learning rate of Adam's cosine schedule.
        label_smoothing: label smoothing of the cross-entropy.
        copies: augmented versions made of each clip (plus the clean one).
        pitch_semitones: pitch (and speed) shift range, +- semitones.
        noise_probability: share of augmented versions that get white noise.
        snr_db: range of the noise's signal-to-noise ratio, in dB.
        tempo: range of a tempo change that keeps the pitch (phase vocoder,
            `librosa.effects.time_stretch`), drawn log-uniformly; a rate above
            1 is faster. `(1.0, 1.0)` disables it. It makes the model less
            sensitive to speaking rate (slow, careful speech in particular).
        max_lead_seconds: range of the random leading silence (it matters
            only under noise: clean silence is trimmed by the front end).
        mel_shift: range of a random shift of the log-mel image along the
            mel axis, in bands (0 disables it).
        time_stretch: range of a random stretch of the log-mel image along
            time, drawn per example and epoch: a factor log-uniform in
            `[1 / (1 + time_stretch), 1 + time_stretch]` (0 disables it). It
            decouples speed from pitch, which resampling changes together.
        class_weighting: `"balanced"` weighs each class by the inverse of its
            frequency in the training clips; `"none"` does not; `"auto"`
            (the default) is `"balanced"` for 5 classes and `"none"` for 4,
            resolved by `train` and `cross_validate`.
        mixed_precision: train in `mixed_bfloat16` (twice as fast on CPUs with
            AVX512-BF16; variables stay float32 and the saved weights are
            float32).
    """

    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 2e-3
    label_smoothing: float = 0.05
    copies: int = 4
    pitch_semitones: float = 6.0
    noise_probability: float = 0.5
    snr_db: tuple[float, float] = (15.0, 45.0)
    tempo: tuple[float, float] = (0.67, 1.5)
    max_lead_seconds: float = 0.3
    mel_shift: int = 0
    time_stretch: float = 0.0
    class_weighting: str = "auto"
    mixed_precision: bool = True


def _resolve_recipe(
    recipe: Recipe | None,
    *,
    classes: int,
    epochs: int | None,
    batch_size: int | None,
    class_weighting: str | None,
) -> Recipe:
    """The recipe of a run: `recipe` (default `Recipe()`) with the overrides given
    (`None` keeps the recipe's value) and its class weighting made explicit
    (the one place of the `"auto"` default)."""
    recipe = recipe or Recipe()
    recipe = replace(
        recipe,
        epochs=int(recipe.epochs if epochs is None else epochs),
        batch_size=int(recipe.batch_size if batch_size is None else batch_size),
    )
    weighting = recipe.class_weighting if class_weighting is None else class_weighting
    if weighting == "auto":
        weighting = "balanced" if classes == 5 else "none"
    if weighting not in ("none", "balanced"):
        raise ValueError(
            f"class_weighting must be 'none', 'balanced' or 'auto'; received {weighting!r}."
        )
    return replace(recipe, class_weighting=weighting)


# --------------------------------------------------------------------------
# Augmentation and features


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


class FrontEnd:
    """ToneNet's front end as a batch function: waveforms -> log-mel images.

    The waveform ToneNet's own `highpass`, `syllable` and `log_mel` layers,
    taken from a freshly built model (so the settings have one home: the
    ToneNet builder), run in one `tf.function` on padded batches.
    `tests/test_training.py` checks that the two agree.
    """

    def __init__(self, sample_rate: int) -> None:
        import tensorflow as tf

        from keras_tone.tonenet import ToneNet

        model = ToneNet(weights=None, include_top=False, sample_rate=sample_rate)
        highpass, syllable, log_mel = (
            model.get_layer(name) for name in ("highpass", "syllable", "log_mel")
        )
        self.n_mels = log_mel.n_mels

        def front_end(x: Any, lengths: Any) -> Any:
            # Filter each clip as if alone: zero the filter's ringing past its end.
            mask = tf.sequence_mask(lengths, tf.shape(x)[1], dtype=x.dtype)
            return log_mel(syllable(highpass(x) * mask))

        self._fn = tf.function(
            front_end,
            input_signature=[
                tf.TensorSpec([None, None], tf.float32),
                tf.TensorSpec([None], tf.int32),
            ],
            reduce_retracing=True,
        )

    def __call__(self, waveforms: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """Log-mel images `[len(waveforms), frames, n_mels]` (float32)."""
        order = np.argsort([len(w) for w in waveforms], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            batch = _pad([waveforms[i] for i in index])
            lengths = np.array([len(waveforms[i]) for i in index], np.int32)
            features = self._fn(batch, lengths).numpy()
            if out is None:
                out = np.zeros((len(waveforms), *features.shape[1:]), np.float32)
            out[index] = features
        assert out is not None
        return out


def _pad(waveforms: Sequence[np.ndarray]) -> np.ndarray:
    batch = np.zeros((len(waveforms), max(len(w) for w in waveforms)), np.float32)
    for row, waveform in zip(batch, waveforms, strict=True):
        row[: len(waveform)] = waveform
    return batch


def make_features(
    corpus: Any, recipe: Recipe, *, seed: int = 0, progress: bool = True
) -> np.ndarray:
    """Log-mel images of every clip: `[clips, 1 + copies, frames, n_mels]`, float16.

    Version 0 is the clean clip; versions 1.. are augmented. The augmentation
    of clip `i` depends only on `(seed, i, its waveform)`, so every fold of a
    cross-validation sees the same versions of the same clips.
    """
    front_end = FrontEnd(corpus.sample_rate)
    versions = 1 + recipe.copies
    result = None
    chunk = 512
    starts = range(0, len(corpus), chunk)
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
        features = front_end(waves).reshape(stop - start, versions, -1, front_end.n_mels)
        if result is None:
            result = np.zeros((len(corpus), *features.shape[1:]), np.float16)
        result[start:stop] = features
    assert result is not None
    return result


def _dataset(
    features: np.ndarray,
    y: np.ndarray,
    *,
    classes: int,
    recipe: Recipe,
    seed: int,
    class_weights: np.ndarray | None,
):
    import tensorflow as tf

    versions = features.shape[1]
    n_mels = features.shape[-1]
    weights = tf.constant(
        class_weights if class_weights is not None else np.ones(classes), tf.float32
    )

    def pick(x, label, index):
        draw = tf.random.stateless_uniform(
            [], seed=tf.stack([tf.cast(seed, tf.int64), index]), maxval=versions, dtype=tf.int64
        )
        image = tf.cast(tf.gather(x, draw), tf.float32)
        if recipe.mel_shift > 0:
            shift = tf.random.stateless_uniform(
                [],
                seed=tf.stack([tf.cast(seed + 1, tf.int64), index]),
                minval=-recipe.mel_shift,
                maxval=recipe.mel_shift + 1,
                dtype=tf.int64,
            )
            floor = tf.reduce_min(image)
            padded = tf.pad(
                image,
                [[0, 0], [recipe.mel_shift, recipe.mel_shift]],
                constant_values=floor,
            )
            image = padded[:, recipe.mel_shift - shift : recipe.mel_shift - shift + n_mels]
        if recipe.time_stretch > 0:
            frames = image.shape[0]
            limit = float(np.log1p(recipe.time_stretch))
            log_factor = tf.random.stateless_uniform(
                [], seed=tf.stack([tf.cast(seed + 2, tf.int64), index]), minval=-limit, maxval=limit
            )
            length = tf.cast(tf.round(frames * tf.exp(log_factor)), tf.int32)
            floor = tf.reduce_min(image)
            stretched = tf.image.resize(image[..., None], tf.stack([length, n_mels]))[..., 0]
            stretched = stretched[:frames]
            image = tf.pad(
                stretched, [[0, frames - tf.shape(stretched)[0]], [0, 0]], constant_values=floor
            )
            image = tf.ensure_shape(image, (frames, n_mels))
        target = tf.one_hot(label, classes)
        return image, target, tf.gather(weights, label)

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


# --------------------------------------------------------------------------
# Training


@contextlib.contextmanager
def _policy(mixed: bool):
    previous = keras.mixed_precision.global_policy().name
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _fit(
    features: np.ndarray,
    y: np.ndarray,
    *,
    classes: int,
    sample_rate: int,
    recipe: Recipe,
    seed: int,
    optimizer: Any = None,
    strategy: Any = None,
    verbose: int = 2,
) -> tuple[keras.Model, dict]:
    """Train ToneNet on log-mel images; return the waveform model and the history."""
    from keras_tone.tonenet import ToneNet

    keras.utils.set_random_seed(seed)
    class_weights = None
    if recipe.class_weighting == "balanced":
        counts = np.bincount(y, minlength=classes).astype(np.float64)
        class_weights = np.where(counts > 0, len(y) / (classes * np.maximum(counts, 1)), 0.0)
    elif recipe.class_weighting != "none":
        raise ValueError(
            f"class_weighting must be 'none' or 'balanced'; received {recipe.class_weighting!r}."
        )
    data = _dataset(
        features, y, classes=classes, recipe=recipe, seed=seed, class_weights=class_weights
    )
    steps = math.ceil(len(y) / recipe.batch_size)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with _policy(recipe.mixed_precision), scope:
        model = ToneNet(
            weights=None, include_preprocessing=False, classes=classes, sample_rate=sample_rate
        )
        if optimizer is None:
            schedule = keras.optimizers.schedules.CosineDecay(
                recipe.learning_rate, decay_steps=steps * recipe.epochs, alpha=0.02
            )
            opt = keras.optimizers.Adam(schedule)
        else:
            opt = optimizer.__class__.from_config(optimizer.get_config())
        model.compile(
            optimizer=opt,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
            weighted_metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        )
    history = model.fit(data, epochs=recipe.epochs, steps_per_epoch=steps, verbose=verbose).history
    # The waveform model, float32, with the same weights (layer names match).
    full = ToneNet(
        weights=None, include_preprocessing=True, classes=classes, sample_rate=sample_rate
    )
    for layer in model.layers:
        if layer.weights:
            full.get_layer(layer.name).set_weights(layer.get_weights())
    history = {k: [float(v) for v in values] for k, values in history.items()}
    return full, history


def train(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    classes: int = 4,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    optimizer: Any = None,
    strategy: Any = None,
    exclude_speakers: Sequence[str] = (),
    validation_manifests: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    recipe: Recipe | None = None,
    cache_dir: str | os.PathLike | None = None,
    name: str | None = None,
    loso_report: dict | None = None,
    data_licences: dict[str, str] | None = None,
    neutral_speakers: Sequence[str] | None = None,
    card_notes: str | None = None,
    class_weighting: str | None = None,
    verbose: int = 2,
) -> dict:
    """Train ToneNet from scratch and write a preset folder.

    Args:
        manifests: manifest CSV(s) of the training corpus.
        output_dir: folder for the preset (`model.weights.h5`, `config.json`,
            `README.md`) and `report.json`.
        classes: 4 (tones 1-4) or 5 (with the neutral tone).
        epochs: overrides the recipe's (default: the recipe's).
        batch_size: overrides the recipe's (default: the recipe's).
        seed: seeds augmentation, shuffling and initialisation.
        optimizer: a Keras optimizer of keras_tone's Keras (checked with
            `check_same_keras`); default Adam with a cosine schedule. A fresh
            copy (`from_config`) is used, so one instance can serve many runs.
        strategy: a `tf.distribute.Strategy` (e.g. `MirroredStrategy`).
        exclude_speakers: speakers to leave out of training.
        validation_manifests: manifests evaluated after training (their
            numbers go into the report and model card); they must hold other
            speakers than the training data for the numbers to mean anything.
        recipe: a `Recipe` (default `Recipe()`); `epochs` and `batch_size`
            given here override its values.
        cache_dir: decoded-audio cache (see `load_corpus`).
        name: preset name for the model card (default: the folder name).
        loso_report: a `cross_validate` report to put on the model card.
        data_licences: `{manifest folder name: licence text}` for the card.
        neutral_speakers: with `classes=5`, keep neutral-tone clips of these
            speakers only (default: of every speaker).
        card_notes: Markdown added to the model card (findings, caveats).
        class_weighting: `"none"`, `"balanced"` or `"auto"`; overrides the
            recipe's. `"auto"` (the recipe's default) means `"balanced"` for
            5 classes and `"none"` for 4.
        verbose: Keras `fit` verbosity.

    Returns:
        The report (also written to `output_dir/report.json`).
    """
    from keras_tone import weights as weights_lib
    from keras_tone.datasets import load_corpus

    if optimizer is not None:
        check_same_keras(optimizer, "optimizer")
    recipe = _resolve_recipe(
        recipe,
        classes=classes,
        epochs=epochs,
        batch_size=batch_size,
        class_weighting=class_weighting,
    )
    output_dir = Path(output_dir)
    manifests = _as_list(manifests)
    corpus = _keep_neutral_of(
        load_corpus(manifests, classes=classes, cache_dir=cache_dir), neutral_speakers
    )
    unknown = set(exclude_speakers) - set(corpus.speakers.tolist())
    if unknown:
        raise ValueError(
            f"exclude_speakers names speakers that are not in the corpus: {sorted(unknown)}; "
            f"the corpus has {corpus.speaker_names()}."
        )
    corpus = corpus.select(~np.isin(corpus.speakers, list(exclude_speakers)))
    if len(corpus) == 0:
        raise ValueError("No training clips are left after exclude_speakers.")
    started = time.perf_counter()
    features = make_features(corpus, recipe, seed=seed, progress=verbose > 0)
    feature_seconds = time.perf_counter() - started
    model, history = _fit(
        features,
        corpus.labels,
        classes=classes,
        sample_rate=corpus.sample_rate,
        recipe=recipe,
        seed=seed,
        optimizer=optimizer,
        strategy=strategy,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    report: dict[str, Any] = {
        "kind": "train",
        "classes": classes,
        "class_names": labels.class_names(classes),
        "manifests": [str(m) for m in manifests],
        "speakers": corpus.speaker_names(),
        "clips": int(len(corpus)),
        "clips_per_class": np.bincount(corpus.labels, minlength=classes).tolist(),
        "clips_per_speaker": {s: int((corpus.speakers == s).sum()) for s in corpus.speaker_names()},
        "seed": seed,
        "neutral_speakers": None if neutral_speakers is None else list(neutral_speakers),
        "recipe": asdict(recipe),
        "optimizer": None if optimizer is None else type(optimizer).__name__,
        "strategy": None if strategy is None else type(strategy).__name__,
        "parameters": int(model.count_params()),
        "feature_seconds": round(feature_seconds, 1),
        "train_seconds": round(seconds, 1),
        "final_train_accuracy": history.get("accuracy", [None])[-1],
        "history": history,
    }
    if validation_manifests is not None:
        report["validation"] = evaluate(model, validation_manifests, cache_dir=cache_dir)
        overlap = set(report["speakers"]) & set(report["validation"]["per_speaker"])
        if overlap:
            logger.warning(
                "Validation speakers %s are also training speakers: their numbers are "
                "not speaker-independent.",
                sorted(overlap),
            )
    if loso_report is not None:
        report["loso"] = loso_report
    card = model_card(
        report, name=name or output_dir.name, data_licences=data_licences, notes=card_notes
    )
    weights_lib.save_preset(model, output_dir, classes=classes, card=card)
    (output_dir / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


# --------------------------------------------------------------------------
# Evaluation


def _metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> dict:
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    diagonal = np.diag(confusion)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, diagonal / np.maximum(support, 1), np.nan)
        precision = np.where(predicted > 0, diagonal / np.maximum(predicted, 1), np.nan)
    return {
        "clips": int(len(y_true)),
        "accuracy": float(diagonal.sum() / max(len(y_true), 1)),
        "precision": [None if np.isnan(v) else float(v) for v in precision],
        "recall": [None if np.isnan(v) else float(v) for v in recall],
        "confusion": confusion.tolist(),
    }


def _load_model(weights: Any) -> tuple[keras.Model, int]:
    from keras_tone import weights as weights_lib
    from keras_tone.tonenet import ToneNet

    if isinstance(weights, keras.Model):
        return weights, int(weights.output_shape[-1])
    path = Path(weights)
    if path.is_dir():
        path = path / weights_lib.WEIGHTS_NAME
    resolved = weights_lib.resolve_weights(path)
    if resolved.config is None:
        raise ValueError(
            f"{str(path)!r} has no config.json beside it; pass a preset folder written "
            "by keras_tone.training.train (or a keras.Model)."
        )
    classes = int(resolved.config["classes"])
    model = ToneNet(weights=path, classes=classes, sample_rate=int(resolved.config["sample_rate"]))
    return model, classes


def predict_corpus(model: keras.Model, corpus: Any, *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of every clip of a corpus, through the waveform model."""
    order = np.argsort([len(w) for w in corpus.waveforms], kind="stable")
    probs = np.zeros((len(corpus), int(model.output_shape[-1])), np.float32)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        probs[index] = np.asarray(model(_pad([corpus.waveforms[i] for i in index]), training=False))
    return probs


def evaluate(
    weights: Any,
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    batch_size: int = 64,
    cache_dir: str | os.PathLike | None = None,
) -> dict:
    """Accuracy, per-tone precision/recall and confusion matrix, per speaker and overall.

    Args:
        weights: a preset folder, a `model.weights.h5` with its `config.json`,
            or a waveform ToneNet `keras.Model`.
        manifests: manifest CSV(s) of the clips to classify. A 4-class model
            is evaluated on tones 1-4 only; a 5-class model on all five.
        batch_size: clips per forward pass.
        cache_dir: decoded-audio cache (see `load_corpus`).

    Returns:
        `{"kind": "evaluate", "classes", "class_names", "overall": metrics,
        "per_speaker": {speaker: metrics}, "per_sex": {sex: metrics}}`; each
        metrics dict has `clips`, `accuracy`, `precision` and `recall` (per
        class, `None` where undefined) and `confusion` (rows: true class,
        columns: predicted).
    """
    from keras_tone.datasets import load_corpus

    model, classes = _load_model(weights)
    corpus = load_corpus(_as_list(manifests), classes=classes, cache_dir=cache_dir, progress=False)
    if len(corpus) == 0:
        raise ValueError("The manifests hold no clips to evaluate.")
    predicted = predict_corpus(model, corpus, batch_size=batch_size).argmax(axis=1)
    return _evaluation_report(corpus, predicted, classes)


def _evaluation_report(corpus: Any, predicted: np.ndarray, classes: int) -> dict:
    report = {
        "kind": "evaluate",
        "classes": classes,
        "class_names": labels.class_names(classes),
        "overall": _metrics(corpus.labels, predicted, classes),
        "per_speaker": {},
        "per_sex": {},
    }
    for speaker in corpus.speaker_names():
        mask = corpus.speakers == speaker
        report["per_speaker"][speaker] = _metrics(corpus.labels[mask], predicted[mask], classes)
    for sex in sorted(set(corpus.sexes.tolist())):
        mask = corpus.sexes == sex
        report["per_sex"][sex] = _metrics(corpus.labels[mask], predicted[mask], classes)
    return report


# --------------------------------------------------------------------------
# Cross-validation


def cross_validate(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    classes: int = 4,
    speakers: Sequence[str] | None = None,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int | None = None,
    recipe: Recipe | None = None,
    optimizer: Any = None,
    strategy: Any = None,
    cache_dir: str | os.PathLike | None = None,
    compare_classes: int | None = None,
    neutral_speakers: Sequence[str] | None = None,
    class_weighting: str | None = None,
    verbose: int = 2,
) -> dict:
    """Leave-one-speaker-out: for each speaker, train on the others, test on it.

    Augmented features are computed once for the whole corpus and each fold
    takes its training speakers' rows, so the folds differ only in which
    speaker is held out. Each fold's waveform model is written to
    `output_dir/fold-<speaker>/` and measured with `evaluate` on the held-out
    speaker's raw clips.

    Args:
        manifests: manifest CSV(s) of all speakers.
        output_dir: folder of the per-fold presets and `report.json`.
        classes: 4 or 5.
        speakers: the speakers to hold out (default: every speaker); the
            others are always trained on.
        seed: as in `train`.
        epochs: overrides the recipe's (default: the recipe's).
        batch_size: overrides the recipe's (default: the recipe's).
        recipe: as in `train`.
        optimizer: as in `train`.
        strategy: as in `train`.
        cache_dir: decoded-audio cache.
        compare_classes: with `classes=5`, also report accuracy on tones 1-4
            only (`4`), for comparison with a 4-class model.
        neutral_speakers: as in `train`.
        class_weighting: as in `train`.
        verbose: Keras `fit` verbosity.

    Returns:
        `{"kind": "cross_validate", "folds": {speaker: evaluation report of
        that speaker + train_seconds}, "summary": {speaker: accuracy}, ...}`,
        also written to `output_dir/report.json`.
    """
    from keras_tone import weights as weights_lib
    from keras_tone.datasets import load_corpus

    if optimizer is not None:
        check_same_keras(optimizer, "optimizer")
    recipe = _resolve_recipe(
        recipe,
        classes=classes,
        epochs=epochs,
        batch_size=batch_size,
        class_weighting=class_weighting,
    )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    corpus = _keep_neutral_of(
        load_corpus(_as_list(manifests), classes=classes, cache_dir=cache_dir), neutral_speakers
    )
    all_speakers = corpus.speaker_names()
    held_out = list(speakers) if speakers is not None else all_speakers
    unknown = set(held_out) - set(all_speakers)
    if unknown:
        raise ValueError(
            f"speakers names speakers that are not in the corpus: {sorted(unknown)}; "
            f"the corpus has {all_speakers}."
        )
    started = time.perf_counter()
    features = make_features(corpus, recipe, seed=seed, progress=verbose > 0)
    report: dict[str, Any] = {
        "kind": "cross_validate",
        "classes": classes,
        "class_names": labels.class_names(classes),
        "speakers": all_speakers,
        "recipe": asdict(recipe),
        "seed": seed,
        "neutral_speakers": None if neutral_speakers is None else list(neutral_speakers),
        "feature_seconds": round(time.perf_counter() - started, 1),
        "folds": {},
        "summary": {},
    }
    for speaker in held_out:
        fold_start = time.perf_counter()
        train_mask = corpus.speakers != speaker
        model, history = _fit(
            features[train_mask],
            corpus.labels[train_mask],
            classes=classes,
            sample_rate=corpus.sample_rate,
            recipe=recipe,
            seed=seed,
            optimizer=optimizer,
            strategy=strategy,
            verbose=verbose,
        )
        fold_seconds = time.perf_counter() - fold_start
        test = corpus.select(~train_mask)
        probs = predict_corpus(model, test)
        fold = _evaluation_report(test, probs.argmax(axis=1), classes)
        fold["train_speakers"] = [s for s in all_speakers if s != speaker]
        fold["train_seconds"] = round(fold_seconds, 1)
        fold["final_train_accuracy"] = history["accuracy"][-1]
        if compare_classes is not None and compare_classes < classes:
            keep = test.labels < compare_classes
            restricted = probs[keep][:, :compare_classes].argmax(axis=1)
            fold[f"tones_1_{compare_classes}_only"] = _metrics(
                test.labels[keep], restricted, compare_classes
            )
            fold[f"tones_1_{compare_classes}_accuracy_of_full_argmax"] = float(
                (probs[keep].argmax(axis=1) == test.labels[keep]).mean()
            )
        report["folds"][speaker] = fold
        report["summary"][speaker] = fold["overall"]["accuracy"]
        weights_lib.save_preset(
            model,
            output_dir / f"fold-{speaker}",
            classes=classes,
            card=f"# ToneNet LOSO fold: held out {speaker}\n\nNot for release.\n",
        )
        logger.info("held out %s: accuracy %.4f", speaker, fold["overall"]["accuracy"])
        (output_dir / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    accuracies = list(report["summary"].values())
    report["mean_accuracy"] = float(np.mean(accuracies))
    report["min_accuracy"] = float(np.min(accuracies))
    report["seconds"] = round(time.perf_counter() - started, 1)
    (output_dir / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


# --------------------------------------------------------------------------
# Reports and model card


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _short_names(classes: int) -> list[str]:
    return [f"T{i + 1}" if i < 4 else "T5(n)" for i in range(classes)]


def _confusion_table(metrics: dict, classes: int, markdown: bool = False) -> str:
    names = _short_names(classes)
    if markdown:
        lines = ["| true \\ predicted | " + " | ".join(names) + " | recall |"]
        lines.append("|---" * (classes + 2) + "|")
        for i, row in enumerate(metrics["confusion"]):
            cells = " | ".join(str(v) for v in row)
            lines.append(f"| {names[i]} | {cells} | {_pct(metrics['recall'][i])}% |")
        precision = " | ".join(_pct(v) + "%" for v in metrics["precision"])
        lines.append(f"| precision | {precision} | |")
        return "\n".join(lines)
    width = max(6, max(len(str(v)) for row in metrics["confusion"] for v in row) + 2)
    lines = ["true\\pred" + "".join(n.rjust(width) for n in names) + "  recall"]
    for i, row in enumerate(metrics["confusion"]):
        cells = "".join(str(v).rjust(width) for v in row)
        lines.append(f"{names[i]:<9}{cells}  {_pct(metrics['recall'][i]):>5}%")
    lines.append("precision" + "".join((_pct(v) + "%").rjust(width) for v in metrics["precision"]))
    return "\n".join(lines)


def _speaker_table(per_speaker: dict, classes: int, markdown: bool = False) -> str:
    names = _short_names(classes)
    header = ["speaker", "clips", "accuracy"] + [f"{n} recall" for n in names]
    rows = []
    for speaker, m in per_speaker.items():
        rows.append(
            [speaker, str(m["clips"]), _pct(m["accuracy"]) + "%"]
            + [_pct(v) + "%" for v in m["recall"]]
        )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def fmt(row: list[str]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))

    return "\n".join([fmt(header)] + [fmt(r) for r in rows])


def format_report(report: dict, *, markdown: bool = False) -> str:
    """A human-readable summary of a `train`, `evaluate` or `cross_validate` report.

    A per-speaker table (clips, accuracy, per-tone recall), then the
    confusion matrices (rows: true tone, columns: predicted) with per-tone
    recall and precision. `markdown=True` writes Markdown tables.
    """
    kind = report.get("kind")
    classes = int(report["classes"])
    out: list[str] = []
    heading = (lambda t: f"### {t}\n") if markdown else (lambda t: f"== {t} ==")
    if kind == "evaluate":
        out.append(heading("Per speaker"))
        out.append(
            _speaker_table({**report["per_speaker"], "ALL": report["overall"]}, classes, markdown)
        )
        for speaker, metrics in {**report["per_speaker"], "ALL": report["overall"]}.items():
            out.append("")
            out.append(heading(f"Confusion: {speaker}"))
            out.append(_confusion_table(metrics, classes, markdown))
    elif kind == "cross_validate":
        per = {s: f["overall"] for s, f in report["folds"].items()}
        out.append(heading("Leave-one-speaker-out (each row: trained on the other speakers)"))
        out.append(_speaker_table(per, classes, markdown))
        if per:
            accs = [m["accuracy"] for m in per.values()]
            out.append(
                f"\nmean {_pct(float(np.mean(accs)))}%, worst {_pct(float(np.min(accs)))}% "
                f"over {len(accs)} held-out speakers"
            )
        for speaker, fold in report["folds"].items():
            out.append("")
            out.append(heading(f"Held out {speaker}"))
            out.append(_confusion_table(fold["overall"], classes, markdown))
            for key, value in fold.items():
                if key.startswith("tones_1_") and isinstance(value, dict):
                    out.append(
                        f"tones 1-4 only (argmax over tones 1-4): {_pct(value['accuracy'])}%"
                    )
    elif kind == "train":
        out.append(
            f"Trained on {report['clips']} clips of {', '.join(report['speakers'])} "
            f"in {report['train_seconds']:.0f} s; final training accuracy "
            f"{_pct(report['final_train_accuracy'])}% (augmented training clips)."
        )
        if "validation" in report:
            out.append("")
            out.append(format_report(report["validation"], markdown=markdown))
        if "loso" in report:
            out.append("")
            out.append(format_report(report["loso"], markdown=markdown))
    else:
        raise ValueError(
            f"format_report expects a report of train, evaluate or cross_validate; "
            f"received kind={kind!r}."
        )
    return "\n".join(out)


def model_card(
    report: dict,
    *,
    name: str,
    data_licences: dict[str, str] | None = None,
    notes: str | None = None,
) -> str:
    """A Hugging Face model card for a trained preset, with its measured numbers.

    `notes` (Markdown) goes in as a section of its own before the limitations.
    """
    classes = report["classes"]
    recipe = report["recipe"]
    loso = report.get("loso")
    metrics_yaml = ""
    if loso:
        results = "\n".join(
            f"      - type: accuracy\n        name: held-out {s} accuracy\n        value: {a:.4f}"
            for s, a in loso["summary"].items()
        )
        metrics_yaml = (
            "model-index:\n"
            f"  - name: keras-tone-{name}\n"
            "    results:\n"
            "      - task:\n          type: audio-classification\n"
            "          name: Mandarin tone classification (leave-one-speaker-out)\n"
            "        metrics:\n"
            + results.replace("      - type", "          - type")
            .replace("        name", "            name")
            .replace("        value", "            value")
            + "\n"
        )
    folders = [Path(m).parent.name for m in report["manifests"]]
    licence_lines = []
    for folder in folders:
        licence = (data_licences or {}).get(folder, "licence: see the corpus's own terms")
        licence_lines.append(f"- `{folder}`: {licence}")
    texts = " ".join((data_licences or {}).get(f, "") for f in folders)
    conditions = []
    if "GPL" in texts:
        conditions.append("GPL-3.0-or-later (copyleft)")
    if "CC BY-SA" in texts:
        conditions.append("CC BY-SA (attribution, share-alike)")
    licence_note = [
        "",
        "**Licence of these weights.** The weights are learned from the recordings above. "
        "Whether trained weights are a derivative work of their training data is not "
        "settled; the recordings' licences may apply to them.",
    ]
    if conditions:
        licence_note[-1] += (
            " Some of the recordings come with redistribution conditions: "
            + " and ".join(conditions)
            + ". Redistribute these weights only with this model card (it credits every "
            "source) and on terms compatible with those licences; if you cannot, retrain "
            "without those folders (command below) - the other folders' licences "
            "(public domain, MIT, unstated) carry no such condition."
        )
    header = (
        "---\n"
        "library_name: keras\n"
        "license: other\n"
        "language:\n  - zh\n"
        "pipeline_tag: audio-classification\n"
        "tags:\n  - keras\n  - keras-tone\n  - audio-classification\n  - mandarin\n"
        "  - lexical-tone\n  - tonenet\n"
        "datasets:\n"
        + "".join(f"  - {f}\n" for f in folders)
        + "metrics:\n  - accuracy\n"
        + metrics_yaml
        + "---\n\n"
    )
    per_speaker = ", ".join(
        f"{k}: {v}" for k, v in report.get("clips_per_speaker", {}).items()
    ) or ", ".join(report["speakers"])
    if recipe.get("time_stretch"):
        extra = f", and a time stretch of the log-mel image by up to x{1 + recipe['time_stretch']}"
    else:
        extra = ""
    if recipe.get("mel_shift"):
        extra += f", and a mel-axis shift of up to {recipe['mel_shift']} bands"
    # Reports written before Recipe.tempo existed had no tempo change.
    tempo = tuple(recipe.get("tempo") or (1.0, 1.0))
    if tempo != (1.0, 1.0):
        extra += (
            f"; each augmented version then has its tempo changed by x{tempo[0]}-x{tempo[1]} "
            "with the pitch kept (phase vocoder)"
        )
    # The retrain command reproduces this recipe under today's defaults.
    recipe_flags = "" if tempo == Recipe().tempo else f" --tempo {tempo[0]:g} {tempo[1]:g}"
    neutral = ""
    if report.get("neutral_speakers"):
        neutral = " --neutral-from " + " ".join(report["neutral_speakers"])
    body = [
        f"# ToneNet `{name}`: Mandarin lexical tone of one syllable ({classes} classes)",
        "",
        "Classifies the tone of one spoken Mandarin syllable from its raw waveform "
        f"(mono float32, {16000} Hz, any length): " + ", ".join(labels.class_names(classes)) + ".",
        "",
        "```python",
        "import keras_tone",
        f'model = keras_tone.ToneNet(weights="{name}", classes={classes})',
        "probs = model.predict(keras_tone.prepare_batch([keras_tone.load_audio(path)]))",
        "print(keras_tone.decode_predictions(probs))",
        "```",
        "",
        f"{report['parameters']:,} parameters. Silence trimming, loudness normalisation and "
        "the log-mel front end run inside the model.",
        "",
        "## Training data",
        "",
        f"{report['clips']} clips of {len(report['speakers'])} speakers ({per_speaker}); "
        "clips per class: "
        + ", ".join(
            f"{n} {c}"
            for n, c in zip(labels.class_names(classes), report["clips_per_class"], strict=True)
        )
        + ".",
        "",
        *licence_lines,
        *licence_note,
        "",
        "## Training recipe",
        "",
        f"{recipe['epochs']} epochs, batch {recipe['batch_size']}, Adam with a cosine schedule "
        f"from {recipe['learning_rate']}, label smoothing {recipe['label_smoothing']}, "
        f"class weighting `{recipe['class_weighting']}`, seed {report['seed']}. Each clip has "
        f"{recipe['copies']} augmented versions besides the clean one: pitch and speed shifted "
        f"together by resampling (uniform in +-{recipe['pitch_semitones']} semitones), white "
        f"noise at {recipe['snr_db'][0]:.0f}-{recipe['snr_db'][1]:.0f} dB SNR with up to "
        f"{recipe['max_lead_seconds']} s leading silence on {recipe['noise_probability']:.0%} "
        "of them"
        + extra
        + f". Training took {report['train_seconds'] / 60:.1f} min on the CPU it ran on "
        "(final accuracy on the augmented training clips "
        f"{_pct(report['final_train_accuracy'])}%).",
        "",
    ]
    if loso:
        body += [
            "## Evaluation: leave-one-speaker-out",
            "",
            "Each row is a model trained by the same recipe on the other speakers and "
            "tested on the held-out one (no clip or speaker of the test is seen in "
            "training). These numbers, not accuracy on the training speakers, are what "
            "to expect on a new voice of similar recording quality.",
            "",
            format_report(loso, markdown=True),
            "",
        ]
    if "validation" in report:
        body += [
            "## Evaluation on held-out manifests",
            "",
            format_report(report["validation"], markdown=True),
            "",
        ]
    if notes:
        body += [notes.strip(), ""]
    body += [
        "## Limitations",
        "",
        "- Isolated syllables, mostly read in citation form. Tones in connected speech "
        "(sandhi, coarticulation) are not measured.",
        f"- {len(report['speakers'])} speakers only; few low voices. Accuracy on children, "
        "very low or very high voices, whispered or creaky speech is not measured.",
        "- One syllable per clip: split longer recordings first. Noise robustness beyond the "
        "augmentation's SNR range is not measured.",
        "",
        "## Retrain",
        "",
        "On another corpus (e.g. BLCU-SAIT, which is not openly available), given a manifest "
        "CSV `path,syllable,tone,speaker,sex` per speaker folder:",
        "",
        "```bash",
        "keras-tone train /path/to/*/manifest.csv --loso "
        f"--output runs/my-loso --classes {classes}{neutral}{recipe_flags}",
        "keras-tone train /path/to/*/manifest.csv "
        f"--output weights/my-preset --classes {classes}{neutral}{recipe_flags} "
        "--loso-report runs/my-loso/report.json",
        "```",
        "",
    ]
    return header + "\n".join(body)


def write_card(
    preset_dir: str | os.PathLike,
    *,
    name: str | None = None,
    data_licences: dict[str, str] | None = None,
    notes: str | None = None,
) -> Path:
    """Rewrite a preset's model card (`README.md`) from its `report.json`.

    Args:
        preset_dir: a preset folder written by `train`.
        name: preset name for the card (default: the folder name).
        data_licences: `{manifest folder name: licence text}` for the card.
        notes: Markdown added to the card (findings, caveats).

    Returns:
        The path of the card written.
    """
    from keras_tone import weights as weights_lib

    preset_dir = Path(preset_dir)
    report = json.loads((preset_dir / REPORT_NAME).read_text())
    card = model_card(
        report, name=name or preset_dir.name, data_licences=data_licences, notes=notes
    )
    path = preset_dir / weights_lib.CARD_NAME
    path.write_text(card)
    return path


# --------------------------------------------------------------------------
# Helpers


def _keep_neutral_of(corpus: Any, neutral_speakers: Sequence[str] | None) -> Any:
    """Drop the neutral-tone clips of speakers not in `neutral_speakers` (None: keep all)."""
    if neutral_speakers is None or corpus.classes < 5:
        return corpus
    unknown = set(neutral_speakers) - set(corpus.speakers.tolist())
    if unknown:
        raise ValueError(
            f"neutral_speakers names speakers that are not in the corpus: {sorted(unknown)}; "
            f"the corpus has {corpus.speaker_names()}."
        )
    keep = (corpus.tones != 5) | np.isin(corpus.speakers, list(neutral_speakers))
    dropped = int((~keep).sum())
    if dropped:
        logger.info(
            "Dropped %d neutral-tone clips of other speakers than %s.",
            dropped,
            list(neutral_speakers),
        )
    return corpus.select(keep)


def _as_list(manifests: Any) -> list[Path]:
    if isinstance(manifests, (str, os.PathLike)):
        return [Path(manifests)]
    return [Path(m) for m in manifests]
