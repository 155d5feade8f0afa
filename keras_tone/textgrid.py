"""Praat TextGrids: syllable intervals in, tones out as a new tier.

A phonetician's recording often comes with a TextGrid whose interval tier
marks the syllables (labels such as `ni3`, `hao3`, or empty for silence).
`read_intervals` reads that tier; `write_tones` writes one interval per
classified syllable to a new tier, into a copy of that TextGrid or into a
new one, so the result opens in Praat beside the recording.

Reading and writing go through `praatio` (a maintained TextGrid library:
short and long text formats, UTF-8 and UTF-16 files as Praat writes them).

Labels of the tone tier: the heard tone, its probability and, when known,
the expected tone, e.g. `2 p=0.87 exp=3` (see `tone_label`).

Example:
    >>> import os, tempfile
    >>> from keras_tone.textgrid import read_intervals, write_tones, ToneInterval
    >>> folder = tempfile.mkdtemp()
    >>> syllables = os.path.join(folder, "nihao.TextGrid")
    >>> write_tones(syllables, [ToneInterval(0.1, 0.4, label="ni3"),
    ...                         ToneInterval(0.4, 0.8, label="hao3")],
    ...             tier="syllables", duration=1.0)
    >>> intervals = read_intervals(syllables, "syllables")
    >>> print([(i.start, i.end, i.label) for i in intervals])
    [(0.1, 0.4, 'ni3'), (0.4, 0.8, 'hao3')]
    >>> write_tones(os.path.join(folder, "out.TextGrid"),
    ...             [ToneInterval(0.1, 0.4, 2, 0.91, expected=2),
    ...              ToneInterval(0.4, 0.8, 3, 0.62, expected=3)],
    ...             template=syllables)
    >>> read_intervals(os.path.join(folder, "out.TextGrid"), "tones")[0].label
    '2 p=0.91 exp=2'
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Default name of the tier that `write_tones` adds.
TONE_TIER = "tones"


@dataclass(frozen=True)
class Interval:
    """A labelled interval of a TextGrid tier, times in seconds."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class ToneInterval:
    """What `write_tones` writes for one syllable.

    Attributes:
        start, end: the syllable's interval in seconds.
        tone: the heard (predicted) tone, 1-5, or `None`.
        probability: the model's probability of `tone`, or `None`.
        expected: the expected (surface) tone, or `None`.
        label: a label to write instead of the one made from the other
            fields (`tone_label`), e.g. a syllable name.
    """

    start: float
    end: float
    tone: int | None = None
    probability: float | None = None
    expected: int | None = None
    label: str | None = None


def _praatio():
    try:
        from praatio import textgrid
    except ImportError as error:  # a dependency of keras_tone; missing only in odd installs
        raise ImportError(
            "Reading and writing TextGrids needs praatio: `pip install praatio`."
        ) from error
    return textgrid


def read_intervals(path: str | os.PathLike, tier: str) -> list[Interval]:
    """The labelled intervals of one interval tier of a TextGrid.

    Intervals whose label is empty or only whitespace (silence, in most
    annotations) are left out; labels are stripped.

    Args:
        path: the TextGrid file (Praat's long or short text format).
        tier: the name of an interval tier, e.g. `"syllables"`.

    Returns:
        The intervals in time order.

    Raises:
        FileNotFoundError: there is no file at `path`.
        ValueError: the file is not a TextGrid praatio can read, it has no
            tier named `tier` (the message lists the tiers it has), or that
            tier is a point tier.

    Example:
        >>> from keras_tone.textgrid import read_intervals
        >>> read_intervals("nihao.TextGrid", "syllables")  # doctest: +SKIP
        [Interval(start=0.1, end=0.4, label='ni3'), Interval(start=0.4, end=0.8, label='hao3')]
    """
    grid = _open(path)
    if tier not in grid.tierNames:
        raise ValueError(
            f"TextGrid {str(path)!r} has no tier named {tier!r}; its tiers are "
            f"{', '.join(repr(n) for n in grid.tierNames) or '(none)'}."
        )
    found = grid.getTier(tier)
    if found.entryType.__name__ != "Interval":
        raise ValueError(
            f"Tier {tier!r} of TextGrid {str(path)!r} is a point tier; syllables "
            "must be an interval tier."
        )
    intervals = [
        Interval(float(entry.start), float(entry.end), entry.label.strip())
        for entry in found.entries
        if entry.label.strip()
    ]
    return sorted(intervals, key=lambda interval: interval.start)


def _open(path: str | os.PathLike):
    textgrid = _praatio()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No TextGrid at {str(path)!r}.")
    try:
        return textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    except Exception as error:  # praatio raises several unrelated types on bad files
        raise ValueError(
            f"Could not read {str(path)!r} as a Praat TextGrid ({type(error).__name__}: {error})."
        ) from error


def tone_label(
    tone: int | None, probability: float | None = None, expected: int | None = None
) -> str:
    """The label `write_tones` gives a syllable: `"2 p=0.87 exp=3"`.

    Args:
        tone: the heard tone (1-5), or `None` (written `?`).
        probability: its probability, written with two decimals; left out if `None`.
        expected: the expected tone; left out if `None`.

    Returns:
        The label.

    Example:
        >>> from keras_tone.textgrid import tone_label
        >>> tone_label(2, 0.8712, expected=3), tone_label(4), tone_label(None, expected=1)
        ('2 p=0.87 exp=3', '4', '? exp=1')
    """
    parts = ["?" if tone is None else str(int(tone))]
    if probability is not None:
        parts.append(f"p={float(probability):.2f}")
    if expected is not None:
        parts.append(f"exp={int(expected)}")
    return " ".join(parts)


def write_tones(
    path: str | os.PathLike,
    tones: Sequence[ToneInterval | Mapping[str, Any]],
    *,
    tier: str = TONE_TIER,
    template: str | os.PathLike | None = None,
    duration: float | None = None,
    replace: bool = False,
) -> None:
    """Write one interval per syllable to a tier of a TextGrid (Praat's long text format).

    Args:
        path: the TextGrid to write (overwritten if it exists).
        tones: one `ToneInterval` per syllable, or mappings with the same
            keys (`start`, `end`, and any of `tone`, `probability`,
            `expected`, `label`; other keys are ignored, so per-syllable
            result dicts can be passed as they are). Labels come from
            `tone_label` unless `label` is given. Gaps between them are written as empty
            intervals, as Praat does.
        tier: the name of the new tier.
        template: a TextGrid whose tiers are copied first (typically the one
            the syllables were read from); the new tier goes after them.
        duration: the length of the TextGrid in seconds; by default the
            template's, else the end of the last syllable.
        replace: replace a tier of the template that has the name `tier`
            instead of raising.

    Raises:
        FileNotFoundError: `template` does not exist.
        ValueError: an interval has `start >= end`, a negative start, or
            overlaps the one before it (intervals must be in time order); one
            ends after `duration`; or the template already has a tier named
            `tier` and `replace` is False.

    Example:
        >>> import os, tempfile
        >>> from keras_tone.textgrid import write_tones
        >>> path = os.path.join(tempfile.mkdtemp(), "tones.TextGrid")
        >>> write_tones(path, [{"start": 0.2, "end": 0.5, "tone": 4, "probability": 0.9}])
        >>> "4 p=0.90" in open(path, encoding="utf-8").read()
        True
    """
    textgrid = _praatio()
    items = [_tone_interval(t, i) for i, t in enumerate(tones)]
    previous_end = 0.0
    for i, item in enumerate(items):
        if not (math.isfinite(item.start) and math.isfinite(item.end)) or item.start < 0:
            raise ValueError(
                f"Interval {i} has start={item.start}, end={item.end}; times must be >= 0."
            )
        if item.start >= item.end:
            raise ValueError(
                f"Interval {i} has start={item.start} >= end={item.end}; each interval "
                "must have a positive length."
            )
        if item.start < previous_end - 1e-9:
            raise ValueError(
                f"Interval {i} starts at {item.start} s, before interval {i - 1} ends "
                f"({previous_end} s); intervals must be in time order and not overlap."
            )
        previous_end = item.end

    grid = _open(template) if template is not None else textgrid.Textgrid()
    if tier in grid.tierNames:
        if not replace:
            raise ValueError(
                f"TextGrid {str(template)!r} already has a tier named {tier!r}; pass "
                "another tier= or replace=True."
            )
        grid.removeTier(tier)
    if duration is None:
        duration = max([grid.maxTimestamp if template is not None else 0.0, previous_end])
    if previous_end > duration + 1e-9:
        raise ValueError(
            f"The last interval ends at {previous_end} s, after the TextGrid's end "
            f"(duration={duration} s)."
        )
    entries = [
        (item.start, item.end, item.label if item.label is not None else _label(item))
        for item in items
    ]
    new_tier = textgrid.IntervalTier(tier, entries, minT=0.0, maxT=float(duration))
    grid.addTier(new_tier)
    grid.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def _label(item: ToneInterval) -> str:
    return tone_label(item.tone, item.probability, item.expected)


def _tone_interval(value: ToneInterval | Mapping[str, Any], index: int) -> ToneInterval:
    if isinstance(value, ToneInterval):
        return ToneInterval(
            float(value.start),
            float(value.end),
            value.tone,
            value.probability,
            value.expected,
            value.label,
        )
    if isinstance(value, Mapping):
        unknown = set(value) - {"start", "end", "tone", "probability", "expected", "label"}
        missing = {"start", "end"} - set(value)
        if missing:
            raise ValueError(
                f"Interval {index} lacks {', '.join(sorted(missing))}: {dict(value)!r}."
            )
        known = {k: v for k, v in value.items() if k not in unknown}
        known["start"], known["end"] = float(known["start"]), float(known["end"])
        return ToneInterval(**known)
    raise ValueError(
        f"Interval {index} is a {type(value).__name__}; expected a ToneInterval or a "
        "mapping with start, end, tone, probability, expected."
    )


__all__ = [
    "TONE_TIER",
    "Interval",
    "ToneInterval",
    "read_intervals",
    "tone_label",
    "write_tones",
]
