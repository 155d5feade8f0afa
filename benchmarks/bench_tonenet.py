"""ToneNet end to end on raw waveforms against the librosa pipeline.

Both pipelines run in the same process, in alternating rounds, on the same
clips (1 s at 16 kHz), at batch 1 (latency) and batch 64 (throughput):

* **keras_tone**: `ToneNet()` on raw waveforms; silence trimming, loudness
  normalisation, log-mel and pitch salience run in the graph. Timed through
  every path a user might take: `model.predict`, `model.predict_on_batch`,
  `model(x)` (eager), `tf.function`, the TFLite and ONNX exports in their
  own runtimes, and
  `keras_tone.runner.Runner.predict` (which also gives each clip's pitch
  histogram and voiced seconds).
* **librosa pipeline** (what users of the original ToneNet code run):
  `librosa.power_to_db(librosa.feature.melspectrogram(...))` per clip in
  Python, then the seed's network (ToneNet's log-mel CNN under 0.1.0's top,
  `_common.seed_network`) on the stacked features through its fastest path
  (`predict_on_batch`).

Also printed: feature parity (largest dB error of the in-graph log-mel against
librosa), peak RSS of each pipeline in a fresh process, and the cold start
(fresh process: `import keras_tone` to the first prediction, and the share of
it that is `import tensorflow`). How the time splits between the front end
and the CNN: `bench_backends.py`.

The pretrained preset `"blcu"` is used when it resolves, random weights
otherwise (speed does not depend on the weights).

Example:
    $ python benchmarks/bench_tonenet.py
    $ python benchmarks/bench_tonenet.py --json out.json --cold-runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import _common
import numpy as np

BATCH = 64
BASELINE = "librosa pipeline"


def _librosa_log_mel(y: np.ndarray) -> np.ndarray:
    import librosa

    settings = _common.log_mel_settings()
    kwargs = {k: v for k, v in settings.items() if k != "top_db"}
    mel = librosa.feature.melspectrogram(y=y, sr=_common.SAMPLE_RATE, **kwargs)
    return librosa.power_to_db(mel, top_db=settings["top_db"]).T


def _librosa_features(batch: np.ndarray) -> np.ndarray:
    return np.stack([_librosa_log_mel(clip) for clip in batch]).astype("float32")


def _paths(model: Any, features_model: Any, workdir: Path) -> dict[str, Any]:
    """Every way to run ToneNet on a float32 batch: name -> callable(batch)."""
    import tensorflow as tf

    spec = [tf.TensorSpec([None, None], tf.float32)]
    graph = tf.function(lambda x: model(x, training=False), input_signature=spec)
    paths = {
        "model.predict": lambda x: model.predict(x, verbose=0),
        "model.predict_on_batch": model.predict_on_batch,
        "model(x) eager": lambda x: model(x, training=False).numpy(),
        "tf.function": lambda x: graph(tf.constant(x)).numpy(),
    }
    from keras_tone.export import export

    paths["TFLite interpreter"] = _tflite_runner(export(model, workdir / "m.tflite", "tflite"))
    try:
        import onnxruntime as ort

        onnx_path = export(model, workdir / "m.onnx", "onnx")
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        paths["onnxruntime"] = lambda x: session.run(None, {"waveform": x})[0]
    except ImportError:
        pass
    from keras_tone.runner import Runner

    runner = Runner(model)
    paths["Runner.predict"] = lambda x: runner.predict(list(x)).probabilities
    paths[BASELINE] = lambda x: features_model.predict_on_batch(_librosa_features(x))
    return paths


def _tflite_runner(path: Path) -> Any:
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    (detail,) = interpreter.get_input_details()
    output = interpreter.get_output_details()[0]["index"]
    state = {"shape": None}

    def run(x: np.ndarray) -> np.ndarray:
        if state["shape"] != x.shape:  # resize only when the shape changes
            interpreter.resize_tensor_input(detail["index"], x.shape)
            interpreter.allocate_tensors()
            state["shape"] = x.shape
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(output)

    return run


def _parity(model: Any, x: np.ndarray) -> dict[str, float]:
    """Largest dB difference of the in-graph log-mel from librosa's, on the same input."""
    # librosa gets exactly what the in-graph log-mel gets: the waveform after
    # every front-end step before it (filtering, trimming, normalisation)
    front_end = model.get_layer("front_end")
    normalized, _ = front_end.normalize(x)
    ours = np.asarray(front_end.log_mel(normalized))
    theirs = _librosa_features(np.asarray(normalized))
    return {"log_mel_max_abs_db": float(np.abs(ours - theirs).max())}


def run(rounds: int = 5, cold_runs: int = 3) -> dict[str, Any]:
    """All measurements; returns a JSON-ready dict."""
    model, weights = _common.load_tonenet()
    features_model = _common.seed_network()
    x64 = _common.clips(BATCH)
    x1 = x64[:1].copy()
    results: dict[str, Any] = {"weights": weights, "batch": BATCH, "clip_samples": x64.shape[1]}
    with tempfile.TemporaryDirectory() as workdir:
        paths = _paths(model, features_model, Path(workdir))
        latency = _common.interleaved(
            {name: (lambda f=f: f(x1)) for name, f in paths.items()},
            rounds=rounds,
            repeats=10,
            warmup=3,
        )
        throughput = _common.interleaved(
            {name: (lambda f=f: f(x64)) for name, f in paths.items()},
            rounds=rounds,
            repeats=2,
            warmup=1,
        )
    base = throughput[BASELINE]["median_ms"]
    results["batch1_latency_ms"] = latency
    results["batch64"] = {
        name: {
            **t,
            "clips_per_s": BATCH / t["median_ms"] * 1e3,
            "speedup_vs_librosa_pipeline": base / t["median_ms"],
        }
        for name, t in throughput.items()
    }
    results["parity"] = _parity(model, x64)
    results["peak_rss_mb"] = {
        "keras_tone (predict_on_batch)": _child("rss", "keras_tone")["peak_rss_mb"],
        BASELINE: _child("rss", "librosa")["peak_rss_mb"],
    }
    results["cold_start"] = _cold_start(cold_runs)
    return results


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _cold_start(runs: int) -> dict[str, float]:
    samples = [_child("cold") for _ in range(runs)]
    keys = samples[0].keys()
    summary = {k: statistics.median(s[k] for s in samples) for k in keys}
    summary["tensorflow_share"] = summary["import_tensorflow_s"] / summary["total_s"]
    summary["runs"] = runs
    return summary


def _child_main(args: list[str]) -> dict[str, Any]:
    """Runs in a fresh interpreter: cold start, or peak RSS of one pipeline."""
    if args[0] == "cold":
        x = _common.clips(1)
        t0 = time.perf_counter()
        import tensorflow  # noqa: F401 - timed on its own

        t1 = time.perf_counter()
        import keras_tone  # noqa: F401

        t2 = time.perf_counter()
        model, _ = _common.load_tonenet()
        t3 = time.perf_counter()
        model.predict_on_batch(x)
        t4 = time.perf_counter()
        return {
            "import_tensorflow_s": t1 - t0,
            "import_keras_tone_rest_s": t2 - t1,
            "build_model_s": t3 - t2,
            "first_prediction_s": t4 - t3,
            "total_s": t4 - t0,
            "peak_rss_mb": _common.peak_rss_mb(),
        }
    x = _common.clips(BATCH)
    if args[1] == "keras_tone":
        model, _ = _common.load_tonenet()
        run_once = model.predict_on_batch
    else:
        features_model = _common.seed_network()

        def run_once(batch: np.ndarray) -> Any:
            return features_model.predict_on_batch(_librosa_features(batch))

    for _ in range(5):
        run_once(x)
    return {"peak_rss_mb": _common.peak_rss_mb()}


def report(results: dict[str, Any]) -> str:
    """The results as Markdown."""
    lat, thr = results["batch1_latency_ms"], results["batch64"]
    lines = [
        f"Weights: {results['weights']}. Clips of {results['clip_samples']} samples (16 kHz).",
        "",
        "| path | batch 1 latency ms (median, p10-p90) | batch 64 ms | clips/s | vs librosa |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in thr:
        a, b = lat[name], thr[name]
        lines.append(
            f"| {name} | {a['median_ms']:.2f} ({a['p10_ms']:.1f}-{a['p90_ms']:.1f}) | "
            f"{b['median_ms']:.0f} | {b['clips_per_s']:.0f} | "
            f"{b['speedup_vs_librosa_pipeline']:.2f}x |"
        )
    p, c, rss = results["parity"], results["cold_start"], results["peak_rss_mb"]
    lines += [
        "",
        f"Feature parity: in-graph log-mel vs librosa, max {p['log_mel_max_abs_db']:.2e} dB.",
        "",
        "Peak RSS (fresh process, 5 batches of 64): "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items())
        + ".",
        "",
        f"Cold start (fresh process, median of {c['runs']}): {c['total_s']:.2f} s from "
        f"`import keras_tone` to the first prediction: import tensorflow "
        f"{c['import_tensorflow_s']:.2f} s ({c['tensorflow_share']:.0%}), rest of keras_tone "
        f"{c['import_keras_tone_rest_s']:.2f} s, build ToneNet {c['build_model_s']:.2f} s, "
        f"first predict_on_batch {c['first_prediction_s']:.2f} s; peak RSS "
        f"{c['peak_rss_mb']:.0f} MB.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child_main(args.child)))
        return 0
    print(_common.machine())
    results = run(rounds=args.rounds, cold_runs=args.cold_runs)
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
