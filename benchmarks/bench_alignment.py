"""Aligning the syllables of a long recording: `keras_tone.alignment.align` on 60 s and more.

A recording of harmonic syllables (`_common.clips`, cut to 150-300 ms and
joined, with a pause every 8-12 syllables), 60 s and 240 s long, is
aligned with its number of syllables given. Timed in the same run, in
alternating rounds: the frame measures alone (`frame_measures`, the part
every method needs) and the whole alignment. Prints the medians, the
alignment's share of real time, and its overhead over the measures; with
`--json PATH` writes them. The peak RSS after the 240 s runs shows that
memory does not grow with the square of the length.

Example:
    $ python benchmarks/bench_alignment.py
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import _common
import numpy as np

SAMPLE_RATE = _common.SAMPLE_RATE


def recording(seconds: float, seed: int = 0) -> tuple[np.ndarray, int]:
    """A recording of `seconds` of syllable-like sounds, and its number of syllables."""
    rng = np.random.default_rng(seed)
    parts, total, count = [np.zeros(int(0.3 * SAMPLE_RATE), "float32")], 0, 0
    pool = _common.clips(batch=64, seconds=1.0, seed=seed)
    while total < seconds * SAMPLE_RATE:
        clip = pool[count % len(pool)]
        loud = np.flatnonzero(np.abs(clip) > 0.01 * np.abs(clip).max())
        voiced = clip[loud[0] : loud[-1]]
        parts.append(voiced[: int(rng.uniform(0.15, 0.3) * SAMPLE_RATE)])
        count += 1
        if count % int(rng.integers(8, 13)) == 0:
            parts.append(np.zeros(int(rng.uniform(0.2, 0.5) * SAMPLE_RATE), "float32"))
        total = sum(p.size for p in parts)
    parts.append(np.zeros(int(0.3 * SAMPLE_RATE), "float32"))
    return np.concatenate(parts), count


def run(rounds: int = 3) -> dict[str, Any]:
    from keras_tone.alignment import align
    from keras_tone.frames import frame_measures

    results: dict[str, Any] = {"machine": _common.machine()}
    for seconds in (60, 240):
        x, n = recording(seconds)
        timings = _common.interleaved(
            {
                "frame measures": lambda x=x: frame_measures(x, SAMPLE_RATE),
                "align": lambda x=x, n=n: align(x, SAMPLE_RATE, n),
            },
            rounds=rounds,
            repeats=1,
            warmup=1,
        )
        results[f"{seconds} s"] = {
            "syllables": n,
            "audio_s": round(x.size / SAMPLE_RATE, 1),
            **{name: round(t["median_ms"] / 1000, 3) for name, t in timings.items()},
        }
    results["peak_rss_mb"] = round(_common.peak_rss_mb(), 1)
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        results["machine"],
        "",
        "| recording | syllables | frame measures | align | real time | align / measures |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("60 s", "240 s"):
        r = results[name]
        lines.append(
            f"| {r['audio_s']} s | {r['syllables']} | {r['frame measures']:.2f} s | "
            f"{r['align']:.2f} s | {r['align'] / r['audio_s']:.1%} | "
            f"{r['align'] / r['frame measures']:.1f}x |"
        )
    lines.append(f"\nPeak RSS: {results['peak_rss_mb']:.0f} MiB.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="write the results to this file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results = run(rounds=args.rounds)
    print(report(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
