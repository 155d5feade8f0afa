"""How well `keras_tone.segmentation` finds syllables: pseudo-words and real words.

    python scripts/segmentation_report.py [--shared ../shared] [--out runs/segmentation]
                                          [--words-every 1] [--figures 6]

Two measurements, printed as Markdown and written to `OUT/report.json`:

1. **Pseudo-words with known boundaries.** For each of the seven human
   speakers of `SHARED/data`, 100 words of 1-5 syllables (uniform), each
   syllable a random clip of that speaker. Each clip is cut to where its
   level above 250 Hz is within 30 dB of its peak and 10 dB above its own
   noise floor (two sources carry low-frequency hum that would otherwise
   count as part of the syllable), scaled to a random gain (+-4 dB), and
   joined to the one before by a pause of 20-150 ms, end to end, or by a
   10-50 ms crossfade (one of the three at random); the word gets 150-300 ms
   of silence on each side and a noise floor at -60 dB. The true boundary is
   the middle of the pause, the join, or the middle of the crossfade. A
   second set plays every syllable faster (phase vocoder, pitch kept: x1.2-1.8
   for all but the last, x1.0-1.3 for the last), since isolated syllables
   last longer than syllables in words. The boundary found is the middle
   between one syllable's end and the next one's start, with the number of
   syllables given. `count_syllables` is scored on the same words.
   The method's constants were chosen on the even-numbered words (dev);
   the report gives the odd-numbered ones (test) and all.

2. **The word recordings** of `SHARED/words` (a human voice, and a
   synthetic voice whose words were used to choose the constants), where
   boundaries are unknown: `count_syllables` against the number of syllables
   of the pinyin, per folder and syllable count, and the duration of each
   syllable position found with the number given.

`--figures N` draws N random words of each set to `OUT/*.png` for looking
at by eye: spectrogram, level (blue), boundary evidence (black), each
syllable's start (green) and end (dotted red), and for pseudo-words the
true boundaries (wide orange).
Runs in a few minutes on two CPU cores (decoding the MP3s is most of it).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SR = 16000
SPEAKERS = (
    "pffy_f1",
    "losttheory_m1",
    "audiocmn_yuetan",
    "audiocmn_chenwang",
    "yali_f2",
    "hantts_m2",
    "hotoo_f3",
)
WORD_FOLDERS = ("audiocmn_hsk", "cedicttts_msyn")


def trim(clip: np.ndarray) -> np.ndarray:
    """The clip from the first to the last frame whose level above 250 Hz is loud enough."""
    import librosa
    from scipy.signal import butter, sosfiltfilt

    highpassed = sosfiltfilt(butter(4, 250, "highpass", fs=SR, output="sos"), clip)
    level = 20 * np.log10(
        librosa.feature.rms(y=highpassed, frame_length=512, hop_length=64)[0] + 1e-9
    )
    floor = np.percentile(level, 10) + 10
    threshold = max(level.max() - 30, floor) if floor < level.max() - 10 else level.max() - 30
    loud = np.flatnonzero(level > threshold)
    return clip[loud[0] * 64 : min(clip.size, loud[-1] * 64 + 64)]


def pseudo_words(data: Path, *, faster: bool, per_speaker: int = 100, seed: int = 0) -> list[dict]:
    import librosa

    from keras_tone import load_audio

    rng = np.random.default_rng(seed)
    words = []
    for speaker in SPEAKERS:
        folder = data / speaker
        with (folder / "manifest.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for _ in range(per_speaker):
            n = int(rng.integers(1, 6))
            syllables = []
            for pick in rng.choice(len(rows), n, replace=False):
                clip = load_audio(folder / rows[pick]["path"], sample_rate=SR)
                clip = trim(clip)
                gain = 10 ** (rng.uniform(-4, 4) / 20)
                syllables.append(clip / (np.abs(clip).max() + 1e-9) * gain * 0.5)
            if faster:
                rates = [rng.uniform(1.2, 1.8) for _ in range(n - 1)] + [rng.uniform(1.0, 1.3)]
                syllables = [
                    librosa.effects.time_stretch(s, rate=r, n_fft=512)
                    for s, r in zip(syllables, rates, strict=True)
                ]
            parts = [np.zeros(int(rng.uniform(0.15, 0.3) * SR))]
            position = parts[0].size
            bounds, joins = [], []
            for k, clip in enumerate(syllables):
                clip = clip.copy()
                if k:
                    join = str(rng.choice(["pause", "join", "crossfade"]))
                    joins.append(join)
                    if join == "pause":
                        gap = int(rng.uniform(0.02, 0.15) * SR)
                        parts.append(np.zeros(gap))
                        bounds.append((position + gap / 2) / SR)
                        position += gap
                    elif join == "join":
                        bounds.append(position / SR)
                    else:
                        overlap = int(rng.uniform(0.01, 0.05) * SR)
                        overlap = min(overlap, clip.size // 3, parts[-1].size // 3)
                        fade = np.sin(np.linspace(0, np.pi / 2, overlap)) ** 2
                        parts[-1][-overlap:] = (
                            parts[-1][-overlap:] * (1 - fade) + clip[:overlap] * fade
                        )
                        clip = clip[overlap:]
                        bounds.append((position - overlap / 2) / SR)
                parts.append(clip)
                position += clip.size
            parts.append(np.zeros(int(rng.uniform(0.15, 0.3) * SR)))
            wave = np.concatenate(parts)
            wave += 10 ** (-60 / 20) * rng.standard_normal(wave.size)
            words.append(
                {
                    "speaker": speaker,
                    "n": n,
                    "wave": wave.astype(np.float32),
                    "bounds": np.array(bounds),
                    "joins": joins,
                }
            )
    return words


def score_pseudo(words: list[dict]) -> dict:
    from keras_tone.segmentation import count_syllables, segment

    errors, joins, speakers, counted = [], [], [], []
    seconds = 0.0
    for word in words:
        began = time.perf_counter()
        segments = segment(word["wave"], SR, word["n"])
        seconds += time.perf_counter() - began
        found = [(a.end + b.start) / 2 for a, b in zip(segments, segments[1:], strict=False)]
        errors += list(np.abs(np.array(found) - word["bounds"]) * 1000)
        joins += word["joins"]
        speakers += [word["speaker"]] * (word["n"] - 1)
        counted.append((word["n"], count_syllables(word["wave"], SR)))
    errors, joins, speakers = np.array(errors), np.array(joins), np.array(speakers)
    counted = np.array(counted)

    def summary(e: np.ndarray) -> dict:
        return {
            "boundaries": int(e.size),
            "median_ms": round(float(np.median(e)), 1),
            "p90_ms": round(float(np.percentile(e, 90)), 1),
            "within_30ms": round(float(np.mean(e <= 30)), 3),
            "within_50ms": round(float(np.mean(e <= 50)), 3),
        }

    return {
        "words": len(words),
        "ms_per_word": round(1000 * seconds / len(words), 2),
        "all": summary(errors),
        "by_join": {j: summary(errors[joins == j]) for j in ("pause", "join", "crossfade")},
        "by_speaker": {s: summary(errors[speakers == s]) for s in SPEAKERS},
        "count": count_summary(counted),
    }


def count_summary(counted: np.ndarray) -> dict:
    per_n = {}
    for n in sorted(set(counted[:, 0].tolist())):
        mine = counted[counted[:, 0] == n, 1]
        per_n[str(n)] = {
            "words": int(mine.size),
            "accuracy": round(float(np.mean(mine == n)), 3),
            "estimates": {str(k): int(np.sum(mine == k)) for k in sorted(set(mine.tolist()))},
        }
    return {
        "accuracy": round(float(np.mean(counted[:, 0] == counted[:, 1])), 3),
        "balanced_accuracy": round(float(np.mean([v["accuracy"] for v in per_n.values()])), 3),
        "per_n": per_n,
    }


def real_words(folder: Path, every: int) -> list[dict]:
    from keras_tone import load_audio

    with (folder / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::every]
    return [
        {
            "wave": load_audio(folder / row["path"], sample_rate=SR),
            "n": len(row["pinyin"].split()),
            "pinyin": row["pinyin"],
            "path": row["path"],
        }
        for row in rows
    ]


def score_real(words: list[dict]) -> dict:
    from keras_tone.segmentation import count_syllables, segment

    counted, durations = [], {}
    for word in words:
        n = word["n"]
        segments = segment(word["wave"], SR, n)
        for position, s in enumerate(segments, start=1):
            durations.setdefault(f"{n}.{position}", []).append(s.duration)
        counted.append((n, count_syllables(word["wave"], SR)))
    return {
        "words": len(words),
        "count": count_summary(np.array(counted)),
        "durations_s": {
            key: {
                "median": round(float(np.median(v)), 3),
                "p10": round(float(np.percentile(v, 10)), 3),
                "p90": round(float(np.percentile(v, 90)), 3),
            }
            for key, v in sorted(durations.items())
        },
    }


def figures(words: list[dict], name: str, out: Path, count: int, seed: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_tone import segmentation

    rng = np.random.default_rng(seed)
    picks = rng.choice(len(words), min(count, len(words)), replace=False)
    fig, axes = plt.subplots(len(picks), 1, figsize=(12, 2.6 * len(picks)), squeeze=False)
    for ax, i in zip(axes[:, 0], picks, strict=True):
        word = words[i]
        x = word["wave"]
        analysis = segmentation._analyse(x, SR)
        ax.specgram(x, NFFT=512, Fs=SR, noverlap=352, cmap="gray_r", vmin=-120)
        ax.set_ylim(0, 6000)
        times = np.arange(analysis.level.size) * segmentation.HOP_SECONDS
        twin = ax.twinx()
        twin.plot(times, analysis.level - analysis.level.max(), color="tab:blue", lw=0.8)
        twin.plot(times, 5 * analysis.evidence - 80, color="black", lw=1.0)
        twin.set_ylim(-80, 5)
        for s in segmentation.segment(x, SR, word["n"]):
            ax.axvline(s.start, color="tab:green", lw=2)
            ax.axvline(s.end, color="tab:red", ls=":", lw=2)
        for bound in word.get("bounds", []):  # pseudo-words: the true boundaries
            ax.axvline(bound, color="tab:orange", lw=5, alpha=0.4)
        estimated = segmentation.count_syllables(x, SR)
        ax.set_title(
            f"{name} {word.get('path', '')} {word.get('pinyin', '')} "
            f"(N={word['n']}, estimated {estimated})",
            fontsize=9,
        )
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=70)
    plt.close(fig)


def markdown(report: dict) -> str:
    lines = [
        "| pseudo-words | boundaries | median | p90 | <= 30 ms | <= 50 ms | N right (balanced) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in report["pseudo"].items():
        a = r["all"]
        lines.append(
            f"| {name} | {a['boundaries']} | {a['median_ms']:.0f} ms | {a['p90_ms']:.0f} ms | "
            f"{a['within_30ms']:.1%} | {a['within_50ms']:.1%} | {r['count']['accuracy']:.1%} "
            f"({r['count']['balanced_accuracy']:.1%}) |"
        )
    lines += ["", "| words | syllables | words | N right | estimates |", "|---|---|---|---|---|"]
    for name, r in report["words"].items():
        for n, v in r["count"]["per_n"].items():
            lines.append(
                f"| {name} | {n} | {v['words']} | {v['accuracy']:.1%} | {v['estimates']} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/segmentation"))
    parser.add_argument("--words-every", type=int, default=1, help="every k-th word recording")
    parser.add_argument("--per-speaker", type=int, default=100)
    parser.add_argument("--figures", type=int, default=0, help="words to draw per set")
    args = parser.parse_args(argv)
    if not (args.shared / "data").is_dir():
        print(
            f"No shared recordings at {args.shared} (expected data/ and words/).", file=sys.stderr
        )
        return 2
    warnings.filterwarnings("ignore", category=UserWarning)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"pseudo": {}, "words": {}}
    for faster in (False, True):
        name = "faster" if faster else "as recorded"
        words = pseudo_words(args.shared / "data", faster=faster, per_speaker=args.per_speaker)
        report["pseudo"][f"{name}, test (odd)"] = score_pseudo(words[1::2])
        report["pseudo"][f"{name}, all"] = score_pseudo(words)
        if args.figures:
            figures(words, f"pseudo-{'faster' if faster else 'recorded'}", args.out, args.figures)
        print(f"pseudo-words ({name}) done", file=sys.stderr, flush=True)
    for folder in WORD_FOLDERS:
        words = real_words(args.shared / "words" / folder, args.words_every)
        report["words"][folder] = score_real(words)
        if args.figures:
            figures(words, folder, args.out, args.figures)
        print(f"{folder} done", file=sys.stderr, flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
