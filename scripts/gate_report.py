"""What the clip gate refuses, for a range of thresholds: the numbers behind its constants.

Two measurements (docs/troubleshooting.md quotes them):

* **Voiced seconds** (`keras_tone.layers.VoicedSpeech` in the front-end pass
  of `keras_tone.runner.Runner`, the measure behind
  `keras_tone.gate.MIN_VOICED_SECONDS`) of every clip of `../shared/data`
  (isolated syllables; the human voices apart from the synthetic one), of
  a 50 ms and a 100 ms fragment of each (around its loudest 10 ms), of the
  word recordings of `../shared/words` and of their syllables (cut with the
  number of syllables known, as `keras_tone.score` cuts them), and of
  generated non-speech (the families of scripts/voicing_report.py, also 10
  and 30 s long). For each candidate threshold: the share of each set that
  the gate would refuse.
* **Syllable counts** (`keras_tone.segmentation.count_syllables`) of the
  same recordings, whose number of syllables is known (1 for the syllable
  clips, 2-4 for the words): how often a correct recording would be refused
  by `keras_tone.gate.count_refusal` (recordings that cannot be counted are
  left out: `score` does not compare their count).

Example:
    $ python scripts/gate_report.py                  # ~10 min on 2 busy cores
    $ python scripts/gate_report.py --save /tmp/gate.npz
    $ python scripts/gate_report.py --load /tmp/gate.npz   # tables only
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RATE = 16000
SYNTHETIC = {"cedicttts_msyn"}
THRESHOLDS = (0.032, 0.048, 0.064, 0.08, 0.096, 0.112, 0.128)
FRAGMENTS = (0.05, 0.1)


def _fragment(clip: np.ndarray, seconds: float) -> np.ndarray:
    """`seconds` of `clip` centred on its loudest 10 ms."""
    size = int(seconds * RATE)
    if clip.size <= size:
        return clip
    energy = np.convolve(clip.astype(np.float64) ** 2, np.ones(160), mode="same")
    start = int(np.clip(np.argmax(energy) - size // 2, 0, clip.size - size))
    return clip[start : start + size]


def voiced_seconds(clips: list[np.ndarray]) -> np.ndarray:
    """The voiced seconds of each clip, as the gate gets them (`Runner.features`)."""
    from keras_tone.config import ToneNetConfig
    from keras_tone.runner import Runner

    return Runner(ToneNetConfig(sample_rate=RATE)).features(clips).voiced_seconds


def measure(shared: Path) -> dict[str, np.ndarray]:
    """Every number the tables need, as flat arrays (see `--save`)."""
    from voicing_report import generated

    from keras_tone.datasets import decode_cached, default_cache_dir, read_manifest
    from keras_tone.segmentation import count_syllables, segment
    from keras_tone.words import read_word_manifest

    def counts(clips: list[np.ndarray]) -> np.ndarray:
        found = []
        for clip in clips:
            try:
                found.append(count_syllables(clip, RATE))
            except ValueError:
                found.append(0)  # silent or too long: nothing counted
        return np.asarray(found)

    out: dict[str, list] = {k: [] for k in ("data_folder", "data_voiced", "data_seconds")}
    out.update({f"fragment_{s}": [] for s in FRAGMENTS})
    out.update({"data_count": []})
    cache = default_cache_dir()
    for manifest in sorted((shared / "data").glob("*/manifest.csv")):
        rows = read_manifest(manifest)
        clips, errors = decode_cached(manifest, rows, RATE, cache, False)
        clips = [c for c, e in zip(clips, errors, strict=True) if not e]
        print(f"{manifest.parent.name}: {len(clips)} clips", file=sys.stderr)
        out["data_folder"] += [manifest.parent.name] * len(clips)
        out["data_voiced"] += voiced_seconds(clips).tolist()
        out["data_seconds"] += [c.size / RATE for c in clips]
        for seconds in FRAGMENTS:
            pieces = [_fragment(c, seconds) for c in clips]
            out[f"fragment_{seconds}"] += voiced_seconds(pieces).tolist()
        out["data_count"] += counts(clips).tolist()

    for key in ("word_folder", "word_expected", "word_voiced", "word_count", "word_seconds"):
        out[key] = []
    for key in ("syllable_folder", "syllable_voiced", "syllable_seconds"):
        out[key] = []
    for manifest in sorted((shared / "words").glob("*/manifest.csv")):
        rows = read_word_manifest(manifest)
        clips, errors = decode_cached(manifest, rows, RATE, cache, False)
        pairs = [(r, c) for r, c, e in zip(rows, clips, errors, strict=True) if not e]
        print(f"{manifest.parent.name}: {len(pairs)} words", file=sys.stderr)
        name = manifest.parent.name
        out["word_folder"] += [name] * len(pairs)
        out["word_expected"] += [len(r) for r, _ in pairs]
        out["word_voiced"] += voiced_seconds([c for _, c in pairs]).tolist()
        out["word_seconds"] += [c.size / RATE for _, c in pairs]
        out["word_count"] += counts([c for _, c in pairs]).tolist()
        syllables = []
        for row, clip in pairs:
            try:
                spans = segment(clip, RATE, len(row))
            except ValueError:
                continue
            syllables += [clip[int(s * RATE) : int(e * RATE)] for s, e in spans]
        out["syllable_folder"] += [name] * len(syllables)
        out["syllable_voiced"] += voiced_seconds(syllables).tolist()
        out["syllable_seconds"] += [c.size / RATE for c in syllables]

    out["generated_family"], out["generated_voiced"], out["generated_seconds"] = [], [], []
    families = generated()
    import signals

    for seconds in (10.0, 30.0):  # long noise gathers stray voiced frames
        families[f"white, pink, brown noise ({seconds:.0f} s)"] = [
            signals.pink_noise(RATE, seconds, seed=i, slope=slope)
            for i in range(5)
            for slope in (0.0, 0.5, 1.0)
        ]
    for family, clips in families.items():
        out["generated_family"] += [family] * len(clips)
        out["generated_voiced"] += voiced_seconds(clips).tolist()
        out["generated_seconds"] += [c.size / RATE for c in clips]
    return {key: np.asarray(value) for key, value in out.items()}


def _share(refused: np.ndarray) -> str:
    return f"{100 * refused.mean():.2f}%" if refused.size else "-"


def voicing_table(m: dict[str, np.ndarray]) -> str:
    head = "| clips | n | " + " | ".join(f"{t:.3f} s" for t in THRESHOLDS) + " |"
    rows = [head, "|---|---:|" + "---:|" * len(THRESHOLDS)]

    def row(name: str, voiced: np.ndarray, passing: bool = False) -> None:
        cells = []
        for threshold in THRESHOLDS:
            refused = voiced < threshold - 1e-6
            cells.append(_share(~refused if passing else refused))
        rows.append(f"| {name} | {voiced.size} | " + " | ".join(cells) + " |")

    folders = m["data_folder"]
    human = ~np.isin(folders, list(SYNTHETIC))
    for folder in sorted(set(folders.tolist())):
        row(f"`{folder}` syllables refused", m["data_voiced"][folders == folder])
    row("**human syllables refused**", m["data_voiced"][human])
    for seconds in FRAGMENTS:
        row(
            f"{seconds * 1000:.0f} ms fragments of human syllables **passed**",
            m[f"fragment_{seconds}"][human],
            passing=True,
        )
    for folder in sorted(set(m["word_folder"].tolist())):
        row(f"`{folder}` words refused", m["word_voiced"][m["word_folder"] == folder])
        mask = m["syllable_folder"] == folder
        row(f"`{folder}` syllables of words refused", m["syllable_voiced"][mask])
    families = m["generated_family"]
    for family in dict.fromkeys(families.tolist()):
        row(f"{family} **passed**", m["generated_voiced"][families == family], passing=True)
    return "\n".join(rows)


def largest_table(m: dict[str, np.ndarray]) -> str:
    rows = ["| non-speech | clips | largest voiced seconds |", "|---|---:|---:|"]
    families = m["generated_family"]
    for family in dict.fromkeys(families.tolist()):
        voiced = m["generated_voiced"][families == family]
        rows.append(f"| {family} | {voiced.size} | {np.nanmax(voiced):.3f} |")
    for seconds in FRAGMENTS:
        voiced = m[f"fragment_{seconds}"]
        rows.append(
            f"| {seconds * 1000:.0f} ms fragments of syllables | {voiced.size} | "
            f"{np.nanmax(voiced):.3f} |"
        )
    return "\n".join(rows)


def count_table(m: dict[str, np.ndarray]) -> str:
    expected = np.concatenate([np.ones(m["data_count"].size, int), m["word_expected"]])
    found = np.concatenate([m["data_count"], m["word_count"]])
    folder = np.concatenate([m["data_folder"], m["word_folder"]])
    kind = np.array(["syllables"] * m["data_count"].size + ["words"] * m["word_count"].size)
    rows = [
        "| recordings | expected | n | found: 1 | 2 | 3 | 4 | 5 | 6+ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("syllables", "words"):
        for human in (True, False):
            voice = ~np.isin(folder, list(SYNTHETIC)) if human else np.isin(folder, list(SYNTHETIC))
            for n in np.unique(expected[(kind == name) & voice]).tolist():
                mask = (kind == name) & voice & (expected == n)
                got = found[mask]
                cells = [_share(got == k) for k in (1, 2, 3, 4, 5)] + [_share(got >= 6)]
                label = f"{name}, {'human' if human else 'synthetic'}"
                rows.append(f"| {label} | {n} | {mask.sum()} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def gate_table(m: dict[str, np.ndarray]) -> str:
    """What `keras_tone.gate.refusal` itself refuses (its minimum and its share rule)."""
    from keras_tone.gate import refusal

    def refused(voiced: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        pairs = zip(voiced.tolist(), seconds.tolist(), strict=True)
        return np.array([refusal(v, s) is not None for v, s in pairs])

    rows = ["| clips | n | refused |", "|---|---:|---:|"]
    folders = m["data_folder"]
    for folder in sorted(set(folders.tolist())):
        mask = folders == folder
        share = _share(refused(m["data_voiced"][mask], m["data_seconds"][mask]))
        rows.append(f"| `{folder}` syllables | {mask.sum()} | {share} |")
    human = ~np.isin(folders, list(SYNTHETIC))
    share = _share(refused(m["data_voiced"][human], m["data_seconds"][human]))
    rows.append(f"| **human syllables** | {human.sum()} | {share} |")
    for seconds in FRAGMENTS:
        voiced = m[f"fragment_{seconds}"]
        rows.append(
            f"| {seconds * 1000:.0f} ms fragments of syllables | {voiced.size} | "
            f"{_share(refused(voiced, np.full(voiced.size, seconds)))} |"
        )
    for folder in sorted(set(m["word_folder"].tolist())):
        mask = m["word_folder"] == folder
        share = _share(refused(m["word_voiced"][mask], m["word_seconds"][mask]))
        rows.append(f"| `{folder}` word recordings | {mask.sum()} | {share} |")
    families = m["generated_family"]
    for family in dict.fromkeys(families.tolist()):
        mask = families == family
        share = _share(refused(m["generated_voiced"][mask], m["generated_seconds"][mask]))
        rows.append(f"| {family} | {mask.sum()} | {share} |")
    return "\n".join(rows)


def count_rule_table(m: dict[str, np.ndarray]) -> str:
    """How often `keras_tone.gate.count_refusal` refuses a correct recording."""
    from keras_tone.gate import count_refusal

    expected = np.concatenate([np.ones(m["data_count"].size, int), m["word_expected"]])
    found = np.concatenate([m["data_count"], m["word_count"]])
    folder = np.concatenate([m["data_folder"], m["word_folder"]])
    kind = np.array(["syllables"] * m["data_count"].size + ["words"] * m["word_count"].size)
    rows = ["| correct recordings | expected | counted | refused |", "|---|---:|---:|---:|"]
    for name in ("syllables", "words"):
        for human in (True, False):
            voice = np.isin(folder, list(SYNTHETIC)) != human
            for n in np.unique(expected[(kind == name) & voice]).tolist():
                mask = (kind == name) & voice & (expected == n) & (found > 0)
                refused = np.array([count_refusal(int(f), n) is not None for f in found[mask]])
                label = f"{name}, {'human' if human else 'synthetic'}"
                rows.append(f"| {label} | {n} | {mask.sum()} | {_share(refused)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", metavar="NPZ", help="also save the measurements")
    parser.add_argument("--load", metavar="NPZ", help="print the tables of saved measurements")
    parser.add_argument(
        "--shared", type=Path, default=SHARED, help=f"the shared recordings (default: {SHARED})"
    )
    args = parser.parse_args(argv)
    if args.load:
        with np.load(args.load) as stored:
            m = dict(stored)
    else:
        m = measure(args.shared)
        if args.save:
            np.savez(args.save, **m)
    print("## Share refused (or passed) at each minimum of voiced seconds\n")
    print(voicing_table(m))
    print("\n## Largest voiced seconds of non-speech and fragments\n")
    print(largest_table(m))
    print("\n## Syllables found by count_syllables against those expected\n")
    print(count_table(m))
    print("\n## What the gate refuses (keras_tone.gate.refusal, as shipped)\n")
    print(gate_table(m))
    print("\n## Correct recordings that keras_tone.gate.count_refusal refuses\n")
    print(count_rule_table(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
