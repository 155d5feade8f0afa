"""Evaluation: accuracy, per-tone precision and recall, confusion matrices.

`evaluate(weights, manifests)` scores a model on the labelled clips of corpus
manifests, per speaker, per sex and overall. Clips that cannot be decoded
are left out and listed in the report with the reason, so one broken file
does not stop an evaluation.

The clips run through `keras_tone.runner.Runner`, as in
`keras_tone.predict_files`: a clip gets the same probabilities from
`evaluate` as from `keras-tone predict`.

Word manifests (`path,hanzi,pinyin,surface,speaker,sex`, told apart by their
header) are scored syllable by syllable against their surface tones: each
recording is cut into the syllables of its pinyin, and each syllable is
classified with the other syllables of its word as its context
(`keras_tone.runner.Runner.classify(..., groups=word)`), as
`keras_tone.score` does for one word. The report adds accuracy per position
in the word, on the syllables whose surface tone differs from the citation
tone (tone sandhi), and on whole words (`word_evaluation_report`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from keras_tone import labels
from keras_tone._keras import keras
from keras_tone.gate import refusals
from keras_tone.runner import BATCH_SIZE, ClipFeatures, Runner, leave_one_out
from keras_tone.tonenet import WeightsHandle, load_model

if TYPE_CHECKING:
    from keras_tone.words import WordCorpus

#: The speaker contexts that cross-validation measures: clips of the speaker per context.
CONTEXT_SIZES: dict[str, int | None] = {"k1": 1, "k5": 5, "k20": 20, "all": None}


def metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> dict:
    """Accuracy, per-class precision and recall, and the confusion matrix.

    Returns:
        `{"clips", "accuracy", "precision", "recall", "confusion"}`; precision
        and recall per class, `None` where undefined; `confusion[i][j]` counts
        the clips of class `i` predicted as `j`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.evaluation import metrics
        >>> m = metrics(np.array([0, 1, 1]), np.array([0, 1, 0]), 4)
        >>> round(m["accuracy"], 3), m["recall"], m["confusion"].pop(1)
        (0.667, [1.0, 0.5, None, None], [1, 1, 0, 0])
    """
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    return metrics_from_confusion(confusion, classes)


def metrics_from_confusion(confusion: np.ndarray, classes: int) -> dict:
    """The metrics dict of `metrics` from a confusion matrix (rows: true class)."""
    confusion = np.asarray(confusion, np.int64).reshape(classes, classes)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    diagonal = np.diag(confusion)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, diagonal / np.maximum(support, 1), np.nan)
        precision = np.where(predicted > 0, diagonal / np.maximum(predicted, 1), np.nan)
    return {
        "clips": int(support.sum()),
        "accuracy": float(diagonal.sum() / max(int(support.sum()), 1)),
        "precision": [None if np.isnan(v) else float(v) for v in precision],
        "recall": [None if np.isnan(v) else float(v) for v in recall],
        "confusion": confusion.tolist(),
    }


def sampled_contexts(
    histograms: np.ndarray, speakers: np.ndarray, size: int | None, *, seed: int = 0
) -> np.ndarray:
    """For each clip, the speaker context of `size` random other clips of its speaker.

    `size=None` takes all the other clips (`keras_tone.context.leave_one_out`);
    a speaker with fewer other clips gives all it has.

    Example:
        >>> import numpy as np
        >>> from keras_tone.evaluation import sampled_contexts
        >>> h = np.eye(4, dtype="float32")
        >>> sampled_contexts(h, np.array(["a"] * 4), 2).sum(axis=1).tolist()
        [2.0, 2.0, 2.0, 2.0]
    """
    if size is None:
        return leave_one_out(histograms, speakers)
    rng = np.random.default_rng([seed, size])
    out = np.zeros_like(histograms)
    for speaker in np.unique(speakers):
        members = np.flatnonzero(speakers == speaker)
        for position, clip in enumerate(members):
            others = np.delete(members, position)
            chosen = rng.choice(others, size=min(size, others.size), replace=False)
            out[clip] = histograms[chosen].sum(axis=0)
    return out


def evaluate(
    weights: WeightsHandle | keras.Model,
    manifests: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    batch_size: int = BATCH_SIZE,
    cache_dir: str | os.PathLike | None = None,
    speaker_context: bool = False,
    allow_outside_paths: bool = False,
) -> dict:
    """Accuracy, per-tone precision/recall and confusion matrix, per speaker and overall.

    Args:
        weights: anything `keras_tone.load_model` accepts: a preset name, an
            `hf://` handle, a preset folder, a `.weights.h5` file; or a
            waveform ToneNet `keras.Model`, with or without the speaker
            context input (without `speaker_context`, a model with that input
            gets a context of zeros: the model alone).
        manifests: manifest CSV(s) of the clips to classify. A 4-class model
            is evaluated on tones 1-4 only; a 5-class model on all five.
        batch_size: clips per forward pass.
        cache_dir: decoded-audio cache (see `keras_tone.datasets.load_corpus`).
        speaker_context: give each clip the speaker context of the other
            clips of its speaker (the manifests' `speaker` column); the model
            must have been trained for it (every keras_tone 0.2 preset is).
        allow_outside_paths: accept audio paths outside each manifest's
            folder (`keras_tone.datasets.read_manifest`).

    Clips without enough voiced speech for a tone (`keras_tone.gate`:
    silence, noise, a test tone, a fragment) are not scored: they are listed
    in `"refused"` with the reason, apart from the clips that cannot be read.

    Word manifests (`keras_tone.words`; all the manifests must be of one
    kind) are scored per syllable against their `surface` tones. Each
    recording is cut into the syllables of its pinyin
    (`keras_tone.segmentation.segment`), and each syllable gets the other
    syllables of its word as its context (the model must take one:
    `speaker_context=True` is implied); with `speaker_context`, the
    syllables of the speaker's other words too. A 4-class model leaves the
    neutral-tone syllables unscored (they still serve as context).

    Returns:
        `{"kind": "evaluate", "classes", "class_names", "overall": metrics,
        "per_speaker": {speaker: metrics}, "per_sex": {sex: metrics},
        "unreadable": [{"path", "reason"}, ...], "refused": [{"path",
        "reason"}, ...]}`; each metrics dict is what `metrics` returns. The
        unreadable and refused clips are not scored. For word manifests, the
        metrics count syllables, and the report adds `"per_position"`,
        `"sandhi"`, `"words"` and `"neutral_not_scored"`
        (`word_evaluation_report`); a recording that cannot be decoded or cut
        into its syllables is listed in `"unreadable"`, one whose syllables
        together hold too little voiced speech in `"refused"`.

    Raises:
        ValueError: no clip of the manifests can be scored, or the manifests
            mix word and syllable manifests.
    """
    from keras_tone.datasets import load_corpus

    manifests = as_list(manifests)
    words = manifests_are_words(manifests)
    if isinstance(weights, keras.Model):
        model = weights
    else:
        model = load_model(weights, speaker_context=speaker_context or words)
    runner = Runner(model, batch_size=batch_size)
    if words:
        return _evaluate_words(
            runner,
            manifests,
            cache_dir=cache_dir,
            speaker_context=speaker_context,
            allow_outside_paths=allow_outside_paths,
        )
    classes = len(runner.class_names)
    corpus = load_corpus(
        manifests,
        classes=classes,
        sample_rate=runner.sample_rate,
        cache_dir=cache_dir,
        progress=False,
        allow_outside_paths=allow_outside_paths,
    )
    features, finite, voiced = _front_end(runner, corpus.waveforms)
    seconds = [clip.size / corpus.sample_rate for clip in corpus.waveforms]
    reasons = refusals(voiced, seconds)
    refused = [
        {"path": str(path), "reason": reason}
        for path, reason in zip(corpus.paths, reasons, strict=True)
        if reason is not None
    ]
    scored = np.array([reason is None for reason in reasons], bool)
    corpus, features = corpus.select(scored), features.select(scored[finite])
    _check_scorable(
        len(corpus),
        "clips",
        {
            "could not be read": corpus.unreadable,
            "got no tone": [(row["path"], row["reason"]) for row in refused],
        },
    )
    probs = runner.classify(features, groups=corpus.speakers if speaker_context else None)
    report = evaluation_report(corpus, probs.argmax(axis=1), classes, names=runner.class_names)
    report["refused"] = refused
    report["speaker_context"] = speaker_context
    return report


def _front_end(
    runner: Runner, clips: Sequence[np.ndarray]
) -> tuple[ClipFeatures, np.ndarray, np.ndarray]:
    """`(features, finite, voiced seconds)`: the runner's front-end pass over the finite clips.

    `features` are those of the clips without NaN or Inf samples (`finite`
    marks them); `voiced seconds` are every clip's, NaN for the others, which
    the gate refuses (`keras_tone.gate.refusal`) instead of stopping the
    evaluation.
    """
    finite = np.array([bool(np.isfinite(clip).all()) for clip in clips], bool)
    features = runner.features([clip for clip, ok in zip(clips, finite, strict=True) if ok])
    voiced = np.full(len(clips), np.nan, np.float32)
    voiced[finite] = features.voiced_seconds
    return features, finite, voiced


def _word_refusals(corpus: WordCorpus, voiced_seconds: np.ndarray) -> dict[int, str]:
    """`{word index: reason}` of the recordings whose syllables hold too little voiced speech.

    A recording's voiced seconds and length are those of its syllables,
    summed (`voiced_seconds`: each syllable's, from the runner's pass).
    """
    syllables = corpus.syllables
    words = np.unique(corpus.word)
    lengths = np.array([clip.size for clip in syllables.waveforms], np.float64)
    voiced = np.bincount(corpus.word, weights=voiced_seconds, minlength=len(corpus.words))[words]
    seconds = np.bincount(corpus.word, weights=lengths, minlength=len(corpus.words))[words]
    reasons = refusals(voiced, seconds / syllables.sample_rate)
    return {int(w): reason for w, reason in zip(words, reasons, strict=True) if reason is not None}


def _check_scorable(scorable: int, what: str, left_out: dict[str, list[tuple[str, str]]]) -> None:
    """`ValueError` when nothing is left to score: how many were left out, why, and one example.

    `left_out` maps why (`"could not be read"`) to the `(path, reason)` of each row.
    """
    if scorable:
        return
    reasons = [
        f"{len(rows)} {why}: {os.path.basename(rows[0][0])}: {rows[0][1]}"
        + (f" and {len(rows) - 1} more" if len(rows) > 1 else "")
        for why, rows in left_out.items()
        if rows
    ]
    raise ValueError(
        f"The manifests hold no {what} that can be scored"
        + (f" ({'; '.join(reasons)})." if reasons else ".")
    )


def evaluation_report(
    corpus: Any, predicted: np.ndarray, classes: int, *, names: Sequence[str] | None = None
) -> dict:
    """The report of `evaluate` for a corpus and the predicted class of each clip.

    `names` are the model's class names (its config's); `None` for the
    defaults of `keras_tone.labels.class_names(classes)`.
    """
    report: dict[str, Any] = {
        "kind": "evaluate",
        "classes": classes,
        "class_names": labels.class_names(classes) if names is None else list(names),
        "overall": metrics(corpus.labels, predicted, classes),
        "per_speaker": {},
        "per_sex": {},
        "unreadable": [{"path": path, "reason": reason} for path, reason in corpus.unreadable],
    }
    for speaker in corpus.speaker_names():
        mask = corpus.speakers == speaker
        report["per_speaker"][speaker] = metrics(corpus.labels[mask], predicted[mask], classes)
    for sex in sorted(set(corpus.sexes.tolist())):
        mask = corpus.sexes == sex
        report["per_sex"][sex] = metrics(corpus.labels[mask], predicted[mask], classes)
    return report


def manifests_are_words(manifests: str | os.PathLike | Iterable[str | os.PathLike]) -> bool:
    """Whether the manifests are word manifests (by their header; `keras_tone.words`).

    Raises:
        FileNotFoundError: a manifest is missing.
        ValueError: some are word manifests and some are not, or there are none.
    """
    from keras_tone.words import is_word_manifest

    paths = as_list(manifests)
    kinds = {path: is_word_manifest(path) for path in paths}
    if not kinds:
        raise ValueError("Received no manifests.")
    if len(set(kinds.values())) > 1:
        words = [path for path, is_words in kinds.items() if is_words]
        raise ValueError(
            "The manifests mix word manifests (path,hanzi,pinyin,surface,speaker,sex: "
            f"{', '.join(words)}) with syllable manifests; evaluate them separately."
        )
    return next(iter(kinds.values()))


def _evaluate_words(
    runner: Runner,
    manifests: list[str],
    *,
    cache_dir: str | os.PathLike | None,
    speaker_context: bool,
    allow_outside_paths: bool,
) -> dict:
    """`evaluate` on word manifests; a recording the gate refuses is left out."""
    from keras_tone.words import load_word_corpus

    corpus = load_word_corpus(
        manifests,
        sample_rate=runner.sample_rate,
        cache_dir=cache_dir,
        progress=False,
        allow_outside_paths=allow_outside_paths,
    )
    features, finite, voiced = _front_end(runner, corpus.syllables.waveforms)
    refused = _word_refusals(corpus, voiced)
    refused_rows = [
        {"path": str(corpus.words[word].path), "reason": refused[word]} for word in sorted(refused)
    ]
    if refused:  # a word with a syllable that is not finite is refused: it is not in `features`
        scored = ~np.isin(corpus.word, sorted(refused))
        corpus, features = corpus.select(scored), features.select(scored[finite])
    _check_scorable(
        len(corpus),
        "recordings",
        {
            "could not be read or cut": corpus.syllables.unreadable,
            "got no tone": [(row["path"], row["reason"]) for row in refused_rows],
        },
    )
    groups = corpus.syllables.speakers if speaker_context else corpus.word
    probs = runner.classify(features, groups=groups)
    report = word_evaluation_report(
        corpus, probs.argmax(axis=1), len(runner.class_names), names=runner.class_names
    )
    report["refused"] = refused_rows
    report["speaker_context"] = speaker_context
    return report


def word_evaluation_report(
    corpus: WordCorpus,
    predicted: np.ndarray,
    classes: int,
    *,
    names: Sequence[str] | None = None,
) -> dict:
    """The report of `evaluate` on word manifests, from the predicted class of each syllable.

    Args:
        corpus: the syllables and their words (`keras_tone.words.load_word_corpus`).
        predicted: the predicted class index of each syllable (tone - 1).
        classes: the model's classes; with 4, the syllables whose surface tone
            is neutral are not scored, nor the words that hold one.
        names: the model's class names, as in `evaluation_report`.

    Returns:
        `evaluation_report` of the scored syllables (labels: the surface
        tones), plus `"per_position"` (`{"1": metrics, "2": ...}`, position
        in the word), `"sandhi"` (`{"all": metrics, "3->2": metrics, ...}`
        over the syllables whose surface tone differs from the citation
        tone, all of them and per change; `{}` if there are none),
        `"words"` (`{"words", "correct", "accuracy", "per_length":
        {"2": {...}}, "per_speaker": {...}}`: a word is correct when every
        syllable is) and `"neutral_not_scored"` (syllables, and words
        holding one, left out by a 4-class model).

    Example:
        >>> import numpy as np
        >>> from keras_tone.evaluation import word_evaluation_report
        >>> from keras_tone.words import load_word_corpus
        >>> corpus = load_word_corpus("words/manifest.csv")  # doctest: +SKIP
        >>> report = word_evaluation_report(corpus, corpus.syllables.labels, 5)  # doctest: +SKIP
        >>> sorted(report["sandhi"])  # doctest: +SKIP
        ['1->2', '1->4', '3->2', '4->2', 'all']
    """
    syllables = corpus.syllables
    predicted = np.asarray(predicted)
    scored = syllables.tones <= classes
    report = evaluation_report(syllables.select(scored), predicted[scored], classes, names=names)
    labels = syllables.labels

    def group_metrics(mask: np.ndarray) -> dict:
        return metrics(labels[mask & scored], predicted[mask & scored], classes)

    report["per_position"] = {
        str(position): group_metrics(corpus.position == position)
        for position in np.unique(corpus.position).tolist()
    }
    changed = (corpus.citation != syllables.tones) & scored
    report["sandhi"] = {}
    if changed.any():
        report["sandhi"]["all"] = group_metrics(changed)
        changes = np.stack([corpus.citation[changed], syllables.tones[changed]], axis=1)
        for citation, surface in np.unique(changes, axis=0).tolist():
            mask = changed & (corpus.citation == citation) & (syllables.tones == surface)
            report["sandhi"][f"{citation}->{surface}"] = group_metrics(mask)

    count = len(corpus.words)
    wrong = np.bincount(corpus.word, weights=scored & (predicted != labels), minlength=count) > 0
    judged = np.bincount(corpus.word, weights=~scored, minlength=count) == 0
    lengths = np.array([len(row) for row in corpus.words])
    speakers = np.array([row.speaker for row in corpus.words])

    def word_counts(mask: np.ndarray) -> dict:
        words, correct = int((mask & judged).sum()), int((mask & judged & ~wrong).sum())
        return {"words": words, "correct": correct, "accuracy": correct / max(words, 1)}

    everything = np.ones(count, bool)
    report["words"] = {
        **word_counts(everything),
        "per_length": {str(n): word_counts(lengths == n) for n in np.unique(lengths).tolist()},
        "per_speaker": {s: word_counts(speakers == s) for s in dict.fromkeys(speakers.tolist())},
    }
    report["neutral_not_scored"] = {
        "syllables": int((~scored).sum()),
        "words": int((~judged).sum()),
    }
    return report


def as_list(manifests: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """One manifest or several, as a list of paths."""
    if isinstance(manifests, (str, os.PathLike)):
        return [os.fspath(manifests)]
    return [os.fspath(m) for m in manifests]


__all__ = [
    "CONTEXT_SIZES",
    "evaluate",
    "evaluation_report",
    "manifests_are_words",
    "metrics",
    "metrics_from_confusion",
    "sampled_contexts",
    "word_evaluation_report",
]
