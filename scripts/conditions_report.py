"""Accuracy of a preset under recording conditions: noise, rooms and a telephone line.

Every clip of the manifests is re-recorded under each condition of
`keras_tone.conditions.REPORT_CONDITIONS` (clean; white and pink noise at 20
and 10 dB SNR; rooms with RT60 0.3 and 0.6 s; the telephone band), the same
noise and rooms for every preset, and classified alone and with the speaker
context of the other clips of its speaker under the same condition. The
table goes to stdout; `--json` writes it for `keras-tone card
--conditions-report`.

Run it on the validation voices with the shipped preset, and on a
leave-one-speaker-out fold with that fold's model (a preset folder that
`keras-tone train --loso` wrote), e.g.:

    python scripts/conditions_report.py --weights blcu \\
        ../shared/validation/chart_f/manifest.csv ../shared/validation/dictsite_f/manifest.csv
    python scripts/conditions_report.py \\
        --weights runs/blcu-loso/seed-0/fold-losttheory_M1 \\
        ../shared/data/losttheory_m1/manifest.csv
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def conditions_report(
    weights: str, manifests: list[str], names: list[str], seed: int = 0, progress: bool = True
) -> dict:
    """`{"weights", "manifests", "conditions": {name: {"alone": ..., "context": ...}}}`.

    Each mode holds the accuracy per speaker and the pooled confusion matrix.
    """
    from keras_tone import conditions, load_model
    from keras_tone.datasets import load_corpus
    from keras_tone.evaluation import metrics
    from keras_tone.runner import Runner

    runner = Runner(load_model(weights, speaker_context=True))
    rate = runner.sample_rate
    classes = len(runner.class_names)
    corpus = load_corpus(manifests, classes=classes, sample_rate=rate, progress=False)
    report: dict = {"weights": weights, "manifests": manifests, "seed": seed, "conditions": {}}
    for name in names:
        if progress:
            print(f"{name} ...", file=sys.stderr, flush=True)
        condition = conditions.report_condition(name, sample_rate=rate)
        rng = np.random.default_rng(seed)
        clips = [conditions.apply(w, condition, rng, sample_rate=rate) for w in corpus.waveforms]
        features = runner.features(clips)
        probabilities = {
            "alone": runner.classify(features),
            "context": runner.classify(features, groups=corpus.speakers),
        }
        entry = {}
        for mode, probs in probabilities.items():
            predicted = probs.argmax(axis=1)
            per_speaker = {
                speaker: metrics(corpus.labels[mask], predicted[mask], classes)["accuracy"]
                for speaker in corpus.speaker_names()
                for mask in [corpus.speakers == speaker]
            }
            pooled = metrics(corpus.labels, predicted, classes)
            entry[mode] = {"per_speaker": per_speaker, "overall": pooled}
        report["conditions"][name] = entry
    return report


def table(report: dict) -> str:
    """The report as a Markdown table: one row per condition, accuracy % per speaker and mode."""
    first = next(iter(report["conditions"].values()))
    speakers = list(first["alone"]["per_speaker"])
    header = ["condition"] + [f"{s} {mode}" for s in speakers for mode in ("alone", "context")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, entry in report["conditions"].items():
        cells = [
            f"{100 * entry[mode]['per_speaker'][s]:.1f}"
            for s in speakers
            for mode in ("alone", "context")
        ]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from keras_tone.conditions import REPORT_CONDITIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifests", nargs="+", help="manifest.csv files of the clips")
    parser.add_argument("--weights", required=True, help="a preset name or folder")
    parser.add_argument(
        "--conditions",
        nargs="+",
        default=list(REPORT_CONDITIONS),
        choices=list(REPORT_CONDITIONS),
        metavar="NAME",
        help=f"conditions to run (default: all: {', '.join(REPORT_CONDITIONS)})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    report = conditions_report(args.weights, args.manifests, args.conditions, args.seed)
    print(table(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
