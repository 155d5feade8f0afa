"""The runner: how keras_tone runs a waveform ToneNet over clips, in one batch loop.

`Runner(model)` is the one place where clips are sorted by length into
batches, zero-padded and run through the model: `keras_tone.predict_files`
(`keras-tone predict`), `keras_tone.evaluation.evaluate`, `keras_tone.score`,
the speaker context (`keras_tone.context`), the cross-validation folds and
the training features (`keras_tone.features.make_features`) all use it,
so a clip gets the same probabilities whichever of them runs it. It runs
two compiled functions that share the model's layers:

* the **front end** (`Runner.features`): ToneNet's `FrontEnd` gives each
  clip's log-mel and pitch images, and from the same pass its pitch
  histogram (`heard_histograms`: what a speaker context is made of) and its
  seconds of voiced speech (`keras_tone.layers.VoicedSpeech`), from which
  the gate (`keras_tone.gate.refusals`) decides whether it gets a tone;
* the **head** (`Runner.classify`): the rest of the model, from the images
  (and a speaker context) to the class probabilities.

`Runner.predict` chains them batch by batch; with `groups=` it first passes
every clip through the front end, gives each clip the summed histograms of
the other clips of its group (`leave_one_out`) and then runs the head, so a
speaker context costs no second pass over the waveforms.

Digital silence is cut from each clip before it is batched (`Runner.trim`):
zeros added after a clip leave ToneNet's output unchanged once the clip
ends with `(taps - 1) / 2 + frame_length` zeros (the high-pass's reach and
one silence-detection frame), so every clip is given at least that many;
and a leading cut is a multiple of the front end's hops that keeps the
high-pass's reach of zeros, so the silence detection sees the same frames,
shifted.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_tone._keras import keras
from keras_tone.config import ToneNetConfig

#: The name of ToneNet's second input (`ToneNet(speaker_context=True)`).
CONTEXT_INPUT = "speaker_context"

#: Clips per compiled call, unless the caller says otherwise.
BATCH_SIZE = 64


@dataclass(frozen=True)
class ClipFeatures:
    """What the front end makes of each clip (`Runner.features`).

    Attributes:
        log_mel: float32 `[clips, frames, n_mels]`, the log-mel images.
        salience: float32 `[clips, frames, candidates]`, the pitch salience images.
        histograms: float32 `[clips, candidates]`, each clip's pitch histogram
            (sums to 1, or 0 for a clip without a voiced frame); summed over
            other clips of a speaker they are that speaker's context.
        voiced_seconds: float32 `[clips]`, voiced speech in each clip
            (`keras_tone.layers.VoicedSpeech`).
    """

    log_mel: np.ndarray
    salience: np.ndarray
    histograms: np.ndarray
    voiced_seconds: np.ndarray

    def __len__(self) -> int:
        return len(self.histograms)

    def select(self, rows: np.ndarray) -> ClipFeatures:
        """The features of the clips that `rows` picks (a boolean mask or indices)."""
        return ClipFeatures(*(array[rows] for array in _fields(self)))


@dataclass(frozen=True)
class Predictions:
    """What `Runner.predict` gives for each clip.

    Attributes:
        probabilities: float32 `[clips, classes]`.
        histograms: float32 `[clips, candidates]`, as in `ClipFeatures`.
        voiced_seconds: float32 `[clips]`, as in `ClipFeatures`.
    """

    probabilities: np.ndarray
    histograms: np.ndarray
    voiced_seconds: np.ndarray


class Runner:
    """Runs a waveform ToneNet over clips: sort by length, pad, one compiled call per batch.

    The one batch loop of keras_tone (see the module docstring): the front end
    and the head of `model` each run as one compiled `tf.function`, traced
    once per model and kept while the model lives; they share the model's
    layers, so a model trained further is run with its new weights.

    Args:
        model: a waveform ToneNet (`include_preprocessing=True`, with its
            classifier), with or without the `"speaker_context"` input; or a
            `ToneNetConfig`, for a runner of the front end alone
            (`features` only).
        batch_size: clips per compiled call.
        voicing: measure each clip's voiced seconds (`VoicedSpeech`, about
            as much work as the rest of the front end); with `False` they
            are NaN. Training features, which need no gate, leave it out.

    Raises:
        ValueError: `model` is not a waveform ToneNet with its classifier, or
            `batch_size < 1`.

    Example:
        >>> import numpy as np
        >>> import keras_tone
        >>> from keras_tone.runner import Runner
        >>> runner = Runner(keras_tone.ToneNet(weights=None, speaker_context=True))
        >>> t = np.arange(8000) / 16000
        >>> clips = [sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 9)) / 4
        ...          for f0 in (180, 200, 240)]
        >>> out = runner.predict(clips, groups=["me", "me", "me"])  # speaker context
        >>> out.probabilities.shape, out.histograms.shape, out.voiced_seconds.shape
        ((3, 4), (3, 87), (3,))
    """

    def __init__(self, model: Any, *, batch_size: int = BATCH_SIZE, voicing: bool = True) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(
                f"batch_size must be a positive integer. Received: batch_size={batch_size!r}"
            )
        front_end_only = isinstance(model, ToneNetConfig)
        if not (voicing or front_end_only):
            raise ValueError(
                "voicing=False is for a runner of the front end alone (a ToneNetConfig): "
                "a model's runner feeds the gate. Received: voicing=False"
            )
        self.graph = _front_graph(model, voicing) if front_end_only else _model_graph(model)
        self.batch_size = batch_size
        self.config: ToneNetConfig = self.graph.config
        self.sample_rate = self.config.sample_rate
        self.context_size: int | None = self.graph.context_size

    @property
    def class_names(self) -> tuple[str, ...]:
        """The names of the model's classes (its config's)."""
        return tuple(self.config.class_names)

    def features(self, clips: Sequence[np.ndarray]) -> ClipFeatures:
        """The front end's images, pitch histogram and voiced seconds of each clip.

        Args:
            clips: mono waveforms at `self.sample_rate` (float, or integer PCM;
                `keras_tone.audio.to_mono_float` rules).

        Raises:
            ValueError: a clip is empty, not mono, or has NaN/Inf samples.
        """
        prepared = self._prepare(clips)
        frames, n_mels = self.config.feature_shape()
        candidates = self.config.pitch_shape()[1]
        n = len(prepared)
        out = ClipFeatures(
            log_mel=np.zeros((n, frames, n_mels), np.float32),
            salience=np.zeros((n, frames, candidates), np.float32),
            histograms=np.zeros((n, candidates), np.float32),
            voiced_seconds=np.zeros(n, np.float32),
        )
        for index, images in self._front_batches(prepared):
            for array, tensor in zip(_fields(out), images, strict=True):
                array[index] = tensor.numpy()
        return out

    def classify(
        self,
        features: ClipFeatures,
        contexts: np.ndarray | None = None,
        *,
        groups: Sequence[Any] | None = None,
    ) -> np.ndarray:
        """Class probabilities `[clips, classes]` from the front end's images.

        Args:
            features: what `features` returned (or `ClipFeatures.select` of it).
            contexts: `[clips, candidates]` or `[candidates]` (the same for
                every clip) speaker contexts, for a model with the
                `"speaker_context"` input; `None` for zeros, the model alone.
            groups: one label per clip (a speaker, a word): each clip gets the
                summed pitch histograms of the other clips of its group
                (`leave_one_out`) as its context, added to `contexts`.

        Raises:
            ValueError: contexts or groups of the wrong length, or for a model
                without the `"speaker_context"` input.
        """
        contexts = self._contexts(contexts, len(features))
        if groups is not None:
            self._check_groups(groups, len(features))
            heard = leave_one_out(features.histograms, groups)
            contexts = heard if contexts is None else heard + contexts
        probabilities = np.zeros((len(features), len(self.class_names)), np.float32)
        for start in range(0, len(features), self.batch_size):
            rows = slice(start, start + self.batch_size)
            images = (features.log_mel[rows], features.salience[rows])
            context = None if contexts is None else contexts[rows]
            probabilities[rows] = self._head(*images, context).numpy()
        return probabilities

    def predict(
        self,
        clips: Sequence[np.ndarray],
        *,
        contexts: np.ndarray | None = None,
        groups: Sequence[Any] | None = None,
    ) -> Predictions:
        """Class probabilities, pitch histograms and voiced seconds of each clip.

        Args:
            clips: mono waveforms at `self.sample_rate` (as in `features`).
            contexts: speaker contexts, `[clips, candidates]` or
                `[candidates]`, for a model with the `"speaker_context"` input
                (`None`: zeros, the model alone). With `groups`, added to the
                context that the group gives.
            groups: one label per clip (a speaker, a word): each clip gets the
                summed pitch histograms of the other clips of its group as its
                context (`leave_one_out`), from the same front-end pass: every
                clip goes through the front end before the first through the
                head (`features`, then `classify`).

        Raises:
            ValueError: bad clips; contexts or groups of the wrong length, or
                for a model without the `"speaker_context"` input.
        """
        if groups is not None:
            self._check_groups(groups, len(clips))
            features = self.features(clips)
            probabilities = self.classify(features, contexts, groups=groups)
            return Predictions(probabilities, features.histograms, features.voiced_seconds)
        contexts = self._contexts(contexts, len(clips))
        prepared = self._prepare(clips)
        n = len(prepared)
        out = Predictions(
            probabilities=np.zeros((n, len(self.class_names)), np.float32),
            histograms=np.zeros((n, self.config.pitch_shape()[1]), np.float32),
            voiced_seconds=np.zeros(n, np.float32),
        )
        for index, (log_mel, salience, histograms, voiced) in self._front_batches(prepared):
            context = None if contexts is None else contexts[index]
            out.probabilities[index] = self._head(log_mel, salience, context).numpy()
            out.histograms[index] = histograms.numpy()
            out.voiced_seconds[index] = voiced.numpy()
        return out

    def trim(self, waveform: np.ndarray) -> np.ndarray:
        """`waveform` without the digital silence that changes no output (see the module)."""
        trim = self.graph.trim
        return waveform if trim is None else trim(waveform)

    # -- the loop -------------------------------------------------------------

    def _prepare(self, clips: Sequence[np.ndarray]) -> list[np.ndarray]:
        from keras_tone.audio import to_mono_float

        return [self.trim(to_mono_float(clip, name=f"clip {i}")) for i, clip in enumerate(clips)]

    def _front_batches(self, clips: list[np.ndarray]) -> Iterator[tuple[np.ndarray, tuple]]:
        """`(rows, front-end outputs)` per batch of clips of similar length."""
        from keras_tone.audio import pad_batch

        order = np.argsort([clip.size for clip in clips], kind="stable")
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            batch, _ = pad_batch([clips[i] for i in index])
            yield index, self.graph.front(batch)

    def _head(self, log_mel: Any, salience: Any, context: np.ndarray | None) -> Any:
        if self.graph.head is None:
            raise ValueError(
                "This runner was made from a ToneNetConfig: it runs the front end alone "
                "(Runner.features). Make it from a model to classify. "
                f"Received: config with {self.config.classes} classes"
            )
        if self.context_size is None:
            return self.graph.head(log_mel, salience)
        if context is None:
            context = np.zeros((len(log_mel), self.context_size), np.float32)
        return self.graph.head(log_mel, salience, context)

    def _require_context(self) -> None:
        if self.context_size is None:
            raise ValueError(
                "A speaker context needs a model with the speaker_context input: build it "
                "with keras_tone.load_model(handle, speaker_context=True) or "
                "ToneNet(..., speaker_context=True). "
                f"Received: a model with inputs {self.graph.input_names}"
            )

    def _check_groups(self, groups: Sequence[Any], n: int) -> None:
        self._require_context()
        if len(groups) != n:
            raise ValueError(
                f"groups needs one label per clip. Received: {len(groups)} labels for {n} clips"
            )

    def _contexts(self, contexts: np.ndarray | None, n: int) -> np.ndarray | None:
        """`contexts` as `[n, context_size]` float32 (or None), checked."""
        if contexts is None:
            return None
        self._require_context()
        contexts = np.asarray(contexts, np.float32)
        if contexts.ndim == 1 and contexts.shape[0] in (1, self.context_size):
            contexts = np.broadcast_to(contexts, (n, self.context_size))
        if contexts.shape != (n, self.context_size):
            raise ValueError(
                f"contexts must be [{n}, {self.context_size}] (one per clip) or "
                f"[{self.context_size}]. Received: contexts.shape={contexts.shape}"
            )
        return contexts


def leave_one_out(histograms: np.ndarray, groups: Sequence[Any]) -> np.ndarray:
    """For each clip, the summed histograms of the other clips of its group: `[n, P]`.

    The speaker context of each clip when the groups are speakers
    (`Runner.predict(clips, groups=...)`); also `keras_tone.context.leave_one_out`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.context import leave_one_out
        >>> h = np.eye(3, dtype="float32")
        >>> leave_one_out(h, ["a", "a", "b"]).tolist()
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    groups = np.asarray(groups)
    out = np.zeros_like(histograms)
    for group in np.unique(groups):
        mask = groups == group
        out[mask] = histograms[mask].sum(axis=0, keepdims=True) - histograms[mask]
    return out


def heard_histograms(waveforms: Any, salience: Any, *, floor: float) -> Any:
    """The `PitchHistogram` of each clip's salience; zeros for a clip of digital silence.

    Digital silence has no voiced frame, but its salience (the spectrum's
    epsilon, normalised to a peak of 1) would vote: it adds nothing instead.
    Keras ops, so it serves in a functional model
    (`keras_tone.context.context_encoder`) and in the runner's compiled
    front end.

    Args:
        waveforms: `[batch, samples]`, the clips the salience was made of.
        salience: `[batch, frames, candidates]` (`keras_tone.layers.PitchSalience`).
        floor: as in `PitchHistogram`.

    Returns:
        `[batch, candidates]`.
    """
    from keras_tone.layers import PitchHistogram

    histogram = PitchHistogram(floor=floor, name="histogram")(salience)
    heard = keras.ops.max(keras.ops.abs(waveforms), axis=-1, keepdims=True) > 0.0
    return histogram * keras.ops.cast(heard, histogram.dtype)


def _fields(features: ClipFeatures) -> tuple[np.ndarray, ...]:
    return (features.log_mel, features.salience, features.histograms, features.voiced_seconds)


@dataclass(frozen=True)
class _Graph:
    """The compiled functions of one model (or front end), traced once and kept.

    `front(batch)` gives `(log_mel, salience, histograms, voiced seconds)`;
    `head(log_mel, salience[, context])` the probabilities. Neither holds a
    reference to the model itself, only to its layers, so that the model can
    be freed.
    """

    config: ToneNetConfig
    front: Callable[..., Any]
    head: Callable[..., Any] | None
    context_size: int | None
    input_names: tuple[str, ...]
    trim: _Trim | None


#: The graphs of each model, kept while the model lives (as Keras keeps
#: `model.predict_function`): tracing takes most of a second.
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _model_graph(model: Any) -> _Graph:
    if model in _GRAPHS:
        return _GRAPHS[model]
    import tensorflow as tf

    from keras_tone.frontend import front_end_of
    from keras_tone.layers import VoicedSpeech

    names = tuple(tensor.name.split(":")[0] for tensor in model.inputs)
    shapes = [tuple(tensor.shape) for tensor in model.inputs]
    context = names[1:] == (CONTEXT_INPUT,) and len(shapes[1]) == 2
    if len(shapes[0]) != 2 or not (len(names) == 1 or context):
        raise ValueError(
            "keras_tone runs models that take waveforms [batch, samples] (ToneNet with "
            "include_preprocessing=True), with or without the speaker_context input. "
            f"Received: model.input_shape={model.input_shape}"
        )
    front_end = front_end_of(model)
    if tuple(model.output_shape) != (None, front_end.config.classes):
        raise ValueError(
            f"keras_tone runs ToneNets with their classifier ({front_end.config.classes} "
            f"classes). Received: model.output_shape={model.output_shape}"
        )
    log_mel, salience = front_end.output
    # The head: the model from the front end's images on. Its waveform input
    # reaches only `PropagateNonFinite`; the runner checks clips at the door,
    # so it gets one zero per clip.
    head_model = keras.Model([model.inputs[0], log_mel, salience, *model.inputs[1:]], model.output)
    frames, n_mels = front_end.config.feature_shape()
    candidates = front_end.config.pitch_shape()[1]
    signature = [
        tf.TensorSpec([None, frames, n_mels], tf.float32),
        tf.TensorSpec([None, frames, candidates], tf.float32),
    ]
    if context:
        signature.append(tf.TensorSpec([None, candidates], tf.float32))

    def head(log_mel: Any, salience: Any, *context: Any) -> Any:
        finite = tf.zeros([tf.shape(log_mel)[0], 1], tf.float32)
        return head_model([finite, log_mel, salience, *context], training=False)

    voicing = VoicedSpeech(sample_rate=front_end.sample_rate)
    graph = _Graph(
        config=front_end.config,
        front=_front_function(front_end, voicing),
        head=tf.function(head, input_signature=signature),
        context_size=candidates if context else None,
        input_names=names,
        trim=_Trim.for_front_end(front_end, voicing),
    )
    _GRAPHS[model] = graph
    return graph


@functools.lru_cache(maxsize=4)
def _front_graph(config: ToneNetConfig, measure_voicing: bool) -> _Graph:
    from keras_tone.frontend import FrontEnd
    from keras_tone.layers import VoicedSpeech

    front_end = FrontEnd(config)
    voicing = VoicedSpeech(sample_rate=config.sample_rate) if measure_voicing else None
    return _Graph(config, _front_function(front_end, voicing), None, None, ("waveform",), None)


def _front_function(front_end: Any, voicing: Any) -> Callable[..., Any]:
    """`front(batch)`: images, histograms and voiced seconds, compiled."""
    import tensorflow as tf

    floor = front_end.config.front_end.pitch.floor

    def front(waveforms: Any) -> tuple[Any, ...]:
        log_mel, salience = front_end(waveforms)
        histograms = heard_histograms(waveforms, salience, floor=floor)
        if voicing is None:  # not measured
            return log_mel, salience, histograms, tf.fill([tf.shape(waveforms)[0]], np.nan)
        return log_mel, salience, histograms, voicing(waveforms)

    return tf.function(front, input_signature=[tf.TensorSpec([None, None], tf.float32)])


@dataclass(frozen=True)
class _Trim:
    """How much digital silence may be cut from a clip without changing any output.

    `step`: leading cuts are multiples of it (every hop of the front end and
    of the voicing layer divides it). `lead`: zeros kept before the first
    non-zero sample (the high-pass's reach). `tail`: zeros kept, or added,
    after the last one (the high-pass's reach plus one silence-detection
    frame), so that the padding of a batch changes nothing.
    """

    step: int
    lead: int
    tail: int

    @classmethod
    def for_front_end(cls, front_end: Any, voicing: Any) -> _Trim:
        highpass, syllable = front_end.highpass, front_end.syllable
        reach = (highpass.taps - 1) // 2
        step = math.lcm(syllable.hop_length, highpass.PHASES, 2 * voicing.hop)
        return cls(step=step, lead=reach, tail=reach + syllable.frame_length)

    def __call__(self, waveform: np.ndarray) -> np.ndarray:
        nonzero = np.flatnonzero(waveform)
        if nonzero.size == 0:
            return waveform  # digital silence: nothing to keep, nothing to cut
        first, last = int(nonzero[0]), int(nonzero[-1])
        start = max(0, (first - self.lead) // self.step * self.step)
        end = last + 1 + self.tail
        out = waveform[start:end]
        if out.size < end - start:
            out = np.pad(out, (0, end - start - out.size))
        return out


__all__ = [
    "BATCH_SIZE",
    "CONTEXT_INPUT",
    "ClipFeatures",
    "Predictions",
    "Runner",
    "heard_histograms",
    "leave_one_out",
]
