"""In-graph LogMelSpectrogram and MFCC against librosa on one batch of clips.

64 clips of 1 s at 16 kHz, ToneNet's front-end settings (n_fft 1024, hop 512,
80 mel bands, 75-3700 Hz, top_db 80; MFCC: 20 coefficients). Every variant
is timed in the same run, in alternating rounds:

* librosa per clip: a Python loop over the batch, as feature-extraction scripts
  (and the original ToneNet code) call it;
* librosa batched: one call on the `[64, 16000]` array (librosa >= 0.10
  accepts a batch axis), librosa's best case for speed (but its `top_db`
  floor then comes from the loudest clip of the batch, so parity is measured
  against the per-clip results);
* the keras_tone layer called eagerly, inside `tf.function`, and inside
  `tf.function(jit_compile=True)`;
* for comparison, the layer with the full-size DFT matmul it used before the
  folded (half-size) DFT.

It prints medians, the speed-up of the layer over both librosa variants, and
the largest difference from librosa (dB for log-mel; absolute and relative
to the coefficient range for MFCC).

Example:
    $ python benchmarks/bench_layers.py            # prints a table
    $ python benchmarks/bench_layers.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import _common
import numpy as np

BATCH = 64
N_MFCC = 20


def _librosa_features(y: np.ndarray, kind: str, settings: dict[str, Any]) -> np.ndarray:
    import librosa

    top_db = settings["top_db"]
    mel_kwargs = {k: v for k, v in settings.items() if k != "top_db"}
    if kind == "log_mel":
        return librosa.power_to_db(
            librosa.feature.melspectrogram(y=y, sr=_common.SAMPLE_RATE, **mel_kwargs),
            top_db=top_db,
        )
    assert top_db == 80.0  # librosa.feature.mfcc applies power_to_db's default top_db=80
    return librosa.feature.mfcc(y=y, sr=_common.SAMPLE_RATE, n_mfcc=N_MFCC, **mel_kwargs)


def _parity(layer_out: np.ndarray, reference: np.ndarray, kind: str) -> dict[str, float]:
    diff = np.abs(layer_out - reference)
    if kind == "log_mel":
        floor = reference.max(axis=(1, 2), keepdims=True) - 80.0 + 1e-3
        above = reference > floor
        return {"max_abs_db": float(diff.max()), "max_abs_db_above_floor": float(diff[above].max())}
    spread = float(reference.max() - reference.min())
    return {"max_abs": float(diff.max()), "max_rel_to_range": float(diff.max() / spread)}


def run(rounds: int = 5, repeats: int = 4) -> dict[str, Any]:
    """Time and compare both layers; returns a JSON-ready dict."""
    import tensorflow as tf

    from keras_tone.layers import MFCC, LogMelSpectrogram

    settings = _common.log_mel_settings()  # ToneNet front end's

    x = _common.clips(BATCH)
    x_tensor = tf.constant(x)
    results: dict[str, Any] = {"batch": list(x.shape), "settings": dict(settings), "layers": {}}
    for kind, layer in (
        ("log_mel", LogMelSpectrogram(sample_rate=_common.SAMPLE_RATE, **settings)),
        ("mfcc", MFCC(sample_rate=_common.SAMPLE_RATE, n_mfcc=N_MFCC, **settings)),
    ):
        graph = tf.function(layer)
        xla = tf.function(layer, jit_compile=True)
        unfolded = type(layer).from_config(layer.get_config())
        unfolded._folded = None  # the full-size DFT matmul used before the folded DFT
        unfolded_graph = tf.function(unfolded)
        timings = _common.interleaved(
            {
                "librosa per clip": lambda k=kind: [
                    _librosa_features(c, k, settings)
                    for c in x  # noqa: B023
                ],
                "librosa batched": lambda k=kind: _librosa_features(x, k, settings),
                "layer eager": lambda f=layer: f(x_tensor).numpy(),
                "layer tf.function": lambda f=graph: f(x_tensor).numpy(),
                "layer tf.function(jit_compile=True)": lambda f=xla: f(x_tensor).numpy(),
                "layer tf.function, unfolded DFT (before)": lambda f=unfolded_graph: f(
                    x_tensor
                ).numpy(),
            },
            rounds=rounds,
            repeats=repeats,
        )
        # per clip: librosa's power_to_db on a batch takes the top_db floor from the
        # loudest clip of the whole batch, not per clip as the layers do
        reference = np.stack([_librosa_features(c, kind, settings).T for c in x])
        layer_out = graph(x_tensor).numpy()
        unfolded_out = unfolded_graph(x_tensor).numpy()
        best_layer = min(
            (name for name in timings if name.startswith("layer") and "before" not in name),
            key=lambda name: timings[name]["median_ms"],
        )
        best = timings[best_layer]["median_ms"]
        results["layers"][kind] = {
            "timings": timings,
            "best_layer_path": best_layer,
            "speedup_vs_librosa_per_clip": timings["librosa per clip"]["median_ms"] / best,
            "speedup_vs_librosa_batched": timings["librosa batched"]["median_ms"] / best,
            "parity": _parity(layer_out, reference, kind),
            "parity_unfolded": _parity(unfolded_out, reference, kind),
        }
    results["peak_rss_mb"] = _common.peak_rss_mb()
    return results


def report(results: dict[str, Any]) -> str:
    """The results as Markdown."""
    lines = []
    for kind, res in results["layers"].items():
        lines.append(f"\n{kind}, batch {results['batch'][0]} x {results['batch'][1]} samples:\n")
        lines.append("| path | median ms / batch | p10-p90 ms |")
        lines.append("|---|---:|---:|")
        for name, t in res["timings"].items():
            lines.append(f"| {name} | {t['median_ms']:.1f} | {t['p10_ms']:.1f}-{t['p90_ms']:.1f} |")
        parity = ", ".join(f"{k} {v:.2e}" for k, v in res["parity"].items())
        before = ", ".join(f"{k} {v:.2e}" for k, v in res["parity_unfolded"].items())
        lines.append(
            f"\nBest layer path: {res['best_layer_path']}; "
            f"**{res['speedup_vs_librosa_per_clip']:.1f}x** librosa per clip, "
            f"**{res['speedup_vs_librosa_batched']:.2f}x** librosa batched. "
            f"Error vs librosa: {parity} (unfolded DFT: {before})."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    print(_common.machine())
    results = run(rounds=args.rounds, repeats=args.repeats)
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
