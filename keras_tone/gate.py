"""The clip gate: whether a clip holds enough voiced speech to be given a tone, and why not.

Every entry point that gives a tone or a verdict asks the same question
through `refusal`: `predict_files` (and `keras-tone predict`), `score` (and
`keras-tone check`), `keras-tone plot` and `evaluate`. Silence, noise, hum,
a test tone or a 50 ms fragment get a confident-looking answer from any
classifier; that is not an answer, so they get a reason instead.

The decision is a pure function of the clip's voiced seconds, as
`keras_tone.layers.VoicedSpeech` measures them, and of its length. The
voiced seconds come from the pass that gives the clip's probabilities
(`keras_tone.runner.Runner`: its front end runs `VoicedSpeech` beside
ToneNet's), so no clip is measured twice. `check` and `score` also compare the
syllables counted in a word's recording with those expected
(`count_refusal`). The thresholds are named constants, measured on
recordings and generated non-speech (docs: Troubleshooting, "No tone";
`scripts/gate_report.py`).

Example:
    >>> from keras_tone.gate import refusal
    >>> refusal(0.41) is None
    True
    >>> refusal(0.0)
    'no voiced speech: silence, noise, hum or a pure tone has no tone'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: A clip is given a tone only when `VoicedSpeech` finds at least this many
#: seconds of voiced speech in it (four of its 16 ms hops: a 50 ms fragment
#: of a syllable holds at most three).
MIN_VOICED_SECONDS = 0.064

#: ... and when that is at least this share of the clip's length: long
#: recordings of noise gather stray voiced frames (up to 0.064 s in 30 s).
MIN_VOICED_SHARE = 0.02

#: `check` and `score` give no verdicts when the syllables they count in a
#: recording are at least this many times those expected, or fewer than
#: those expected divided by it (a two-syllable word checked as one syllable;
#: eight syllables expected in 0.7 s of speech).
MAX_COUNT_RATIO = 2.0


class NoToneError(ValueError):
    """A clip or a word that gets no tone or verdict; `reason` says why.

    Attributes:
        reason: one phrase without the file's name (`refusal`,
            `count_refusal`).
    """

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


def refusal(voiced_seconds: float | None, seconds: float | None = None) -> str | None:
    """Why a clip gets no tone, or `None` when it holds enough voiced speech.

    Args:
        voiced_seconds: the clip's voiced speech in seconds
            (`keras_tone.layers.VoicedSpeech`, `voiced_seconds`), NaN for a
            clip with NaN or Inf samples, `None` when it was not measured.
        seconds: the clip's length in seconds, for `MIN_VOICED_SHARE`;
            `None` leaves that rule out.

    Returns:
        `None`, or one phrase that says why (for a report that names the
        clip itself).

    Example:
        >>> from keras_tone.gate import refusal
        >>> refusal(0.05)
        'too little voiced speech (0.05 s; a tone needs at least 0.06 s)'
        >>> print(refusal(0.1, seconds=30.0))  # doctest: +ELLIPSIS
        too little voiced speech for its length (0.10 s in 30.0 s; a tone needs 2% of ...
        >>> refusal(float("nan"))
        'NaN or Inf samples: clean the audio first'
    """
    if voiced_seconds is None:
        return "not measured for voiced speech"
    if not math.isfinite(voiced_seconds):
        return "NaN or Inf samples: clean the audio first"
    if voiced_seconds <= 0.0:
        return "no voiced speech: silence, noise, hum or a pure tone has no tone"
    if voiced_seconds < MIN_VOICED_SECONDS - 1e-6:
        return (
            f"too little voiced speech ({voiced_seconds:.2f} s; a tone needs at least "
            f"{MIN_VOICED_SECONDS:.2f} s)"
        )
    if seconds is not None and voiced_seconds < MIN_VOICED_SHARE * seconds:
        return (
            f"too little voiced speech for its length ({voiced_seconds:.2f} s in "
            f"{seconds:.1f} s; a tone needs {MIN_VOICED_SHARE:.0%} of the clip): cut the "
            "syllable out of the recording"
        )
    return None


def count_refusal(found: int, expected: int) -> str | None:
    """Why a word gets no verdicts when `found` syllables were counted and `expected` expected.

    Counting is an estimate (`keras_tone.segmentation.count_syllables`), so
    only a clear disagreement refuses (`MAX_COUNT_RATIO`).

    Example:
        >>> from keras_tone.gate import count_refusal
        >>> count_refusal(3, 2) is None
        True
        >>> print(count_refusal(2, 1))  # doctest: +ELLIPSIS
        the recording holds about 2 syllables, not the 1 expected: check the pinyin, ...
    """
    if found >= MAX_COUNT_RATIO * expected or found * MAX_COUNT_RATIO < expected:
        return (
            f"the recording holds about {found} syllable{'s' if found != 1 else ''}, not the "
            f"{expected} expected: check the pinyin, and that the recording holds that word alone"
        )
    return None


def refusals(voiced_seconds: Sequence[float], seconds: Sequence[float]) -> list[str | None]:
    """`refusal` of each clip, from its voiced seconds and its length in seconds.

    The voiced seconds are what `keras_tone.runner.Runner` gives with the
    clips' probabilities (`Predictions.voiced_seconds`, `ClipFeatures.voiced_seconds`).

    Example:
        >>> import numpy as np
        >>> import keras_tone
        >>> from keras_tone.gate import refusals
        >>> from keras_tone.runner import Runner
        >>> t = np.arange(8000) / 16000
        >>> vowel = 0.1 * sum(np.sin(2 * np.pi * 180 * k * t) / k**1.5 for k in range(1, 20))
        >>> clips = [vowel, np.zeros(8000)]
        >>> out = Runner(keras_tone.ToneNet(weights=None)).predict(clips)
        >>> refusals(out.voiced_seconds, [clip.size / 16000 for clip in clips])
        [None, 'no voiced speech: silence, noise, hum or a pure tone has no tone']
    """
    return [
        refusal(float(voiced), float(length))
        for voiced, length in zip(voiced_seconds, seconds, strict=True)
    ]


__all__ = [
    "MAX_COUNT_RATIO",
    "MIN_VOICED_SECONDS",
    "MIN_VOICED_SHARE",
    "NoToneError",
    "count_refusal",
    "refusal",
    "refusals",
]
