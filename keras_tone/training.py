"""Training ToneNet.

The recipe in one paragraph (`keras_tone.recipe.Recipe`; measured
leave-one-speaker-out on the model cards): every clip is decoded once
(`keras_tone.datasets.load_corpus`); each clip gets `copies` augmented
versions, made once with numpy, version `v` of a speaker being one virtual
speaker (pitch and speed changed together by resampling, some tone-3 clips
cut before their rise, white noise at a random SNR with a random leading
silence, then the tempo changed with the pitch kept; `keras_tone.features`);
every version goes through the model's own front end
(`keras_tone.frontend.FrontEnd`), and ToneNet is trained on those log-mel and
pitch images (`include_preprocessing=False`), drawing one version of each
clip per epoch with the pitch histograms of other clips of its virtual
speaker as speaker context. The trained weights are then given to the
waveform model (`keras_tone.tonenet.transfer_weights`), which is what is
saved and what `keras_tone.evaluation.evaluate` measures on raw waveforms.

* `train(manifests, output_dir, ...)`: train, write a preset and `report.json`.
* `prepare(manifests, ...)`: the clips of syllable and word manifests.
* `keras_tone.crossval.cross_validate`: leave-one-speaker-out.

`keras-tone train` runs them from the command line.
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

from keras_tone._keras import check_same_keras, keras
from keras_tone.cards import REPORT_NAME, model_card
from keras_tone.config import ToneNetConfig
from keras_tone.evaluation import (
    as_list,
    evaluate,
)
from keras_tone.features import Features, make_dataset, make_features
from keras_tone.frontend import front_end_of
from keras_tone.recipe import Recipe, resolve_recipe
from keras_tone.tonenet import ToneNet, ensemble, load_model, transfer_weights
from keras_tone.weights import save_preset

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _policy(mixed: bool):
    previous = keras.mixed_precision.global_policy().name
    if mixed:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def fit(
    features: Features,
    y: np.ndarray,
    speakers: np.ndarray,
    config: ToneNetConfig,
    recipe: Recipe,
    seed: int,
    optimizer: Any,
    strategy: Any,
    verbose: int,
) -> tuple[keras.Model, dict]:
    """Train ToneNet on precomputed images (`keras_tone.features`).

    Returns:
        `(model, history)`: the waveform model with the speaker-context input
        (`include_preprocessing=True`, `speaker_context=True`, float32; with
        a context of zeros it is the model alone) with the trained weights,
        and the Keras history.
    """
    classes = config.classes
    keras.utils.set_random_seed(seed)
    class_weights = None
    if recipe.class_weighting == "balanced":
        counts = np.bincount(y, minlength=classes).astype(np.float64)
        class_weights = np.where(counts > 0, len(y) / (classes * np.maximum(counts, 1)), 0.0)
    data = make_dataset(
        features,
        y,
        speakers,
        classes=classes,
        recipe=recipe,
        seed=seed,
        class_weights=class_weights,
    )
    steps = math.ceil(len(y) / recipe.batch_size)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with _policy(recipe.mixed_precision), scope:
        model = ToneNet(
            weights=None, include_preprocessing=False, config=config, speaker_context=True
        )
        if optimizer is None:
            schedule = keras.optimizers.schedules.CosineDecay(
                recipe.learning_rate, decay_steps=steps * recipe.epochs, alpha=0.02
            )
            opt = keras.optimizers.Adam(schedule, use_ema=recipe.ema, ema_momentum=0.999)
        else:
            opt = optimizer.__class__.from_config(optimizer.get_config())
        model.compile(
            optimizer=opt,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
            weighted_metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        )
    history = model.fit(data, epochs=recipe.epochs, steps_per_epoch=steps, verbose=verbose).history
    waveform_model = ToneNet(weights=None, config=config, speaker_context=True)  # float32
    history = {k: [float(v) for v in values] for k, values in history.items()}
    return transfer_weights(model, waveform_model), history


def train(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    classes: int = 4,
    config: ToneNetConfig | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int | Sequence[int] = 0,
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
    command: Sequence[str] = (),
    verbose: int = 2,
) -> dict:
    """Train ToneNet from scratch and write a preset folder.

    Args:
        manifests: manifest CSV(s) of the training corpus.
        output_dir: folder for the preset (`model.weights.h5`, `config.json`,
            `metadata.json`, `README.md`) and `report.json`.
        classes: 4 (tones 1-4) or 5 (with the neutral tone).
        config: the `ToneNetConfig` of the model (default
            `ToneNetConfig(classes=classes)`); its classes must be `classes`.
        epochs: overrides the recipe's (default: the recipe's).
        batch_size: overrides the recipe's (default: the recipe's).
        seed: seeds augmentation, shuffling and initialisation; several
            seeds train one network each (each with its own augmented
            versions), and the preset is their ensemble
            (`keras_tone.tonenet.ensemble`: one model, the front end
            computed once, the members' probabilities averaged).
        optimizer: a Keras optimizer of keras_tone's Keras (checked with
            `check_same_keras`); default Adam with a cosine schedule. A fresh
            copy (`from_config`) is used, so one instance can serve many runs.
        strategy: a `tf.distribute.Strategy` (e.g. `MirroredStrategy`).
        exclude_speakers: speakers to leave out of training.
        validation_manifests: manifests evaluated after training, alone and
            with the speaker context of each speaker's other clips, for the
            preset and for each member of an ensemble (their numbers go into
            the report and model card); they must hold other speakers than the
            training data for the numbers to mean anything.
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
        command: the command lines that ran this, for the report and the card.
        verbose: Keras `fit` verbosity.

    Returns:
        The report (also written to `output_dir/report.json`).
    """
    recipe = resolve_recipe(recipe, classes, epochs, batch_size, class_weighting)
    config, data = prepare(manifests, classes, config, optimizer, neutral_speakers, cache_dir)
    corpus = data.corpus
    output_dir = Path(output_dir)
    unknown = set(exclude_speakers) - set(corpus.speakers.tolist())
    if unknown:
        raise ValueError(
            f"exclude_speakers names speakers that are not in the corpus: {sorted(unknown)}; "
            f"the corpus has {corpus.speaker_names()}."
        )
    corpus = corpus.select(~np.isin(corpus.speakers, list(exclude_speakers)))
    if len(corpus) == 0:
        raise ValueError("No training clips are left after exclude_speakers.")
    seeds = [int(seed)] if isinstance(seed, (int, np.integer)) else [int(s) for s in seed]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seed must be one seed or distinct seeds. Received: seed={seed!r}")
    started = time.perf_counter()
    members, member_reports = [], []
    for member_seed in seeds:
        member_start = time.perf_counter()
        features = make_features(corpus, recipe, config, seed=member_seed, progress=verbose > 0)
        fit_options = (config, recipe, member_seed, optimizer, strategy, verbose)
        model, history = fit(features, corpus.labels, corpus.speakers, *fit_options)
        members.append(model)
        member_reports.append(
            {
                "seed": member_seed,
                "train_seconds": round(time.perf_counter() - member_start, 1),
                "final_train_accuracy": history.get("accuracy", [None])[-1],
                "history": history,
            }
        )
    model = members[0] if len(members) == 1 else ensemble(members, speaker_context=True)
    config = front_end_of(model).config
    report: dict[str, Any] = {
        "kind": "train",
        "classes": classes,
        "class_names": list(config.class_names),
        "manifests": as_list(manifests),
        "speakers": corpus.speaker_names(),
        "clips": int(len(corpus)),
        "clips_per_class": np.bincount(corpus.labels, minlength=classes).tolist(),
        "clips_per_speaker": {s: int((corpus.speakers == s).sum()) for s in corpus.speaker_names()},
        "unreadable": [{"path": path, "reason": reason} for path, reason in corpus.unreadable],
        "seeds": seeds,
        "neutral_speakers": None if neutral_speakers is None else list(neutral_speakers),
        "command": list(command),
        "recipe": asdict(recipe),
        "optimizer": None if optimizer is None else type(optimizer).__name__,
        "strategy": None if strategy is None else type(strategy).__name__,
        "parameters": int(model.count_params()),
        "train_seconds": round(time.perf_counter() - started, 1),
        "members": member_reports,
    }
    if validation_manifests is not None:
        report["validation_manifests"] = as_list(validation_manifests)
        report["validation"] = validation_report(model, validation_manifests, cache_dir)
        if len(members) > 1:
            for member, member_report in zip(members, member_reports, strict=True):
                member_report["validation"] = validation_report(
                    member, validation_manifests, cache_dir
                )
        overlap = set(report["speakers"]) & set(report["validation"]["alone"]["per_speaker"])
        if overlap:
            logger.warning(
                "Validation speakers %s are also training speakers: their numbers are "
                "not speaker-independent.",
                sorted(overlap),
            )
    if loso_report is not None:
        report["loso"] = loso_report
    card = model_card(
        report,
        name=name or output_dir.name,
        config=config,
        data_licences=data_licences,
        notes=card_notes,
    )
    one_input = transfer_weights(model, ToneNet(weights=None, config=config))
    save_preset(one_input, output_dir, config=config, card=card)
    (output_dir / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


def validation_report(model: keras.Model, manifests: Any, cache_dir: Any = None) -> dict:
    """`{"alone": report, "context": report}`: `evaluate` without and with speaker context.

    Args:
        model: a waveform ToneNet with the `"speaker_context"` input.
        manifests: manifests of voices the model was not trained on.
        cache_dir: decoded-audio cache (`keras_tone.datasets.load_corpus`).
    """
    return {
        mode: evaluate(model, manifests, cache_dir=cache_dir, speaker_context=mode == "context")
        for mode in ("alone", "context")
    }


def validate_preset(preset_dir: str | os.PathLike, manifests: Sequence[str]) -> dict:
    """A preset folder's `validation_report` on `manifests`, as `train` puts it in the report.

    Returns:
        `{"validation_manifests": [...], "validation": validation_report(...)}`.
    """
    model = load_model(str(preset_dir), speaker_context=True)
    return {
        "validation_manifests": list(manifests),
        "validation": validation_report(model, manifests),
    }


@dataclass(frozen=True)
class TrainingData:
    """The clips a run trains (and cross-validation tests) on.

    Attributes:
        corpus: every clip: the syllables of syllable manifests, then the
            syllables cut from the recordings of word manifests.
        word: int `[clips]`: the index of a clip's word in `words.words`, -1
            for a syllable recorded alone.
        words: the word recordings (`keras_tone.words.load_word_corpus`), or
            `None` without word manifests.
    """

    corpus: Any
    word: np.ndarray
    words: Any = None


def prepare(
    manifests: Any,
    classes: int,
    config: ToneNetConfig | None,
    optimizer: Any,
    neutral_speakers: Sequence[str] | None,
    cache_dir: Any,
) -> tuple[ToneNetConfig, TrainingData]:
    """What `train` and `cross_validate` start from: the config and the training data.

    Syllable manifests (`keras_tone.datasets`) and word manifests
    (`keras_tone.words`, cut into syllables labelled with their surface
    tones) can be mixed. With 4 classes, the neutral-tone syllables of words
    are left out (those of syllable manifests are never loaded).
    """
    from keras_tone.datasets import load_corpus
    from keras_tone.words import is_word_manifest, load_word_corpus

    if optimizer is not None:
        check_same_keras(optimizer, "optimizer")
    config = ToneNetConfig(classes=classes) if config is None else config
    if config.classes != classes:
        raise ValueError(
            f"config has {config.classes} classes, but classes={classes} was asked for. "
            f"Received: config.classes={config.classes}"
        )
    paths = as_list(manifests)
    word_manifests = [path for path in paths if is_word_manifest(path)]
    syllable_manifests = [path for path in paths if path not in word_manifests]
    options = {"sample_rate": config.sample_rate, "cache_dir": cache_dir}
    corpus = None
    if syllable_manifests:
        corpus = load_corpus(syllable_manifests, classes=classes, **options)
        corpus = _keep_neutral_of(corpus, neutral_speakers)
    word = np.full(0 if corpus is None else len(corpus), -1, np.int64)
    words = None
    if word_manifests:
        words = load_word_corpus(word_manifests, **options)
        keep = words.syllables.tones <= classes
        syllables = words.syllables.select(keep)
        syllables = replace(syllables, classes=classes)
        corpus = syllables if corpus is None else corpus.concatenate(syllables)
        word = np.concatenate([word, words.word[keep]])
    return config, TrainingData(corpus, word, words)


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


__all__ = ["TrainingData", "fit", "prepare", "train"]
