"""Evaluation: accuracy, per-tone precision and recall, confusion matrices.

`evaluate(weights, manifests)` scores a model on the labelled clips of corpus
manifests, per speaker, per sex and overall. Clips that cannot be decoded
are left out and listed in the report with the reason, so one broken file
does not stop an evaluation.

Word manifests (`path,hanzi,pinyin,surface,speaker,sex`, told apart by their
header) are scored syllable by syllable against their surface tones: each
recording is cut into the syllables of its pinyin, and each syllable is
classified with the other syllables of its word as its context
(`classify_syllables`), as `keras_tone.score` does for one word. The report
adds accuracy per position in the word, on the syllables whose surface tone
differs from the citation tone (tone sandhi), and on whole words
(`word_evaluation_report`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from keras_tone import labels
from keras_tone._keras import keras
from keras_tone.audio import pad_batch
from keras_tone.context import leave_one_out, pitch_histograms
from keras_tone.tonenet import WeightsHandle, load_model, model_sample_rate

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


def predict_corpus(
    model: keras.Model,
    corpus: Any,
    *,
    contexts: np.ndarray | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Class probabilities of every clip of a corpus, through the waveform model.

    Clips are batched by length, so little padding goes through the model.
    With `contexts` (`[clips, candidates]`), `model` takes the speaker
    context as its second input (`ToneNet(..., speaker_context=True)`).
    """
    return predict_clips(model, corpus.waveforms, contexts=contexts, batch_size=batch_size)


def predict_clips(
    model: keras.Model,
    waveforms: Sequence[np.ndarray],
    *,
    contexts: np.ndarray | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Class probabilities `[clips, classes]` of 1-D float32 waveforms at the model's rate.

    Clips are batched by length, so little padding goes through the model.
    With `contexts` (`[clips, candidates]`), `model` takes the speaker
    context as its second input.

    Example:
        >>> import numpy as np
        >>> from keras_tone import ToneNet
        >>> from keras_tone.evaluation import predict_clips
        >>> clips = [np.random.default_rng(n).normal(0, 0.1, n).astype("float32")
        ...          for n in (4000, 8000, 6000)]
        >>> predict_clips(ToneNet(weights=None), clips).shape
        (3, 4)
    """
    order = np.argsort([len(w) for w in waveforms], kind="stable")
    probs = np.zeros((len(waveforms), int(model.output_shape[-1])), np.float32)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        batch, _ = pad_batch([waveforms[i] for i in index])
        inputs = batch if contexts is None else [batch, contexts[index]]
        probs[index] = np.asarray(model(inputs, training=False))
    return probs


def classify_syllables(
    model: keras.Model,
    clips: Sequence[np.ndarray],
    groups: Sequence[Any] | np.ndarray,
    *,
    extra_context: np.ndarray | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Class probabilities of syllables, each with the other syllables of its group as context.

    The context of a syllable is the sum of the pitch histograms of the
    other syllables with the same group (`keras_tone.context.leave_one_out`):
    group by word, and the model hears where a syllable lies in the pitch
    range of its word; group by speaker, and of all the speaker's words.

    Args:
        model: a waveform ToneNet with the `"speaker_context"` input
            (`keras_tone.load_model(handle, speaker_context=True)`).
        clips: 1-D float32 syllable waveforms at the model's rate.
        groups: one label per clip (a word index, a speaker name).
        extra_context: added to every context: `[P]`, or `[clips, P]`
            (e.g. `keras_tone.speaker_context` of other recordings).
        batch_size: clips per forward pass.

    Returns:
        float32 `[clips, classes]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone import ToneNet
        >>> from keras_tone.evaluation import classify_syllables
        >>> clips = [np.random.default_rng(n).normal(0, 0.1, 4000).astype("float32")
        ...          for n in range(3)]
        >>> model = ToneNet(weights=None, speaker_context=True)
        >>> classify_syllables(model, clips, groups=[0, 0, 1]).shape
        (3, 4)
    """
    contexts = leave_one_out(pitch_histograms(clips, model=model, batch_size=batch_size), groups)
    if extra_context is not None:
        contexts = contexts + np.asarray(extra_context, np.float32)
    return predict_clips(model, clips, contexts=contexts, batch_size=batch_size)


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
    batch_size: int = 64,
    cache_dir: str | os.PathLike | None = None,
    speaker_context: bool = False,
    allow_outside_paths: bool = False,
) -> dict:
    """Accuracy, per-tone precision/recall and confusion matrix, per speaker and overall.

    Args:
        weights: anything `keras_tone.load_model` accepts: a preset name, an
            `hf://` handle, a preset folder, a `.weights.h5` file, or a
            waveform ToneNet `keras.Model`.
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
    if manifests_are_words(manifests):
        return _evaluate_words(
            load_model(weights, speaker_context=True),
            manifests,
            batch_size=batch_size,
            cache_dir=cache_dir,
            speaker_context=speaker_context,
            allow_outside_paths=allow_outside_paths,
        )
    model = load_model(weights, speaker_context=speaker_context)
    classes = int(model.output_shape[-1])
    corpus = load_corpus(
        manifests,
        classes=classes,
        sample_rate=model_sample_rate(model),
        cache_dir=cache_dir,
        progress=False,
        allow_outside_paths=allow_outside_paths,
    )
    reasons = _refusals(corpus.waveforms, corpus.sample_rate)
    refused = [{"path": str(corpus.paths[i]), "reason": reasons[i]} for i in sorted(reasons)]
    corpus = corpus.select(np.array([i not in reasons for i in range(len(corpus))], bool))
    _check_scorable(
        len(corpus),
        "clips",
        {
            "could not be read": corpus.unreadable,
            "got no tone": [(row["path"], row["reason"]) for row in refused],
        },
    )
    contexts = None
    if speaker_context:
        histograms = pitch_histograms(corpus.waveforms, model=model)
        contexts = leave_one_out(histograms, corpus.speakers)
    probs = predict_corpus(model, corpus, contexts=contexts, batch_size=batch_size)
    report = evaluation_report(corpus, probs.argmax(axis=1), classes)
    report["refused"] = refused
    report["speaker_context"] = speaker_context
    return report


def _refusals(waveforms: Sequence[np.ndarray], sample_rate: int) -> dict[int, str]:
    """`{index: reason}` of the clips that the gate gives no tone (`keras_tone.gate`)."""
    from keras_tone.gate import clip_refusals

    reasons = clip_refusals(waveforms, sample_rate)
    return {i: reason for i, reason in enumerate(reasons) if reason is not None}


def _word_refusals(corpus: WordCorpus, chunk: int = 256) -> dict[int, str]:
    """`{word index: reason}` of the recordings whose syllables, joined, the gate refuses."""
    clips = corpus.syllables.waveforms
    members = [np.flatnonzero(corpus.word == word) for word in range(len(corpus.words))]
    refused = {}
    for start in range(0, len(members), chunk):  # a chunk of words at a time: bounded memory
        joined = [np.concatenate([clips[i] for i in m]) for m in members[start : start + chunk]]
        for offset, reason in _refusals(joined, corpus.syllables.sample_rate).items():
            refused[start + offset] = reason
    return refused


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


def evaluation_report(corpus: Any, predicted: np.ndarray, classes: int) -> dict:
    """The report of `evaluate` for a corpus and the predicted class of each clip."""
    report: dict[str, Any] = {
        "kind": "evaluate",
        "classes": classes,
        "class_names": labels.class_names(classes),
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
    model: keras.Model,
    manifests: list[str],
    *,
    batch_size: int,
    cache_dir: str | os.PathLike | None,
    speaker_context: bool,
    allow_outside_paths: bool,
) -> dict:
    """`evaluate` on word manifests; a recording the gate refuses is left out."""
    from keras_tone.words import load_word_corpus

    corpus = load_word_corpus(
        manifests,
        sample_rate=model_sample_rate(model),
        cache_dir=cache_dir,
        progress=False,
        allow_outside_paths=allow_outside_paths,
    )
    refused = _word_refusals(corpus)
    refused_rows = [
        {"path": str(corpus.words[word].path), "reason": refused[word]} for word in sorted(refused)
    ]
    if refused:
        corpus = corpus.select(~np.isin(corpus.word, sorted(refused)))
    _check_scorable(
        len(corpus),
        "recordings",
        {
            "could not be read or cut": corpus.syllables.unreadable,
            "got no tone": [(row["path"], row["reason"]) for row in refused_rows],
        },
    )
    groups = corpus.syllables.speakers if speaker_context else corpus.word
    probs = classify_syllables(model, corpus.syllables.waveforms, groups, batch_size=batch_size)
    report = word_evaluation_report(corpus, probs.argmax(axis=1), int(model.output_shape[-1]))
    report["refused"] = refused_rows
    report["speaker_context"] = speaker_context
    return report


def word_evaluation_report(corpus: WordCorpus, predicted: np.ndarray, classes: int) -> dict:
    """The report of `evaluate` on word manifests, from the predicted class of each syllable.

    Args:
        corpus: the syllables and their words (`keras_tone.words.load_word_corpus`).
        predicted: the predicted class index of each syllable (tone - 1).
        classes: the model's classes; with 4, the syllables whose surface tone
            is neutral are not scored, nor the words that hold one.

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
    report = evaluation_report(syllables.select(scored), predicted[scored], classes)
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
    "classify_syllables",
    "evaluate",
    "evaluation_report",
    "manifests_are_words",
    "metrics",
    "metrics_from_confusion",
    "predict_clips",
    "predict_corpus",
    "sampled_contexts",
    "word_evaluation_report",
]
