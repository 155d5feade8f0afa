"""How often `predict_files` says "no voiced speech": on generated non-speech and on recordings.

Two measurements of `keras_tone.layers.VoicedSpeech` through the public API
(`FileResult.voiced`):

* **Generated non-speech**, which must all be flagged: digital silence,
  near-silent noise, white, pink and brown noise, mains hum at 50 and 60 Hz
  (all harmonics, odd ones, a strong second), pure tones and click trains,
  several seeds and lengths each (the generators of tests/signals.py).
* **Recordings**, which should not be: every clip of every folder of
  `../shared/data` (syllables, neutral tones included) and of
  `../shared/words` (words of 2-4 syllables), per folder, and per tone or
  syllable count.

Prints Markdown tables. `FileResult.voiced` is the gate (`keras_tone.gate`);
scripts/gate_report.py measures its thresholds (docs/troubleshooting.md).

Example:
    $ python scripts/voicing_report.py                 # ~2 min on 2 cores
    $ python scripts/voicing_report.py --generated-only
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the generators of the tests
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RATE = 16000

#: Folders of a synthetic (text-to-speech) voice: reported, never counted as human.
SYNTHETIC = {"cedicttts_msyn"}


def generated() -> dict[str, list[np.ndarray]]:
    """Families of non-speech, each a list of variants (seeds, lengths, frequencies)."""
    import signals

    lengths = (0.5, 1.0, 3.0)
    return {
        "digital silence": [np.zeros(int(RATE * s), np.float32) for s in lengths],
        "near-silent noise (-80 dBFS)": [
            (1e-4 * signals.white_noise(RATE, s, seed=i) / 0.1).astype(np.float32)
            for i, s in enumerate(lengths)
        ],
        "white noise": [signals.white_noise(RATE, s, seed=i) for i in range(5) for s in lengths],
        "pink noise": [signals.pink_noise(RATE, s, seed=i) for i in range(5) for s in lengths],
        "brown noise": [
            signals.pink_noise(RATE, s, seed=i, slope=1.0) for i in range(5) for s in lengths
        ],
        "mains hum 50/60 Hz": [
            signals.hum(RATE, mains, s, harmonics=kind)
            for mains in (50, 60)
            for kind in ("all", "odd", "second")
            for s in lengths
        ],
        "pure tones 100-3000 Hz": [
            signals.sine(RATE, f, s) for f in (100, 150, 220, 440, 1000, 3000) for s in lengths
        ],
        "click trains 50-300 Hz": [
            signals.click_train(RATE, f, s) for f in (50, 100, 200, 300) for s in lengths
        ],
    }


def _write(clips: list[np.ndarray], folder: Path) -> list[Path]:
    import soundfile as sf

    paths = []
    for i, clip in enumerate(clips):
        path = folder / f"{i:03d}.wav"
        sf.write(path, clip, RATE, subtype="FLOAT")
        paths.append(path)
    return paths


def report_generated(model) -> str:
    import keras_tone

    rows = ["| non-speech | clips | flagged | largest voiced seconds |", "|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, clips in generated().items():
            folder = Path(tmp) / name.split()[0]
            folder.mkdir()
            results = keras_tone.predict_files(model, _write(clips, folder))
            flagged = sum(not r.voiced for r in results)
            seconds = max(r.voiced_seconds or 0.0 for r in results)
            rows.append(f"| {name} | {len(clips)} | {flagged} | {seconds:.3f} |")
    return "\n".join(rows)


def _manifest(folder: Path) -> list[dict[str, str]]:
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def report_recordings(model, root: Path, group: str) -> str:
    """Per folder: clips, flagged, share; `group` is the manifest column to break down by."""
    import keras_tone

    rows = [
        f"| folder | clips | flagged | share | flagged by {group} |",
        "|---|---:|---:|---:|---|",
    ]
    totals = {"human voices": [0, 0], "all, with the synthetic voice": [0, 0]}
    for folder in sorted(p for p in root.iterdir() if (p / "manifest.csv").is_file()):
        entries = _manifest(folder)
        results = keras_tone.predict_files(model, [folder / e["path"] for e in entries])
        by_group: collections.Counter[str] = collections.Counter()
        for entry, result in zip(entries, results, strict=True):
            if result.error is None and not result.voiced:
                key = entry["tone"] if group == "tone" else str(len(entry["surface"].split()))
                by_group[key] += 1
        errors = sum(r.error is not None for r in results)
        flagged = sum(by_group.values())
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(by_group.items())) or "-"
        if errors:
            detail += f" ({errors} unreadable)"
        label = folder.name + (" (synthetic)" if folder.name in SYNTHETIC else "")
        rows.append(
            f"| {label} | {len(entries)} | {flagged} | {100 * flagged / len(entries):.2f}% "
            f"| {detail} |"
        )
        for name, sums in totals.items():
            if folder.name not in SYNTHETIC or name.startswith("all"):
                sums[0] += len(entries)
                sums[1] += flagged
    for name, (total, flagged) in totals.items():
        rows.append(f"| **{name}** | {total} | {flagged} | {100 * flagged / total:.2f}% | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated-only", action="store_true")
    args = parser.parse_args(argv)
    import keras_tone

    # The flag depends on the waveform alone (VoicedSpeech runs beside the
    # model, not on its features): any weights give the same figures.
    model = keras_tone.ToneNet(weights=None)
    print("## Generated non-speech (all should be flagged)\n")
    print(report_generated(model))
    if args.generated_only:
        return 0
    for name, group in (("data", "tone"), ("words", "syllables")):
        root = SHARED / name
        if not root.is_dir():
            print(f"\n(no recordings at {root}: skipped)")
            continue
        print(f"\n## Recordings in ../shared/{name} (none should be flagged)\n")
        print(report_recordings(model, root, group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
