"""Syllables of a sentence: where each expected syllable starts and ends.

`align(waveform, sample_rate, syllables)` places the syllables of an
expected reading (`"wo3 men5 yi4 qi3 qu4"`, or parsed `Syllable`s) in a
recording of connected speech: a sentence of 5-30 syllables, or a file of
minutes. `keras_tone.segmentation.segment` does the same for words of 2-4
syllables from their number alone.

How it works (10 ms frames, `keras_tone.frames.frame_measures` of the
recording with a faint dither, `measure`):

1. **Frame scores.** A small boundary detector (one hidden layer of 32
   units on 11 frame measures over +-50 ms) gives, for every frame, how
   much more likely it is the start of a syllable with an obstruent initial
   (b p d t g k f h j q x z c s zh ch sh), a sonorant initial (m n l r), or
   no initial (y, w, a vowel), the start or end of speech around a pause,
   or a pause frame, than a frame inside a syllable. The detector was
   trained with Keras on read sentences with aligned syllable times and on
   isolated syllables joined into sentences (`scripts/alignment_report.py`);
   its weights are data (`boundary_detector.json`), evaluated with numpy.
2. **Dynamic programming** chooses every syllable's start and end at once:
   each syllable starts where the score of its own kind of onset is high
   (another kind is allowed at a price: a voice does not always sound as
   the pinyin says), lasts at least 50 ms, holds 30 ms of voiced frames (its vowel), and
   has a duration drawn towards a prior (the sentence's speaking rate,
   shorter for neutral tones and syllables without an initial, longer for
   the last one); between two syllables there may be a pause, paid for
   frame by frame by the pause score.
3. **Long recordings** are aligned in bounded memory: each syllable may
   end only within a band of +-5 s around where the speaking rate puts it
   (pauses do not count towards that position), and the spectra are
   computed a block at a time.

Measured accuracy: `docs/sentences.md` (`scripts/alignment_report.py`).

Example:
    >>> import numpy as np
    >>> from keras_tone.alignment import align
    >>> sr = 16000
    >>> t = np.arange(int(0.2 * sr)) / sr
    >>> harmonics = sum(np.sin(2 * np.pi * k * 180 * t) / k for k in range(1, 20))
    >>> vowel = 0.1 * harmonics * np.hanning(t.size)  # a buzz with harmonics, like a voice
    >>> gap = np.zeros(int(0.05 * sr))
    >>> sentence = np.concatenate([gap, vowel, gap, vowel, gap, vowel, gap])
    >>> tuple(round(s.duration, 1) for s in align(sentence, sr, "a1 a1 a1"))
    (0.2, 0.2, 0.2)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone.frames import HOP_SECONDS, FrameMeasures, frame_measures
from keras_tone.segmentation import MIN_SYLLABLE_SECONDS, Segment

#: The kinds of syllable onset, by initial: voiceless obstruent, sonorant, none.
ONSET_KINDS = ("obstruent", "sonorant", "vowel")

#: What the boundary detector tells apart, frame by frame (its output classes).
DETECTOR_CLASSES = ("inside", "pause", *ONSET_KINDS, "speech_start", "speech_end")

#: The boundary detector shipped with keras_tone.
DETECTOR_PATH = Path(__file__).with_name("boundary_detector.json")

_SONORANT_INITIALS = ("m", "n", "l", "r")
_OBSTRUENT_INITIALS = ("zh", "ch", "sh", *"bpdtgkfhjqxzcs")
_MAX_SYLLABLE_SECONDS = 0.8
_NUCLEUS_FRAMES = 3
_VOICED_PERIODICITY = 0.6
_NUCLEUS_BELOW_PEAK_DB = 30.0
_OTHER_KIND = 0.05  # weight of an onset of another kind than the expected one
_DITHER_DB = 70.0  # a faint noise this far below the peak: digital silence becomes a quiet room
_BAND_FRAMES = 500  # a syllable ends within this many frames of its expected place
_NEG = -1e9


def onset_kind(syllable: str) -> str:
    """The kind of onset of a toneless pinyin syllable: `obstruent`, `sonorant` or `vowel`.

    Example:
        >>> from keras_tone.alignment import onset_kind
        >>> onset_kind("shi"), onset_kind("ma"), onset_kind("yi"), onset_kind("er")
        ('obstruent', 'sonorant', 'vowel', 'vowel')
    """
    syllable = syllable.lower()
    if syllable.startswith(_OBSTRUENT_INITIALS):
        return "obstruent"
    if syllable.startswith(_SONORANT_INITIALS) and syllable not in ("m", "n", "ng"):
        return "sonorant"
    return "vowel"


@dataclass(frozen=True)
class BoundaryDetector:
    """The frame classifier behind `align`, and the duration prior fitted with it.

    Attributes:
        context: frames on either side of a frame that its input holds.
        mean, scale: per-input normalisation, `[inputs]`.
        hidden_kernel, hidden_bias, output_kernel, output_bias: the weights
            of `Dense(hidden, relu)` then `Dense(len(DETECTOR_CLASSES))`.
        log_prior: the log-frequency of each class in training (as the
            detector was trained on balanced classes, this is 0 for all).
        duration_offsets: log-duration of a syllable relative to the
            sentence's mean, by onset kind and for `"neutral"` and `"last"`.
        duration_sigma, duration_weight: the Gaussian log-duration prior.
        trained_on: where the weights come from.
    """

    context: int
    mean: np.ndarray
    scale: np.ndarray
    hidden_kernel: np.ndarray
    hidden_bias: np.ndarray
    output_kernel: np.ndarray
    output_bias: np.ndarray
    log_prior: np.ndarray
    duration_offsets: dict[str, float]
    duration_sigma: float
    duration_weight: float
    trained_on: str

    _ARRAYS = (
        "mean",
        "scale",
        "hidden_kernel",
        "hidden_bias",
        "output_kernel",
        "output_bias",
        "log_prior",
    )

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> BoundaryDetector:
        """Read a detector from its JSON file (`DETECTOR_PATH` when `path` is None)."""
        path = Path(path) if path is not None else DETECTOR_PATH
        if path == DETECTOR_PATH:
            return _shipped_detector()
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> BoundaryDetector:
        if not path.is_file():
            raise FileNotFoundError(f"No boundary detector at {str(path)!r}.")
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data.get("classes", ())) != DETECTOR_CLASSES:
            raise ValueError(
                f"The boundary detector {str(path)!r} has the classes {data.get('classes')}; "
                f"this keras_tone expects {list(DETECTOR_CLASSES)}. Received: {str(path)!r}"
            )
        arrays = {name: np.asarray(data[name], dtype=np.float64) for name in cls._ARRAYS}
        return cls(
            context=int(data["context"]),
            duration_offsets={k: float(v) for k, v in data["duration_offsets"].items()},
            duration_sigma=float(data["duration_sigma"]),
            duration_weight=float(data["duration_weight"]),
            trained_on=str(data["trained_on"]),
            **arrays,
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write the detector as JSON (weights rounded to 6 significant digits)."""
        data: dict[str, Any] = {
            "classes": list(DETECTOR_CLASSES),
            "context": self.context,
            "duration_offsets": self.duration_offsets,
            "duration_sigma": self.duration_sigma,
            "duration_weight": self.duration_weight,
            "trained_on": self.trained_on,
        }
        for name in self._ARRAYS:
            data[name] = np.vectorize(lambda v: float(f"{v:.6g}"))(getattr(self, name)).tolist()
        Path(path).write_text(json.dumps(data) + "\n", encoding="utf-8")

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        """Per frame and class, the log-likelihood ratio against `inside`, `[frames, classes]`.

        Args:
            inputs: `detector_inputs(...)`, `[frames, inputs]`.
        """
        stacked = (stack_context(inputs, self.context) - self.mean) / self.scale
        hidden = np.maximum(stacked @ self.hidden_kernel + self.hidden_bias, 0.0)
        logits = hidden @ self.output_kernel + self.output_bias - self.log_prior
        return logits - logits[:, :1]


@lru_cache(maxsize=1)
def _shipped_detector() -> BoundaryDetector:
    return BoundaryDetector._read(DETECTOR_PATH)


def measure(waveform: np.ndarray, sample_rate: int) -> FrameMeasures:
    """`frame_measures` of a waveform with a faint, fixed dither added.

    White noise 70 dB below the waveform's peak (seeded: the same input
    gives the same result) makes digital silence look like the quiet room
    the detector was trained on. What `align` measures, and what the
    detector is trained on.

    Example:
        >>> import numpy as np
        >>> from keras_tone.alignment import measure
        >>> tone = np.concatenate([np.zeros(8000), np.sin(np.arange(8000) / 5)])
        >>> bool(measure(tone, 16000).level[10] > -80.0)
        True
    """
    from keras_tone.audio import to_mono_float

    x = to_mono_float(waveform, name="waveform").astype(np.float64)
    noise = np.random.default_rng(0).standard_normal(x.size)
    x += np.abs(x).max() * 10.0 ** (-_DITHER_DB / 20.0) * noise
    return frame_measures(x, sample_rate)


def detector_inputs(measures: FrameMeasures) -> np.ndarray:
    """The detector's 11 inputs per frame, `[frames, 11]`.

    Periodicity; sonority and level relative to the recording's loud frames
    (95th percentile of the level); spectral change; dip; and the six band
    levels relative to the frame's level (the spectrum's shape). dB values
    are divided by 10.
    """
    reference = float(np.percentile(measures.level, 95))
    return np.concatenate(
        [
            np.stack(
                [
                    measures.periodicity,
                    (measures.sonority - reference) / 10.0,
                    (measures.level - reference) / 10.0,
                    measures.change / 10.0,
                    measures.dip / 10.0,
                ],
                axis=1,
            ),
            (measures.bands - measures.level[:, None]) / 10.0,
        ],
        axis=1,
    )


def stack_context(inputs: np.ndarray, context: int) -> np.ndarray:
    """Each frame's inputs with those of `context` frames either side (edges repeated)."""
    frames = inputs.shape[0]
    index = np.clip(np.arange(frames)[:, None] + np.arange(-context, context + 1), 0, frames - 1)
    return inputs[index].reshape(frames, -1)


@dataclass(frozen=True)
class _Expected:
    kinds: list[str | None]  # onset kind per syllable, None when unknown
    neutral: np.ndarray  # bool per syllable


def _expected(syllables: Any) -> _Expected:
    from keras_tone.pinyin import ExpectedSyllable, Syllable, parse_pinyin

    if isinstance(syllables, (int, np.integer)) and not isinstance(syllables, bool):
        if syllables < 1:
            raise ValueError(
                f"align needs at least one syllable. Received: syllables={syllables!r}"
            )
        return _Expected([None] * int(syllables), np.zeros(int(syllables), bool))
    if isinstance(syllables, str) or (
        isinstance(syllables, Sequence) and syllables and all(isinstance(s, str) for s in syllables)
    ):
        syllables = parse_pinyin(syllables)  # type: ignore[arg-type]
    items = list(syllables) if isinstance(syllables, Sequence) else []
    if not items or not all(isinstance(s, (Syllable, ExpectedSyllable)) for s in items):
        raise ValueError(
            "align takes the expected syllables as pinyin ('wo3 men5 qu4'), a list of "
            "keras_tone.pinyin Syllable or ExpectedSyllable, or their number. "
            f"Received: syllables={syllables!r}"
        )
    kinds: list[str | None] = [onset_kind(s.syllable) for s in items]
    neutral = np.array(
        [(s.surface if isinstance(s, ExpectedSyllable) else s.tone) == 5 for s in items]
    )
    return _Expected(kinds, neutral)


def align(
    waveform: np.ndarray,
    sample_rate: int,
    syllables: str | Sequence[Any] | int,
    *,
    detector: BoundaryDetector | None = None,
) -> list[Segment]:
    """Place the expected syllables of a sentence (or a longer recording) in time.

    Args:
        waveform: the recording, `[samples]` (or `[samples, channels]`,
            averaged; integer PCM is scaled as by `keras_tone.prepare_batch`).
        sample_rate: its sampling rate in Hz, at least 8000.
        syllables: the expected reading: pinyin (`"wo3 men5 qu4"`, anything
            `keras_tone.pinyin.parse_pinyin` reads), a list of
            `keras_tone.pinyin.Syllable` or `ExpectedSyllable` (e.g. from
            `keras_tone.pinyin.expected_tones`), or only their number (then
            every onset is of unknown kind and the boundaries are less
            precise).
        detector: the boundary detector; `None` for the one shipped with
            keras_tone (`BoundaryDetector.load()`).

    Returns:
        One `Segment(start, end)` per syllable, in seconds, in order.
        Consecutive syllables touch, except across a pause, which belongs to
        neither; leading and trailing silence is left out.

    Raises:
        ValueError: the waveform is empty, not 1-D or 2-D, has NaN/Inf or
            is silent; `sample_rate` is not an integer >= 8000; the
            syllables cannot be read; or the recording is too short to hold
            them (50 ms each).

    Example:
        >>> import numpy as np
        >>> from keras_tone.alignment import align
        >>> sr = 16000
        >>> t = np.arange(int(0.25 * sr)) / sr
        >>> harmonics = sum(np.sin(2 * np.pi * k * 200 * t) / k for k in range(1, 20))
        >>> vowel = 0.1 * harmonics * np.hanning(t.size)
        >>> pause = np.zeros(int(0.3 * sr))
        >>> spans = align(np.concatenate([pause, vowel, pause, vowel, pause]), sr, 2)
        >>> print(" ".join(f"{s.start:.1f}-{s.end:.1f}" for s in spans))
        0.3-0.6 0.9-1.1
    """
    from keras_tone.audio import to_mono_float

    expected = _expected(syllables)
    x = to_mono_float(waveform, name="waveform")
    if not np.any(x):
        raise ValueError("The recording is silent (all samples are zero): there are no syllables.")
    measures = measure(x, sample_rate)
    detector = detector if detector is not None else BoundaryDetector.load()
    n = len(expected.kinds)
    frames = measures.level.size
    if n * _frames(MIN_SYLLABLE_SECONDS) > frames:
        raise ValueError(
            f"The recording lasts {x.size / sample_rate:.2f} s, too short for {n} syllables "
            f"of at least {MIN_SYLLABLE_SECONDS * 1000:.0f} ms each. Check the expected "
            "syllables, or that the recording holds the whole sentence."
        )
    scores = detector.scores(detector_inputs(measures))
    starts, ends = _best_path(scores, measures, expected, detector)
    return [
        Segment(round(s * HOP_SECONDS, 6), round(e * HOP_SECONDS, 6))
        for s, e in zip(starts, ends, strict=True)
    ]


def _frames(seconds: float) -> int:
    return max(1, int(round(seconds / HOP_SECONDS)))


def _onset_scores(scores: np.ndarray) -> dict[str | None, np.ndarray]:
    """Per onset kind (None: unknown), `[frames + 1]`: the score of such a syllable starting at j.

    One vector per kind, not per syllable: memory stays linear in the recording's length.
    """
    columns = [scores[:, DETECTOR_CLASSES.index(kind)] for kind in ONSET_KINDS]
    any_kind = np.logaddexp.reduce(columns, axis=0) - np.log(len(columns))
    # The expected kind, or (at a price) any other: a voice may not sound as the pinyin says.
    by_kind: dict[str | None, np.ndarray] = {
        kind: np.logaddexp(column + np.log1p(-_OTHER_KIND), any_kind + np.log(_OTHER_KIND))
        for kind, column in zip(ONSET_KINDS, columns, strict=True)
    }
    by_kind[None] = any_kind
    return {kind: np.append(column, column[-1]) for kind, column in by_kind.items()}


def _best_path(
    scores: np.ndarray,
    measures: FrameMeasures,
    expected: _Expected,
    detector: BoundaryDetector,
) -> tuple[list[int], list[int]]:
    """Start and end frame of every syllable (module docstring, step 2)."""
    n = len(expected.kinds)
    frames = scores.shape[0]
    onset = _onset_scores(scores)
    pause = scores[:, DETECTOR_CLASSES.index("pause")]
    speech_start = np.append(scores[:, DETECTOR_CLASSES.index("speech_start")], _NEG)
    speech_end = np.append(_NEG, scores[:, DETECTOR_CLASSES.index("speech_end")])
    paused = np.concatenate([[0.0], np.cumsum(pause)])  # paused[j]: pause score of frames < j

    loud = measures.sonority > measures.sonority.max() - _NUCLEUS_BELOW_PEAK_DB
    voiced = np.concatenate([[0], np.cumsum((measures.periodicity > _VOICED_PERIODICITY) & loud)])
    min_d = _frames(MIN_SYLLABLE_SECONDS)
    max_d = max(min_d, min(_frames(_MAX_SYLLABLE_SECONDS), frames))
    durations = np.arange(min_d, max_d + 1)

    # Duration prior: the speaking rate (speech frames per syllable) and each syllable's offset.
    offsets = detector.duration_offsets
    offset = np.array([offsets.get(kind or "", 0.0) for kind in expected.kinds])
    offset += np.where(expected.neutral, offsets["neutral"], 0.0)
    offset[-1] += offsets["last"]
    offset -= offset.mean()
    speech = np.concatenate([[0], np.cumsum(pause < 0)])
    mean = max(float(speech[-1]) / n, float(min_d))
    mu = np.log(mean) + offset
    # Where each syllable is expected to end: its share of the speech frames.
    share = np.cumsum(np.exp(offset)) / np.exp(offset).sum()
    centre = np.searchsorted(speech, share * speech[-1])
    low = np.maximum(centre - _BAND_FRAMES, min_d * np.arange(1, n + 1))
    high = np.minimum(centre + _BAND_FRAMES, frames)

    start_score = paused + speech_start  # syllable 0 starts at j after a leading pause
    came_from = np.full(frames + 1, -1)  # for each start: -1 contiguous, else the pause's start
    records = []
    for k in range(n):
        ends = np.arange(low[k], high[k] + 1)
        begins = ends[None, :] - durations[:, None]
        valid = begins >= 0
        safe = np.where(valid, begins, 0)
        valid &= voiced[ends][None, :] - voiced[safe] >= _NUCLEUS_FRAMES
        prior = (
            -detector.duration_weight
            * 0.5
            * ((np.log(durations) - mu[k]) / detector.duration_sigma) ** 2
        )
        candidate = np.where(valid, start_score[safe] + prior[:, None], _NEG)
        choice = candidate.argmax(axis=0)
        end_score = np.full(frames + 1, _NEG)
        end_score[ends] = candidate[choice, ends - low[k]]
        # Keep the pause pointers of this syllable's possible starts only (a copy, not a view
        # that would keep the whole array alive).
        first_start = max(0, low[k] - max_d)
        records.append(
            (
                low[k],
                ends - durations[choice],
                first_start,
                came_from[first_start : high[k] + 1].copy(),
            )
        )
        if k == n - 1:
            break
        # The next syllable starts where this one ends, or after a pause of one frame or more.
        touching = end_score + onset[expected.kinds[k + 1]]
        leaving = end_score + speech_end - paused
        best = np.maximum.accumulate(leaving)
        where = np.maximum.accumulate(np.where(leaving >= best, np.arange(frames + 1), 0))
        after_pause = np.full(frames + 1, _NEG)
        after_pause[1:] = best[:-1] + paused[1:] + speech_start[1:]
        came_from = np.full(frames + 1, -1)
        came_from[1:] = np.where(after_pause[1:] > touching[1:], where[:-1], -1)
        start_score = np.maximum(touching, after_pause)
    total = end_score + speech_end + (paused[-1] - paused)
    end = int(total.argmax())
    if total[end] <= _NEG / 2:
        raise ValueError(
            f"No way to place {n} syllables, each with a voiced vowel, in this recording. "
            "Check the expected syllables, or that the recording holds the whole sentence."
        )
    starts, ends_out = [], []
    for first, begin_of, first_start, came in reversed(records):
        start = int(begin_of[end - first])
        starts.append(start)
        ends_out.append(end)
        pause_start = int(came[start - first_start])
        end = start if pause_start < 0 else pause_start
    return starts[::-1], ends_out[::-1]


__all__ = [
    "DETECTOR_CLASSES",
    "DETECTOR_PATH",
    "ONSET_KINDS",
    "BoundaryDetector",
    "align",
    "detector_inputs",
    "measure",
    "onset_kind",
    "stack_context",
]
