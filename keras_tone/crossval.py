"""Leave-one-speaker-out cross-validation: accuracy on voices the model never heard.

`cross_validate(manifests, output_dir, seeds=...)` trains one model per
held-out speaker and seed (`keras_tone.training.fit`) and measures it on the
held-out speaker, alone and with speaker context; `summarize_folds` gives the
mean and range over seeds, per speaker and per sex. `keras-tone train --loso`
runs it from the command line, and a preset's model card shows its report.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone._keras import keras
from keras_tone.cards import REPORT_NAME
from keras_tone.config import ToneNetConfig
from keras_tone.evaluation import (
    CONTEXT_SIZES,
    as_list,
    evaluation_report,
    metrics,
    sampled_contexts,
    word_evaluation_report,
)
from keras_tone.features import make_features
from keras_tone.recipe import Recipe, resolve_recipe
from keras_tone.runner import Runner
from keras_tone.tonenet import ToneNet, transfer_weights
from keras_tone.training import fit, prepare
from keras_tone.weights import save_preset

logger = logging.getLogger(__name__)


def cross_validate(
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    classes: int = 4,
    config: ToneNetConfig | None = None,
    speakers: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    epochs: int | None = None,
    batch_size: int | None = None,
    recipe: Recipe | None = None,
    optimizer: Any = None,
    strategy: Any = None,
    cache_dir: str | os.PathLike | None = None,
    compare_classes: int | None = None,
    neutral_speakers: Sequence[str] | None = None,
    exclude_speakers: Sequence[str] = (),
    class_weighting: str | None = None,
    command: Sequence[str] = (),
    verbose: int = 2,
) -> dict:
    """Leave-one-speaker-out: for each speaker, train on the others, test on it; per seed.

    For each seed, augmented features are computed once for the whole corpus
    and each fold takes its training speakers' rows, so the folds differ only
    in which speaker is held out. Each fold's waveform model is written to
    `output_dir/seed-<seed>/fold-<speaker>/` and measured on the held-out
    speaker's raw clips: alone (`overall`), and with a speaker context of 1, 5
    and 20 random other clips of that speaker and of all of them
    (`speaker_context`, keyed `k1`, `k5`, `k20`, `all`). A speaker with word
    recordings (word manifests among `manifests`) is measured on their
    syllables instead, as `keras_tone.evaluation.evaluate` scores word
    manifests: each syllable with the other syllables of its word as context
    (`overall`), and with all the speaker's other words too
    (`speaker_context["all"]`); the report adds the per-position, sandhi and
    whole-word figures.

    Args:
        manifests: manifest CSV(s) of all speakers: syllable manifests, word
            manifests, or both.
        output_dir: folder of the per-fold presets and `report.json`.
        classes: 4 or 5.
        config: as in `train`.
        speakers: the speakers to hold out (default: every speaker); the
            others are always trained on (list a synthetic voice among the
            manifests but not here to train on it without testing on it).
        seeds: one run of every fold per seed; the report gives each fold's
            mean and range over them.
        epochs: overrides the recipe's (default: the recipe's).
        batch_size: overrides the recipe's (default: the recipe's).
        recipe: as in `train`.
        optimizer: as in `train`.
        strategy: as in `train`.
        cache_dir: decoded-audio cache.
        compare_classes: with `classes=5`, also report accuracy on tones 1-4
            only (`4`), for comparison with a 4-class model.
        neutral_speakers: as in `train`.
        exclude_speakers: speakers left out of every fold's training (e.g. to
            measure what a corpus brings); they cannot be held out.
        class_weighting: as in `train`.
        command: as in `train`.
        verbose: Keras `fit` verbosity.

    Returns:
        `{"kind": "cross_validate", "seeds", "folds": {speaker: {seed: fold
        report}}, "summary": {speaker: {mode: {"mean", "min", "max"}}},
        "per_sex": {sex: {mode: {"mean", "min", "max"}}}, ...}`, also written
        to `output_dir/report.json`. A fold report is an `evaluate` report of
        the held-out speaker plus `speaker_context` metrics per context size.
    """
    recipe = resolve_recipe(recipe, classes, epochs, batch_size, class_weighting)
    config, data = prepare(manifests, classes, config, optimizer, neutral_speakers, cache_dir)
    corpus = data.corpus
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    all_speakers = corpus.speaker_names()
    held_out = list(speakers) if speakers is not None else all_speakers
    for name, names in (("speakers", held_out), ("exclude_speakers", exclude_speakers)):
        unknown = set(names) - set(all_speakers)
        if unknown:
            raise ValueError(
                f"{name} names speakers that are not in the corpus: {sorted(unknown)}; "
                f"the corpus has {all_speakers}."
            )
    if set(held_out) & set(exclude_speakers):
        raise ValueError(
            "A speaker cannot be both held out and excluded from training. "
            f"Received: exclude_speakers={sorted(set(held_out) & set(exclude_speakers))}"
        )
    started = time.perf_counter()
    report: dict[str, Any] = {
        "kind": "cross_validate",
        "classes": classes,
        "class_names": list(config.class_names),
        "manifests": as_list(manifests),
        "speakers": all_speakers,
        "held_out": held_out,
        "exclude_speakers": list(exclude_speakers),
        "sexes": {s: str(corpus.sexes[corpus.speakers == s][0]) for s in held_out},
        "unreadable": [{"path": path, "reason": reason} for path, reason in corpus.unreadable],
        "recipe": asdict(recipe),
        "seeds": [int(seed) for seed in seeds],
        "neutral_speakers": None if neutral_speakers is None else list(neutral_speakers),
        "command": list(command),
        "folds": {speaker: {} for speaker in held_out},
    }
    trainable = ~np.isin(corpus.speakers, list(exclude_speakers))
    for seed in seeds:
        features = make_features(corpus, recipe, config, seed=seed, progress=verbose > 0)
        fit_options = (config, recipe, seed, optimizer, strategy, verbose)
        for speaker in held_out:
            fold_start = time.perf_counter()
            train_mask = trainable & (corpus.speakers != speaker)
            model, history = fit(
                features.select(train_mask),
                corpus.labels[train_mask],
                corpus.speakers[train_mask],
                *fit_options,
            )
            held = corpus.speakers == speaker
            if data.words is not None and np.any(held & (data.word >= 0)):
                fold = _word_fold_report(model, data.words, speaker, config)
            else:
                test = corpus.select(held)
                fold = _fold_report(model, test, config, seed, compare_classes)
            fold["train_seconds"] = round(time.perf_counter() - fold_start, 1)
            fold["final_train_accuracy"] = history["accuracy"][-1]
            report["folds"][speaker][str(seed)] = fold
            save_preset(
                transfer_weights(model, ToneNet(weights=None, config=config)),
                output_dir / f"seed-{seed}" / f"fold-{speaker}",
                config=config,
                card=f"# ToneNet LOSO fold: held out {speaker}, seed {seed}\n\nNot for release.\n",
            )
            logger.info(
                "seed %d, held out %s: accuracy %.4f alone, %.4f with the speaker's other clips",
                seed,
                speaker,
                fold["overall"]["accuracy"],
                fold["speaker_context"]["all"]["accuracy"],
            )
            report.update(summarize_folds(report))
            (output_dir / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    report["seconds"] = round(time.perf_counter() - started, 1)
    (output_dir / REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


def _fold_report(
    model: keras.Model,
    test: Any,
    config: ToneNetConfig,
    seed: int,
    compare_classes: int | None,
) -> dict:
    """The held-out speaker's evaluation, alone and with each size of speaker context.

    One front-end pass over the clips (`Runner.features`), then the head
    alone and once per context size.
    """
    classes = config.classes
    runner = Runner(model)
    features = runner.features(test.waveforms)
    probs = runner.classify(features)
    fold = evaluation_report(test, probs.argmax(axis=1), classes, names=config.class_names)
    del fold["unreadable"]  # the corpus's, in the report itself
    fold["speaker_context"] = {}
    for mode, size in CONTEXT_SIZES.items():
        contexts = sampled_contexts(features.histograms, test.speakers, size, seed=seed)
        predicted = runner.classify(features, contexts).argmax(axis=1)
        fold["speaker_context"][mode] = metrics(test.labels, predicted, classes)
    if compare_classes is not None and compare_classes < classes:
        keep = test.labels < compare_classes
        restricted = probs[keep][:, :compare_classes].argmax(axis=1)
        fold[f"tones_1_{compare_classes}_only"] = metrics(
            test.labels[keep], restricted, compare_classes
        )
    return fold


def _word_fold_report(model: keras.Model, words: Any, speaker: str, config: ToneNetConfig) -> dict:
    """The held-out speaker's word syllables: with their word, then their speaker as context."""
    held = words.select(words.syllables.speakers == speaker)
    classes = config.classes
    runner = Runner(model)
    features = runner.features(held.syllables.waveforms)

    def predicted(groups: Any) -> np.ndarray:
        return runner.classify(features, groups=groups).argmax(axis=1)

    fold = word_evaluation_report(held, predicted(held.word), classes, names=config.class_names)
    del fold["unreadable"]
    by_speaker = word_evaluation_report(held, predicted(held.syllables.speakers), classes)
    fold["speaker_context"] = {"all": by_speaker["overall"]}
    return fold


def summarize_folds(report: dict) -> dict:
    """Mean, min and max over seeds of each fold's accuracy, per mode; and per sex.

    The modes are `alone` and the speaker-context sizes (`CONTEXT_SIZES`).
    Per sex, the mean of the held-out speakers of that sex is taken per seed,
    then summarised over seeds.

    Returns:
        `{"summary": {speaker: {mode: stats}}, "per_sex": {sex: {mode: stats}}}`.
    """
    modes = ["alone", *CONTEXT_SIZES]

    def accuracy(fold: dict, mode: str) -> float:
        metrics_ = fold["overall"] if mode == "alone" else fold["speaker_context"][mode]
        return metrics_["accuracy"]

    def stats(values: list[float]) -> dict:
        return {
            "mean": float(np.mean(values)),
            "min": float(min(values)),
            "max": float(max(values)),
        }

    def measured(runs: dict, mode: str) -> bool:
        return mode == "alone" or all(mode in fold["speaker_context"] for fold in runs.values())

    summary = {
        speaker: {
            mode: stats([accuracy(f, mode) for f in runs.values()])
            for mode in modes
            if measured(runs, mode)
        }
        for speaker, runs in report["folds"].items()
        if runs
    }
    per_sex: dict[str, dict] = {}
    for sex in sorted(set(report["sexes"].values())):
        members = [s for s, x in report["sexes"].items() if x == sex and report["folds"][s]]
        seeds = set.intersection(*(set(report["folds"][s]) for s in members)) if members else set()
        if seeds:
            per_sex[sex] = {
                mode: stats(
                    [
                        float(np.mean([accuracy(report["folds"][s][seed], mode) for s in members]))
                        for seed in sorted(seeds)
                    ]
                )
                for mode in modes
                if all(measured(report["folds"][s], mode) for s in members)
            }
    return {"summary": summary, "per_sex": per_sex}


def merge_reports(reports: Sequence[dict]) -> dict:
    """One cross-validation report from several runs of the same recipe and data.

    Runs with other seeds (or other held-out speakers) of one design are
    joined, e.g. `--seed 0` and a later `--seed 1 2`: folds and seeds are
    united, the commands listed in order, and the summaries recomputed.

    Args:
        reports: `cross_validate` reports.

    Returns:
        The joined report (a single report as it is).

    Raises:
        ValueError: the runs differ in data, classes or recipe, or two of
            them hold the same fold with the same seed.

    Example:
        >>> from keras_tone.crossval import merge_reports
        >>> merge_reports([report_seed_0, report_seeds_1_2])  # doctest: +SKIP
    """
    if not reports:
        raise ValueError("merge_reports needs at least one report. Received: reports=[]")
    if len(reports) == 1:
        return reports[0]
    same = ("kind", "classes", "manifests", "exclude_speakers", "recipe", "neutral_speakers")
    first = reports[0]
    for other in reports[1:]:
        differ = [key for key in same if other.get(key) != first.get(key)]
        if differ:
            raise ValueError(
                "Only runs of one design can be joined: these reports differ in "
                f"{', '.join(differ)}. Received: commands={[r.get('command') for r in reports]}"
            )
    merged = {key: value for key, value in first.items() if key not in ("summary", "per_sex")}
    merged["held_out"] = list(dict.fromkeys(s for r in reports for s in r["held_out"]))
    merged["sexes"] = {s: x for r in reports for s, x in r["sexes"].items()}
    merged["seeds"] = sorted({seed for r in reports for seed in r["seeds"]})
    merged["command"] = [command for r in reports for command in r.get("command", [])]
    merged["folds"] = {speaker: {} for speaker in merged["held_out"]}
    for report in reports:
        for speaker, runs in report["folds"].items():
            for seed, fold in runs.items():
                if seed in merged["folds"][speaker]:
                    raise ValueError(
                        f"Two reports hold the fold of {speaker} with seed {seed}. "
                        f"Received: commands={[r.get('command') for r in reports]}"
                    )
                merged["folds"][speaker][seed] = fold
    merged.update(summarize_folds(merged))
    return merged


__all__ = ["cross_validate", "merge_reports", "summarize_folds"]
