"""Syllables of a word recording: where each one starts and ends.

`segment(waveform, sample_rate, n_syllables)` splits a recording of one word
or short phrase into its syllables when their number is known (from the
expected pinyin), and estimates the number when it is not
(`count_syllables`). Pure numpy/scipy, no model: a 2 s clip takes a few
milliseconds.

How it works (10 ms frames, 32 ms windows):

1. **Speech span.** The recording's leading and trailing silence is cut at
   the frames whose level (60 Hz-8 kHz) is within 45 dB of the loudest
   frame and 12 dB above the noise floor (the 10th percentile of frame
   levels; the threshold is never above 20 dB below the peak, for clips
   without silence); isolated blips under 40 ms are ignored.
2. **Boundary evidence per frame**, the sum of three cues:

   * *dip*: how far the sonority (the level in 300-2500 Hz, where vowels
     are strong and most consonants weak) lies below the lower of the two
     highest points within 200 ms on either side: a valley between two
     nuclei (Mermelstein's convex-hull idea, made local);
   * *unvoiced*: one minus the periodicity of the frame (the highest
     normalised autocorrelation for pitch periods of 1.7-17 ms, on the
     signal below 1.2 kHz so that fricative noise does not look periodic);
   * *spectral change*: the mean absolute difference, in dB, of the levels
     of 32 mel-spaced bands 20 ms before and after the frame.

   Evidence = dip / 6 dB + unvoiced + change / 8 dB.

3. **Dynamic programming** chooses the N - 1 boundary frames that maximise
   the summed evidence, under two constraints and a prior: every syllable
   lasts at least 50 ms, holds at least 80 ms of voiced, loud frames (its
   nucleus: periodic, within 30 dB of the word's sonority peak), and its
   log-duration is drawn towards the word's mean syllable duration
   (a Gaussian log-prior, sigma 0.5 in log units, weighted 2). Where the
   voicing is too scarce for every syllable's nucleus, that rule is dropped.
4. **Placing each boundary.** Around a chosen frame, the valley where the
   evidence stays above half its value is searched for its quietest frame:
   a closure, a pause, or the join of a vowel's tail and a fricative. If the
   boundary falls in silence, the syllable before ends where the silence
   begins and the next one starts where it ends.

Counting syllables (`count_syllables`, `segment(..., n_syllables=None)`)
repeats step 3 for N = 1, 2, ... and keeps the N with the best score when
every boundary must also pay a fixed price: a boundary is worth adding only
where its evidence exceeds 2.5 (for example a 9 dB dip with half the
voicing gone and a 4 dB spectral change). Three more rules keep a syllable from being cut in two:
its sonority must peak at least 3 dB above both of its edges (a falling
tail or a rising onset alone is not a syllable), it lasts at most 1.2 s,
and the duration prior counts half as much (it would otherwise reward
extra boundaries that merely even out the durations). The
constants were chosen on pseudo-words made of isolated syllables and on the
synthetic word recordings, not on the human word recordings. Its measured
accuracy is in the documentation's page on words
(`scripts/segmentation_report.py` measures it).

Example:
    >>> import numpy as np
    >>> from keras_tone.segmentation import segment
    >>> sr = 16000
    >>> t = np.arange(int(0.25 * sr)) / sr
    >>> vowel = 0.3 * np.sin(2 * np.pi * 220 * t) * np.hanning(t.size)
    >>> gap = np.zeros(int(0.08 * sr))
    >>> word = np.concatenate([gap, vowel, gap, vowel, gap])
    >>> segment(word, sr, 2)  # the vowels: 0.08-0.33 s and 0.41-0.66 s
    [Segment(start=0.09, end=0.35), Segment(start=0.4, end=0.65)]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from keras_tone.frames import HOP_SECONDS, check_rate, frame_measures

#: The longest recording `segment` accepts, in seconds (a word or a short phrase).
MAX_SECONDS = 30.0

#: The longest recording whose syllables `count_syllables` counts, in seconds.
MAX_COUNT_SECONDS = 10.0

#: The shortest syllable, in seconds.
MIN_SYLLABLE_SECONDS = 0.05

# The constants of the method (see the module docstring); the names say the unit.
_SPEECH_BELOW_PEAK_DB = 45.0
_SPEECH_ABOVE_FLOOR_DB = 12.0
_SILENCE_ABOVE_FLOOR_DB = 6.0
_BLIP_FRAMES = 4
_DIP_WEIGHT = 1.0 / 6.0  # per dB
_UNVOICED_WEIGHT = 1.0
_CHANGE_WEIGHT = 1.0 / 8.0  # per dB
_VOICED_PERIODICITY = 0.6
_NUCLEUS_BELOW_PEAK_DB = 30.0
_NUCLEUS_FRAMES = 8
_DURATION_SIGMA = 0.5
_DURATION_WEIGHT = 2.0
_PLACE_FRACTION = 0.5
_PLACE_REACH_FRAMES = 10
_COUNT_THRESHOLD = 2.5  # the price of a boundary when counting, in evidence units
_COUNT_DURATION_WEIGHT = 1.0  # a weaker duration prior when counting
_COUNT_HUMP_DB = 3.0  # when counting, a syllable's peak stands this far above its edges
_COUNT_MAX_SYLLABLES = 12
_COUNT_LONGEST_SECONDS = 1.2  # longest syllable of a word of two or more, when counting
_COUNT_PATIENCE = 3  # stop counting this many syllables past the best so far


class Segment(NamedTuple):
    """One syllable's interval in seconds from the start of the recording."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """`end - start`, in seconds."""
        return self.end - self.start


def segment(
    waveform: np.ndarray,
    sample_rate: int,
    n_syllables: int | None = None,
) -> list[Segment]:
    """Split a recording of one word or phrase into its syllables.

    Args:
        waveform: the recording, `[samples]` (or `[samples, channels]`,
            averaged; integer PCM is scaled as by `keras_tone.prepare_batch`).
        sample_rate: its sampling rate in Hz, at least 8000.
        n_syllables: how many syllables it holds (e.g. the number of
            syllables of the expected pinyin), or `None` to estimate it
            (`count_syllables`; recordings up to `MAX_COUNT_SECONDS`).

    Returns:
        One `Segment(start, end)` per syllable, in seconds, in order. The
        first starts where the speech starts and the last ends where it
        ends (leading and trailing silence left out). Consecutive syllables
        touch, except across a pause (a stretch near the noise floor), which
        belongs to neither.

    Raises:
        ValueError: the waveform is empty, not 1-D or 2-D, has NaN/Inf,
            is silent (no frame above the noise floor), is longer than
            `MAX_SECONDS`; `sample_rate` is not an integer >= 8000;
            `n_syllables` is not a positive integer, or the speech is too
            short to hold that many syllables of `MIN_SYLLABLE_SECONDS`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.segmentation import segment
        >>> sr = 16000
        >>> t = np.arange(int(0.2 * sr)) / sr
        >>> syllable = 0.3 * np.sin(2 * np.pi * 200 * t) * np.hanning(t.size)
        >>> word = np.concatenate([np.zeros(1600), syllable, syllable, syllable])
        >>> len(segment(word, sr, n_syllables=3)), len(segment(word, sr))
        (3, 3)
    """
    if n_syllables is not None and (
        isinstance(n_syllables, bool)
        or not isinstance(n_syllables, (int, np.integer))
        or n_syllables < 1
    ):
        raise ValueError(
            f"n_syllables must be a positive integer or None; received {n_syllables!r}."
        )
    analysis = _analyse(waveform, sample_rate)
    if n_syllables is None:
        n_syllables = _count(analysis)
    n = int(n_syllables)
    length = analysis.end - analysis.start
    min_len = _frames(MIN_SYLLABLE_SECONDS)
    if n * min_len > length:
        raise ValueError(
            f"The speech in this recording lasts {length * HOP_SECONDS:.2f} s "
            f"({analysis.start * HOP_SECONDS:.2f}-{analysis.end * HOP_SECONDS:.2f} s), too "
            f"short for {n} syllables of at least {MIN_SYLLABLE_SECONDS * 1000:.0f} ms each. "
            "Check the expected syllables, or that the recording holds the whole word."
        )
    if n == 1:
        boundaries: list[int] = []
    else:
        boundaries = _split(analysis, n, nucleus=_NUCLEUS_FRAMES)[1]
        if boundaries is None:  # too little voicing for every syllable's nucleus: drop that rule
            boundaries = _split(analysis, n, nucleus=0)[1]
    return _place(analysis, boundaries or [])


def count_syllables(waveform: np.ndarray, sample_rate: int) -> int:
    """Estimate how many syllables a recording of a word or phrase holds.

    The segmentation of `segment` is computed for 1, 2, ... syllables and
    the number whose boundaries are worth their price is kept (module
    docstring). An estimate, wrong for a share of words that the
    documentation's page on words measures: give the number when it is
    known.

    Args:
        waveform: the recording, as for `segment`.
        sample_rate: its sampling rate in Hz, at least 8000.

    Returns:
        The estimated number of syllables, at least 1.

    Raises:
        ValueError: as `segment`, and for recordings longer than
            `MAX_COUNT_SECONDS`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.segmentation import count_syllables
        >>> sr = 16000
        >>> t = np.arange(int(0.25 * sr)) / sr
        >>> syllable = 0.3 * np.sin(2 * np.pi * 200 * t) * np.hanning(t.size)
        >>> pause = np.zeros(int(0.1 * sr))
        >>> count_syllables(np.concatenate([pause, syllable, pause, syllable, pause]), sr)
        2
    """
    return _count(_analyse(waveform, sample_rate))


def speech_span(waveform: np.ndarray, sample_rate: int) -> Segment:
    """Where the speech of a recording starts and ends (leading and trailing silence cut).

    Args:
        waveform: the recording, as for `segment`.
        sample_rate: its sampling rate in Hz, at least 8000.

    Returns:
        `Segment(start, end)` in seconds.

    Raises:
        ValueError: as `segment`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.segmentation import speech_span
        >>> sr = 16000
        >>> tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(sr // 2) / sr)
        >>> speech_span(np.concatenate([np.zeros(sr // 4), tone, np.zeros(sr // 4)]), sr)
        Segment(start=0.24, end=0.76)
    """
    analysis = _analyse(waveform, sample_rate)
    return Segment(_seconds(analysis.start), _seconds(analysis.end - 1))


def as_segment(item: Segment | tuple[float, float] | Any) -> Segment:
    """A `Segment` from a `(start, end)` pair or anything with `start` and `end` attributes.

    Example:
        >>> from keras_tone.segmentation import as_segment
        >>> from keras_tone.textgrid import Interval
        >>> as_segment((0.1, 0.4)), as_segment(Interval(0.4, 0.8, "hao3"))
        (Segment(start=0.1, end=0.4), Segment(start=0.4, end=0.8))
    """
    start, end = (item.start, item.end) if hasattr(item, "start") else item
    return Segment(float(start), float(end))


# --- analysis -------------------------------------------------------------------------


class _Analysis(NamedTuple):
    level: np.ndarray  # dB per frame, 60 Hz-8 kHz
    sonority: np.ndarray  # dB per frame, 300-2500 Hz, smoothed over 30 ms
    evidence: np.ndarray  # boundary evidence per frame
    voiced: np.ndarray  # bool: a nucleus frame (periodic and loud)
    silent: np.ndarray  # bool: near the noise floor
    start: int  # first frame of speech (frame k is centred at k * HOP_SECONDS)
    end: int  # one past the last frame of speech
    seconds: float  # duration of the recording


def _frames(seconds: float) -> int:
    return max(1, int(round(seconds / HOP_SECONDS)))


def _seconds(frame: int) -> float:
    return round(frame * HOP_SECONDS, 6)


def _analyse(waveform: np.ndarray, sample_rate: int) -> _Analysis:
    from scipy.ndimage import uniform_filter1d

    from keras_tone.audio import to_mono_float

    sample_rate = check_rate(sample_rate)
    x = to_mono_float(waveform, name="waveform").astype(np.float64)
    seconds = x.size / sample_rate
    if seconds > MAX_SECONDS:
        raise ValueError(
            f"The recording is {seconds:.1f} s long; segment() takes one word or short "
            f"phrase (at most {MAX_SECONDS:.0f} s). Cut longer recordings at their pauses first."
        )
    if seconds < MIN_SYLLABLE_SECONDS:
        raise ValueError(
            f"The recording is {seconds * 1000:.0f} ms long, shorter than one syllable "
            f"({MIN_SYLLABLE_SECONDS * 1000:.0f} ms)."
        )
    if not np.any(x):
        raise ValueError("The recording is silent (all samples are zero): there are no syllables.")

    measures = frame_measures(x, sample_rate)
    level, periodicity, change = measures.level, measures.periodicity, measures.change
    sonority = measures.sonority

    # Speech span: above the noise floor and within reach of the peak; blips ignored.
    peak = float(level.max())
    floor = float(np.percentile(level, 10))
    threshold = max(peak - _SPEECH_BELOW_PEAK_DB, min(floor + _SPEECH_ABOVE_FLOOR_DB, peak - 20.0))
    active = np.flatnonzero(level > threshold)
    if peak < -100.0 or active.size == 0:
        raise ValueError(
            "The recording is silent (nothing above its noise floor): there are no syllables."
        )
    runs = np.split(active, np.flatnonzero(np.diff(active) > 3) + 1)
    runs = [run for run in runs if run.size >= _BLIP_FRAMES] or runs
    start, end = int(runs[0][0]), int(runs[-1][-1]) + 1

    unvoiced = uniform_filter1d(1.0 - periodicity, 3, mode="nearest")
    evidence = _DIP_WEIGHT * measures.dip + _UNVOICED_WEIGHT * unvoiced + _CHANGE_WEIGHT * change

    loud = sonority > sonority[start:end].max() - _NUCLEUS_BELOW_PEAK_DB
    return _Analysis(
        level=uniform_filter1d(level, 3, mode="nearest"),
        sonority=sonority,
        evidence=evidence,
        voiced=(periodicity > _VOICED_PERIODICITY) & loud,
        silent=level < floor + _SILENCE_ABOVE_FLOOR_DB,
        start=start,
        end=end,
        seconds=seconds,
    )


# --- choosing the boundaries ----------------------------------------------------------


def _split(
    analysis: _Analysis,
    n: int,
    *,
    nucleus: int,
    threshold: float = 0.0,
    duration_weight: float = _DURATION_WEIGHT,
    max_len: int | None = None,
    hump: float = 0.0,
) -> tuple[float, list[int] | None]:
    """The best n - 1 boundaries (frame indices) and their score; None if none is allowed.

    Score: the evidence minus `threshold` summed over the boundaries, plus a
    Gaussian prior on each syllable's log-duration around the mean (length / n).
    Every syllable lasts at least MIN_SYLLABLE_SECONDS and holds `nucleus`
    voiced frames.
    """
    a, b = analysis.start, analysis.end
    length = b - a
    min_len = _frames(MIN_SYLLABLE_SECONDS)
    if max_len is None:
        max_len = length if length <= 600 else max(150, 3 * length // n)
    max_len = min(max_len, length)
    durations = np.arange(min_len, max_len + 1)
    prior = -duration_weight * 0.5 * (np.log(durations * n / length) / _DURATION_SIGMA) ** 2
    voiced = np.concatenate([[0], np.cumsum(analysis.voiced[a:b])])
    gain = np.full(length + 1, -np.inf)  # evidence of a boundary at each frame of the span
    gain[1:length] = analysis.evidence[a + 1 : b] - threshold

    ends = np.arange(length + 1)
    starts = ends[None, :] - durations[:, None]  # [durations, ends]
    allowed = starts >= 0
    safe = np.where(allowed, starts, 0)
    if nucleus:
        allowed &= (voiced[ends][None, :] - voiced[safe]) >= nucleus
    if hump:
        # the syllable's loudest frame stands `hump` dB above both of its edges
        son = analysis.sonority[a:b]
        peak = np.full((durations.size, length + 1), -np.inf)
        running = np.full(length + 1, -np.inf)
        for d in range(1, max_len + 1):  # running[j] = max(son[j - d : j])
            running[d:] = np.maximum(running[d:], son[: length + 1 - d])
            if d >= min_len:
                peak[d - min_len] = running
        edge_end = np.r_[son[0], son]  # son[j - 1]
        edge_start = son[np.minimum(safe, length - 1)]
        allowed &= peak - np.maximum(edge_start, edge_end[None, :]) >= hump

    # best[j]: score of the first k syllables ending at frame j (k = 1 here).
    best = np.full(length + 1, -np.inf)
    first = durations[durations <= length]
    if nucleus:
        first = first[voiced[first] >= nucleus]
    best[first] = prior[first - min_len]
    back = []
    for _ in range(1, n):
        candidate = np.where(allowed, best[safe] + gain[safe] + prior[:, None], -np.inf)
        choice = candidate.argmax(axis=0)
        best = candidate[choice, ends]
        back.append(ends - durations[choice])
    score = float(best[length])
    if not np.isfinite(score):
        return score, None
    boundaries = []
    j = length
    for starts_of in reversed(back):
        j = int(starts_of[j])
        boundaries.append(a + j)
    return score, boundaries[::-1]


def _count(analysis: _Analysis) -> int:
    if analysis.seconds > MAX_COUNT_SECONDS:
        raise ValueError(
            f"The recording is {analysis.seconds:.1f} s long; syllables are counted in "
            f"recordings of up to {MAX_COUNT_SECONDS:.0f} s (one word or short phrase). "
            "Give n_syllables, or cut the recording at its pauses."
        )
    length = analysis.end - analysis.start
    most = min(_COUNT_MAX_SYLLABLES, length // _frames(MIN_SYLLABLE_SECONDS))
    best_n, best_score = 1, -np.inf
    for n in range(1, max(1, most) + 1):
        score, boundaries = _split(
            analysis,
            n,
            nucleus=_NUCLEUS_FRAMES,
            threshold=_COUNT_THRESHOLD,
            duration_weight=_COUNT_DURATION_WEIGHT,
            max_len=None if n == 1 else _frames(_COUNT_LONGEST_SECONDS),
            hump=0.0 if n == 1 else _COUNT_HUMP_DB,
        )
        if boundaries is None:
            if n > best_n + _COUNT_PATIENCE:
                break
            continue
        if score > best_score:
            best_n, best_score = n, score
        elif n > best_n + _COUNT_PATIENCE:
            break
    return best_n


def _place(analysis: _Analysis, boundaries: list[int]) -> list[Segment]:
    """Segments from boundary frames: each moved to the quietest frame of its valley."""
    a, b = analysis.start, analysis.end
    evidence, level, silent = analysis.evidence, analysis.level, analysis.silent
    placed: list[tuple[int, int]] = []  # (end of the syllable before, start of the next)
    min_len = _frames(MIN_SYLLABLE_SECONDS)
    previous = a  # start of the syllable before the boundary
    for i, t in enumerate(boundaries):
        # keep every syllable at least min_len long: this one, and the next up to
        # the next boundary (not placed yet) or the end of the speech
        low = previous + min_len
        high = (boundaries[i + 1] if i + 1 < len(boundaries) else b - 1) - min_len
        if low > high:  # no room to move: keep the boundary of the dynamic programming
            placed.append((t, t))
            previous = t
            continue
        floor = _PLACE_FRACTION * evidence[t]
        t = min(max(t, low), high)
        u = t
        while u > max(low, t - _PLACE_REACH_FRAMES) and evidence[u - 1] > floor:
            u -= 1
        v = t
        while v < min(high, t + _PLACE_REACH_FRAMES) and evidence[v + 1] > floor:
            v += 1
        t = u + int(np.argmin(level[u : v + 1]))
        if silent[t]:  # a pause: it belongs to neither syllable
            s0 = t
            while s0 > low and silent[s0 - 1]:
                s0 -= 1
            s1 = t
            while s1 < high and silent[s1]:
                s1 += 1
            placed.append((s0, s1))
        else:
            placed.append((t, t))
        previous = placed[-1][1]
    starts = [a] + [s1 for _, s1 in placed]
    ends = [s0 for s0, _ in placed] + [b - 1]  # the last frame of speech, at its centre
    return [Segment(_seconds(s), _seconds(e)) for s, e in zip(starts, ends, strict=True)]


__all__ = [
    "HOP_SECONDS",
    "MAX_COUNT_SECONDS",
    "MAX_SECONDS",
    "MIN_SYLLABLE_SECONDS",
    "Segment",
    "as_segment",
    "count_syllables",
    "segment",
    "speech_span",
]
