"""Scoring one spoken word: the tones expected, the tones heard, and a verdict per syllable.

`score(waveform, "ni3 hao3")` is for a learner who recorded a word and wants
to know which syllable's tone was off. It

1. derives the citation and the expected spoken (surface) tone of each
   syllable from the pinyin (`keras_tone.pinyin.expected_tones`: 3-3 -> 2-3,
   and the 一/不 rules when `hanzi` is given);
2. cuts the recording into that many syllables
   (`keras_tone.segmentation.segment`), once it has counted the syllables
   it hears (`keras_tone.segmentation.count_syllables`); or takes the
   boundaries it is given (e.g. from a TextGrid,
   `keras_tone.textgrid.read_intervals`);
3. runs the syllables through the front end of a ToneNet that takes a
   speaker context (`keras_tone.runner.Runner.features`: their images,
   pitch histograms and voiced seconds, in one pass), and refuses, with the
   reason (`keras_tone.gate.NoToneError`), a recording whose syllables hold
   too little voiced speech for a tone (`keras_tone.gate.refusal`: silence,
   noise, a test tone, a fragment), or in which it counted clearly more or
   fewer syllables than expected (`keras_tone.gate.count_refusal`: a
   two-syllable word checked as one);
4. classifies each syllable, the context of a syllable being the other
   syllables of the word (plus, when given, a speaker context made from
   other recordings of the same speaker):
   `keras_tone.runner.Runner.classify(features, groups=...)`;
5. gives each syllable a verdict.

Verdicts (`VERDICTS`), with `unsure_below` = `UNSURE_BELOW` (0.5) by default:

* `"ok"`: the most probable tone is the expected surface tone, with a
  probability of at least `unsure_below`;
* `"wrong tone"`: another tone is the most probable, with a probability of
  at least `unsure_below`;
* `"unsure"`: no tone reaches `unsure_below`: the model hesitates between
  tones, and its reading should not be trusted either way;
* `"not judged"`: the expected tone is neutral and the model knows tones 1-4
  only (a 4-class model, such as `blcu`).

The word's verdict is `"wrong tone"` if any syllable has it, else `"unsure"`
if any syllable has it, else `"ok"`; syllables not judged are left out (a
word of which none is judged is `"not judged"`).

The threshold is a probability of the model, not a measured error rate: a
wrong reading above 0.5 happens, more often on voices unlike the training
speakers. Half the probability mass is the lowest value at which the heard
tone is more probable than all others together.

Example:
    >>> import numpy as np
    >>> from keras_tone.scoring import verdict
    >>> verdict(np.array([0.05, 0.8, 0.1, 0.05, 0.0]), expected=2)
    'ok'
    >>> verdict(np.array([0.05, 0.3, 0.45, 0.2, 0.0]), expected=2)
    'unsure'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypedDict

import numpy as np

from keras_tone._keras import keras
from keras_tone.config import SAMPLE_RATE
from keras_tone.tonenet import WeightsHandle

#: The model `score` and `keras-tone check` use unless told otherwise: ToneNet
#: trained on isolated syllables and on syllables of words, 5 classes.
WORDS_PRESET = "blcu-words"

#: Below this probability of the most probable tone, a syllable is `"unsure"`.
UNSURE_BELOW = 0.5

#: The verdicts of a syllable (and of a word), from best to worst.
VERDICTS = ("ok", "unsure", "wrong tone", "not judged")


class SyllableScore(TypedDict):
    """What `score` says about one syllable (a plain dict).

    Keys:
        pinyin: the citation reading with its tone digit, e.g. `"hao3"`.
        hanzi: its character, or `None` when no characters were given.
        start, end: where it lies in the recording, in seconds.
        citation: the dictionary tone, 1-5 (5 = neutral).
        expected: the tone expected in speech after tone sandhi (surface), 1-5.
        rule: the sandhi rule that made `expected` differ from `citation`
            (`"third-tone"`, `"yi"`, `"bu"`, `"reduplication"`), or `None`.
        heard: the most probable tone, 1-5 (1-4 with a 4-class model).
        probability: its probability.
        expected_probability: the probability of `expected`; `None` when
            not judged.
        probabilities: the probability of each tone, tones 1, 2, ... in order.
        verdict: `"ok"`, `"wrong tone"`, `"unsure"` or `"not judged"`.
    """

    pinyin: str
    hanzi: str | None
    start: float
    end: float
    citation: int
    expected: int
    rule: str | None
    heard: int
    probability: float
    expected_probability: float | None
    probabilities: list[float]
    verdict: str


class WordScore(TypedDict):
    """What `score` returns for a word (a plain dict, ready for `json.dumps`).

    Keys:
        pinyin: the citation reading, one syllable per space (`"ni3 hao3"`).
        hanzi: the characters given, or `None`.
        expected: the expected surface tone of each syllable.
        heard: the most probable tone of each syllable.
        verdict: the word's verdict (module docstring).
        counts: how many syllables got each verdict, `{"ok": 2, ...}`.
        classes: the model's classes, 4 or 5.
        unsure_below: the threshold the verdicts used.
        duration: the recording's length in seconds.
        syllables: one `SyllableScore` per syllable, in order.
    """

    pinyin: str
    hanzi: str | None
    expected: list[int]
    heard: list[int]
    verdict: str
    counts: dict[str, int]
    classes: int
    unsure_below: float
    duration: float
    syllables: list[SyllableScore]


def score(
    waveform: np.ndarray,
    expected: str | Sequence[str],
    *,
    sample_rate: int = SAMPLE_RATE,
    hanzi: str | None = None,
    weights: WeightsHandle | keras.Model = WORDS_PRESET,
    boundaries: Sequence[Any] | None = None,
    speaker_context: np.ndarray | None = None,
    unsure_below: float = UNSURE_BELOW,
) -> WordScore:
    """Check the tones of a recorded word against the tones it should have.

    Args:
        waveform: the recording of one word or short phrase, `[samples]`
            (or `[samples, channels]`; integer PCM is scaled), leading and
            trailing silence allowed.
        expected: its citation pinyin, with tone digits or marks
            (`"ni3 hao3"`, `"nǐ hǎo"`; anything
            `keras_tone.pinyin.parse_pinyin` reads), or a list of syllables.
            Sandhi is applied here: give the dictionary tones.
        sample_rate: the sampling rate of `waveform` in Hz (at least 8000);
            the audio is resampled to the model's.
        hanzi: the characters, one per syllable (`"你好"`); needed for the
            一/不 sandhi rules, and reported per syllable.
        weights: the model: anything `keras_tone.load_model` accepts (a
            preset name, default `WORDS_PRESET`; an `hf://` handle; a preset
            folder; a weights file), or a `keras.Model` taking a speaker
            context (`keras_tone.load_model(handle, speaker_context=True)`).
            Pass a model when scoring many words, to load it once.
        boundaries: the syllables' intervals in seconds, one per syllable:
            `(start, end)` pairs or objects with `start` and `end` (the
            intervals of a TextGrid tier); `None` to find them with
            `keras_tone.segmentation.segment` (and to compare their count
            with the syllables expected).
        speaker_context: a `[P]` speaker context from other recordings of
            the same speaker (`keras_tone.speaker_context(clips)`), added to
            the context that the word's other syllables give each syllable.
        unsure_below: the probability under which a syllable is `"unsure"`.

    Returns:
        A `WordScore` dict: per syllable its pinyin, interval, citation and
        expected tone (and the sandhi rule), heard tone, probabilities and
        verdict, and the word's verdict.

    Raises:
        keras_tone.gate.NoToneError: (a `ValueError`) no verdicts, and its
            `reason` says why: its syllables (the whole recording, when it
            cannot be cut) hold too little voiced speech for a tone, or
            clearly more or fewer syllables than expected (counted when
            `boundaries` is None and the recording is at most
            `keras_tone.segmentation.MAX_COUNT_SECONDS` long).
        ValueError: the pinyin cannot be read, or `hanzi` has a different
            number of characters; the waveform is empty, silent, has NaN/Inf
            or is longer than 30 s; the recording is too short for the
            expected syllables; `boundaries` has not one interval per
            syllable, or one is empty or outside the recording; a syllable's
            interval is silent; `speaker_context` has the wrong shape;
            `unsure_below` is not in [0, 1]; the model takes no speaker context.

    Example:
        >>> import numpy as np
        >>> import keras_tone
        >>> sr = 16000
        >>> def syllable(f0_start, f0_end, seconds=0.3):
        ...     f0 = np.linspace(f0_start, f0_end, int(seconds * sr))
        ...     phase = 2 * np.pi * np.cumsum(f0) / sr
        ...     return 0.3 * np.hanning(f0.size) * sum(np.sin(k * phase) / k for k in range(1, 9))
        >>> word = np.concatenate([np.zeros(1600), syllable(170, 250), syllable(190, 150)])
        >>> result = keras_tone.score(word, "ni3 hao3", hanzi="你好")  # doctest: +SKIP
        >>> [(s["pinyin"], s["expected"], s["rule"]) for s in result["syllables"]]  # doctest: +SKIP
        [('ni3', 2, 'third-tone'), ('hao3', 3, None)]
        >>> result["verdict"] in keras_tone.scoring.VERDICTS  # doctest: +SKIP
        True
    """
    from keras_tone.audio import cut, resample, to_mono_float
    from keras_tone.gate import NoToneError, refusal
    from keras_tone.pinyin import expected_tones
    from keras_tone.runner import Runner
    from keras_tone.segmentation import as_segment, segment
    from keras_tone.tonenet import load_model

    syllables = expected_tones(expected, hanzi)
    if not 0.0 <= unsure_below <= 1.0:
        raise ValueError(f"unsure_below must be in [0, 1]. Received: unsure_below={unsure_below}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise ValueError(
            f"sample_rate must be an integer in Hz. Received: sample_rate={sample_rate!r}"
        )
    wave = to_mono_float(waveform, name="waveform")
    if boundaries is not None and len(boundaries) != len(syllables):
        raise ValueError(
            f"boundaries has {len(boundaries)} intervals for the {len(syllables)} syllables of "
            f"{' '.join(s.pinyin for s in syllables)!r}; give one interval per syllable."
        )
    runner = Runner(load_model(weights, speaker_context=True))
    rate = runner.sample_rate
    resampled = resample(wave, sample_rate, rate)
    count = None if boundaries is not None else _count_refusal(wave, sample_rate, len(syllables))
    segments: list[Any] = []
    problem: ValueError | None = None
    if count is None:
        try:
            if boundaries is None:
                segments = segment(wave, sample_rate, len(syllables))
            else:
                segments = [as_segment(item) for item in boundaries]
            clips = cut(resampled, rate, segments)
        except ValueError as error:
            problem = error
    if count is not None or problem is not None:
        clips = [resampled]  # not cut into syllables: the gate hears the whole recording
    # One front-end pass gives the syllables' images, pitch histograms and
    # voiced seconds: the gate decides from the latter, summed, before the
    # syllable count and the cutting say what else is wrong.
    features = runner.features(clips)
    reason = refusal(float(features.voiced_seconds.sum()), resampled.size / rate) or count
    if reason is not None:
        raise NoToneError(reason, f"No verdicts for this recording: {reason}.")
    if problem is not None:
        raise problem
    for span, clip, syllable in zip(segments, clips, syllables, strict=True):
        if not np.any(clip):
            raise ValueError(
                f"The interval of {syllable.pinyin} ({span.start:.2f}-{span.end:.2f} s) is "
                "silent; check the boundaries."
            )
    context = _checked_context(speaker_context, runner.context_size)
    probabilities = runner.classify(features, context, groups=[0] * len(clips))
    classes = int(probabilities.shape[1])
    scores: list[SyllableScore] = []
    for syllable, (start, end), probs in zip(syllables, segments, probabilities, strict=True):
        judged = syllable.surface <= classes
        heard = int(np.argmax(probs))
        scores.append(
            SyllableScore(
                pinyin=syllable.pinyin,
                hanzi=syllable.hanzi,
                start=start,
                end=end,
                citation=syllable.citation,
                expected=syllable.surface,
                rule=syllable.rule,
                heard=heard + 1,
                probability=float(probs[heard]),
                expected_probability=float(probs[syllable.surface - 1]) if judged else None,
                probabilities=[float(p) for p in probs],
                verdict=verdict(probs, syllable.surface, unsure_below=unsure_below),
            )
        )
    verdicts = [s["verdict"] for s in scores]
    return WordScore(
        pinyin=" ".join(s.pinyin for s in syllables),
        hanzi=hanzi,
        expected=[s.surface for s in syllables],
        heard=[s["heard"] for s in scores],
        verdict=word_verdict(verdicts),
        counts={name: verdicts.count(name) for name in VERDICTS},
        classes=classes,
        unsure_below=float(unsure_below),
        duration=round(wave.size / sample_rate, 6),
        syllables=scores,
    )


def verdict(probabilities: np.ndarray, expected: int, *, unsure_below: float = UNSURE_BELOW) -> str:
    """The verdict on one syllable from its tone probabilities (module docstring).

    Args:
        probabilities: `[classes]`, tones 1, 2, ... in order (4 or 5 classes).
        expected: the expected surface tone, 1-5.
        unsure_below: the probability under which the syllable is `"unsure"`.

    Returns:
        `"ok"`, `"wrong tone"`, `"unsure"` or `"not judged"` (a neutral
        tone expected of a model without the neutral class).

    Example:
        >>> import numpy as np
        >>> from keras_tone.scoring import verdict
        >>> verdict(np.array([0.1, 0.1, 0.7, 0.1]), expected=2)
        'wrong tone'
        >>> verdict(np.array([0.1, 0.1, 0.7, 0.1]), expected=5)
        'not judged'
    """
    probabilities = np.asarray(probabilities)
    if expected > probabilities.shape[-1]:
        return "not judged"
    heard = int(np.argmax(probabilities))
    if probabilities[heard] < unsure_below:
        return "unsure"
    return "ok" if heard + 1 == expected else "wrong tone"


def word_verdict(verdicts: Sequence[str]) -> str:
    """The word's verdict from its syllables': the worst of those judged.

    Example:
        >>> from keras_tone.scoring import word_verdict
        >>> word_verdict(["ok", "unsure"]), word_verdict(["not judged", "ok"])
        ('unsure', 'ok')
    """
    judged = [v for v in verdicts if v != "not judged"]
    if not judged:
        return "not judged"
    return max(judged, key=VERDICTS.index)


def write_textgrid(
    path: str | os.PathLike,
    result: WordScore,
    *,
    template: str | os.PathLike | None = None,
) -> None:
    """Write what `score` found to a Praat TextGrid, beside the recording.

    With `template` (the TextGrid the boundaries came from), its tiers are
    copied and a `"tones"` tier is added; without, the TextGrid gets a
    `"syllables"` tier (the pinyin) and the `"tones"` tier. Tone labels are
    `heard p=probability exp=expected` (`keras_tone.textgrid.tone_label`).

    Args:
        path: the TextGrid to write (overwritten).
        result: what `score` returned.
        template: a TextGrid whose tiers to copy, or `None`.

    Raises:
        ValueError: the template already has a `"tones"` tier, or cannot be read.

    Example:
        >>> import os, tempfile
        >>> from keras_tone.scoring import write_textgrid
        >>> from keras_tone.textgrid import read_intervals
        >>> result = {"duration": 1.0, "syllables": [
        ...     {"pinyin": "ni3", "start": 0.1, "end": 0.4, "heard": 2, "probability": 0.8,
        ...      "expected": 2},
        ...     {"pinyin": "hao3", "start": 0.4, "end": 0.8, "heard": 4, "probability": 0.6,
        ...      "expected": 3}]}
        >>> path = os.path.join(tempfile.mkdtemp(), "nihao.TextGrid")
        >>> write_textgrid(path, result)
        >>> print([i.label for i in read_intervals(path, "syllables")])
        ['ni3', 'hao3']
        >>> print([i.label for i in read_intervals(path, "tones")])
        ['2 p=0.80 exp=2', '4 p=0.60 exp=3']
    """
    from keras_tone.textgrid import TONE_TIER, ToneInterval, write_tones

    syllables = result["syllables"]
    if template is None:
        names = [ToneInterval(s["start"], s["end"], label=s["pinyin"]) for s in syllables]
        write_tones(path, names, tier="syllables", duration=result["duration"])
        template = path
    tones = [
        ToneInterval(s["start"], s["end"], s["heard"], s["probability"], s["expected"])
        for s in syllables
    ]
    write_tones(path, tones, tier=TONE_TIER, template=template)


def _count_refusal(wave: np.ndarray, sample_rate: int, expected: int) -> str | None:
    """`keras_tone.gate.count_refusal` of the syllables counted in `wave`; None if uncountable."""
    from keras_tone.gate import count_refusal
    from keras_tone.segmentation import MAX_COUNT_SECONDS, count_syllables

    if wave.size > MAX_COUNT_SECONDS * sample_rate:
        return None
    try:
        found = count_syllables(wave, sample_rate)
    except ValueError:
        return None  # segment says what is wrong, with its own message
    return count_refusal(found, expected)


def _checked_context(context: np.ndarray | None, size: int) -> np.ndarray | None:
    if context is None:
        return None
    context = np.asarray(context, np.float32)
    if context.shape != (size,):
        raise ValueError(
            f"speaker_context must be one vector of {size} values, the summed pitch "
            "histograms of other recordings of the speaker (keras_tone.speaker_context(clips)). "
            f"Received: speaker_context.shape={context.shape}"
        )
    return context


__all__ = [
    "UNSURE_BELOW",
    "VERDICTS",
    "WORDS_PRESET",
    "SyllableScore",
    "WordScore",
    "score",
    "verdict",
    "word_verdict",
    "write_textgrid",
]
