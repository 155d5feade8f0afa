"""Median F0 contour of each tone of each speaker: how a corpus realises its tones.

    python scripts/tone_contours.py ../shared/data/*/manifest.csv [--clips 40]

For `--clips` random clips per speaker and tone, the syllable is high-passed
and trimmed by ToneNet's own front end (`keras_tone.frontend.FrontEnd`, its
window widened to `MAX_SECONDS` so that long syllables are measured whole),
its F0 tracked with `librosa.pyin` (50-500 Hz), and the voiced part resampled
to 5 points
in semitones re 100 Hz. The table prints the median of those contours and
the median trimmed duration; `clips` counts the clips with a contour (pyin
loses creaky and very low voices). It is how the model cards' statements about the
speakers were measured: yali_F2's tone 3 falls without rising again (the half
third tone), hantts_M2's tone 4 falls into the register of its tone 3.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

POINTS = 5

#: The front end's window for this measurement: long enough for every syllable.
MAX_SECONDS = 3.0


def syllable_front_end(sample_rate: int) -> Any:
    """ToneNet's front end at `sample_rate`, fitting syllables into `MAX_SECONDS`."""
    from keras_tone.config import ToneNetConfig
    from keras_tone.frontend import FrontEnd

    config = ToneNetConfig(sample_rate=sample_rate)
    syllable = replace(config.front_end.syllable, duration=MAX_SECONDS)
    return FrontEnd(replace(config, front_end=replace(config.front_end, syllable=syllable)))


def contour(clip: np.ndarray, front_end: Any) -> tuple[float, np.ndarray | None]:
    """(trimmed duration in s, F0 at `POINTS` points in semitones re 100 Hz, or None
    where pyin finds fewer than 4 voiced frames)."""
    import librosa

    sample_rate = front_end.sample_rate
    syllable = np.asarray(front_end.normalize(clip[None]))[0]
    trimmed = syllable[: np.flatnonzero(syllable)[-1] + 1] if np.any(syllable) else syllable
    f0, voiced, _ = librosa.pyin(
        trimmed, fmin=50.0, fmax=500.0, sr=sample_rate, frame_length=1024, hop_length=160
    )
    duration = trimmed.size / sample_rate
    index = np.flatnonzero(voiced)
    if index.size < 4:
        return duration, None
    semitones = 12 * np.log2(f0[index[0] : index[-1] + 1] / 100.0)
    semitones = np.where(np.isnan(semitones), np.nanmedian(semitones), semitones)
    positions = np.linspace(0, semitones.size - 1, POINTS)
    return duration, np.interp(positions, np.arange(semitones.size), semitones)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", nargs="+", help="manifest CSV(s)")
    parser.add_argument("--clips", type=int, default=40, help="clips per speaker and tone")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from keras_tone.datasets import load_corpus

    corpus = load_corpus(args.manifests, classes=4)
    front_end = syllable_front_end(corpus.sample_rate)
    rng = np.random.default_rng(args.seed)
    print(f"{'speaker':<18} tone  clips  duration  F0 contour, semitones re 100 Hz")
    for speaker in corpus.speaker_names():
        for label in range(4):
            index = np.flatnonzero((corpus.speakers == speaker) & (corpus.labels == label))
            chosen = rng.choice(index, min(args.clips, index.size), replace=False)
            durations, contours = [], []
            for i in chosen:
                duration, points = contour(corpus.waveforms[i], front_end)
                durations.append(duration)
                if points is not None:
                    contours.append(points)
            shape = np.median(contours, axis=0) if contours else np.full(POINTS, np.nan)
            print(
                f"{speaker:<18} T{label + 1}   {len(contours):>5}  {np.median(durations):6.2f} s  "
                + " ".join(f"{v:6.1f}" for v in shape)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
