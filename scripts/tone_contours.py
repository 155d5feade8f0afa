"""Median F0 contour of each tone of each speaker: how a corpus realises its tones.

    python scripts/tone_contours.py ../shared/data/*/manifest.csv [--clips 40]

For `--clips` random clips per speaker and tone, the syllable is high-passed
and trimmed as in ToneNet's front end (`keras_tone.tonenet.HIGHPASS`, then
25 dB below its loudest frame), its F0 tracked
with `librosa.pyin` (50-500 Hz), and the voiced part resampled to 5 points
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

import numpy as np

POINTS = 5


def contour(clip: np.ndarray, sample_rate: int) -> tuple[float, np.ndarray | None]:
    """(trimmed duration in s, F0 at `POINTS` points in semitones re 100 Hz, or None
    where pyin finds fewer than 4 voiced frames)."""
    import librosa

    from keras_tone import dsp, tonenet

    kernel = dsp.highpass_fir(sample_rate=sample_rate, **tonenet.HIGHPASS)
    filtered = np.convolve(clip, kernel, mode="same").astype(np.float32)
    top_db = tonenet.SYLLABLE["top_db"]
    trimmed, _ = librosa.effects.trim(filtered, top_db=top_db, frame_length=512, hop_length=160)
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
    rng = np.random.default_rng(args.seed)
    print(f"{'speaker':<18} tone  clips  duration  F0 contour, semitones re 100 Hz")
    for speaker in corpus.speaker_names():
        for label in range(4):
            index = np.flatnonzero((corpus.speakers == speaker) & (corpus.labels == label))
            chosen = rng.choice(index, min(args.clips, index.size), replace=False)
            durations, contours = [], []
            for i in chosen:
                duration, points = contour(corpus.waveforms[i], corpus.sample_rate)
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
