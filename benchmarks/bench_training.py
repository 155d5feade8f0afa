"""Time of one ToneNet training step in float32 and in mixed bfloat16, in the same run.

The training model (`include_preprocessing=False`, with the speaker-context
input) at batch 64, Adam, `train_on_batch` on fixed random images: the
figures are the median and 10th-90th percentiles of alternating rounds, so
load from other processes hits both alike. `keras_tone.recipe.resolve_recipe`
picks bfloat16 only where `keras_tone.devices.native_bfloat16()` says the
hardware computes it; the `faster` line says whether that choice was right on
this machine.

Example:
    $ python benchmarks/bench_training.py
    $ python benchmarks/bench_training.py --rounds 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import _common
import numpy as np

POLICIES = ("float32", "mixed_bfloat16")
BATCH = 64


def run(rounds: int = 5, repeats: int = 4) -> dict[str, Any]:
    from keras_tone import ToneNet
    from keras_tone._keras import keras
    from keras_tone.config import ToneNetConfig
    from keras_tone.devices import native_bfloat16

    config = ToneNetConfig()
    rng = np.random.default_rng(0)
    inputs = [
        rng.uniform(-80, 0, (BATCH, *config.feature_shape())).astype("float32"),
        rng.uniform(0, 1, (BATCH, *config.pitch_shape())).astype("float32"),
        rng.gamma(0.3, 1.0, (BATCH, config.pitch_shape()[1])).astype("float32"),
    ]
    labels = np.eye(config.classes, dtype="float32")[rng.integers(0, config.classes, BATCH)]
    steps = {}
    previous = keras.mixed_precision.global_policy().name
    try:
        for policy in POLICIES:
            keras.mixed_precision.set_global_policy(policy)
            model = ToneNet(
                weights=None, include_preprocessing=False, speaker_context=True, config=config
            )
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
            steps[policy] = lambda model=model: model.train_on_batch(inputs, labels)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    timings = _common.interleaved(steps, rounds=rounds, repeats=repeats)
    ratio = timings["mixed_bfloat16"]["median_ms"] / timings["float32"]["median_ms"]
    native = native_bfloat16()
    return {
        "machine": _common.machine(),
        "batch": BATCH,
        "timings": timings,
        "bfloat16_over_float32": ratio,
        "native_bfloat16": native,
        "auto_choice": "mixed_bfloat16" if native else "float32",
        "auto_choice_was_faster": (ratio < 1.0) == native,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"One training step, batch {result['batch']} (median, p10-p90 ms):",
        *(
            f"  {policy:<15} {t['median_ms']:7.1f}  ({t['p10_ms']:.1f}-{t['p90_ms']:.1f})"
            for policy, t in result["timings"].items()
        ),
        f"  bfloat16 / float32 = {result['bfloat16_over_float32']:.2f}x; native bfloat16: "
        f"{result['native_bfloat16']}; the recipe picks {result['auto_choice']}, "
        f"{'the faster' if result['auto_choice_was_faster'] else 'NOT the faster'} here",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    result = run(rounds=args.rounds)
    print(table(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
