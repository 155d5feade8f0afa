"""The runner's CPU backend: Keras, XLA, the TFLite interpreter and onnxruntime, same run.

`keras_tone.runner.Runner` runs a ToneNet in two compiled passes, the front
end (waveforms to log-mel and pitch images) and the head (the two CNN
streams and the classifier). Each pass is timed on a batch of 64 one-second
clips through every backend that can run it, in alternating rounds:

* **Keras**: the runner's own `tf.function` (what it uses);
* **XLA**: the same with `jit_compile=True` (the front end does not compile:
  its silence trimming has data-dependent shapes);
* **TFLite**: `TFLiteConverter.from_keras_model`, built-in ops, the
  interpreter (XNNPACK) on every core;
* **onnxruntime**: `tf2onnx` (opset 17), `CPUExecutionProvider` on every core.

For each: the median wall time per batch, the median CPU time (all threads
of the process: under load from other processes it moves less than the wall
time), and the largest difference of the probabilities from Keras' (a front
end's images go through the Keras head). The runner's front-end pass also
gives the pitch histograms and the voiced seconds (`VoicedSpeech`, timed on
its own). The share of the front end and of the head in Keras' time says
what an ensemble of CNN heads over one front end would cost. For reference,
the seed's network (`_common.seed_network`: ToneNet's log-mel stream under
keras_tone 0.1.0's top, the baseline CNN of `bench_tonenet.py` and
`bench_folder.py`) on the same log-mel images.

Example:
    $ python benchmarks/bench_backends.py            # --readme: refresh its figures
    $ python benchmarks/bench_backends.py --rounds 3 --json out.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common
import numpy as np

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- backends:start -->", "<!-- backends:end -->"
BATCH = 64
CORES = 2


def _tflite(model: Any, workdir: Path, arrays: list[np.ndarray]) -> Callable[[], Any]:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    path = workdir / f"{model.name}.tflite"
    path.write_bytes(converter.convert())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=CORES)
    # the interpreter may order the inputs otherwise: pair them by shape
    by_shape = {tuple(a.shape[1:]): a for a in arrays}
    details = interpreter.get_input_details()
    arrays = [by_shape[tuple(d["shape"][1:])] for d in details]
    for detail, array in zip(details, arrays, strict=True):
        interpreter.resize_tensor_input(detail["index"], array.shape)
    interpreter.allocate_tensors()
    outputs = [d["index"] for d in interpreter.get_output_details()]

    def run() -> list[np.ndarray]:
        for detail, array in zip(details, arrays, strict=True):
            interpreter.set_tensor(detail["index"], array)
        interpreter.invoke()
        return [interpreter.get_tensor(i) for i in outputs]

    return run


def _onnx(model: Any, workdir: Path, arrays: list[np.ndarray]) -> Callable[[], Any]:
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    specs = [
        tf.TensorSpec([None, *t.shape[1:]], tf.float32, name=f"input_{i}")
        for i, t in enumerate(model.inputs)
    ]
    fn = tf.function(lambda *x: model(list(x) if len(x) > 1 else x[0], training=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=specs, opset=17)
    path = workdir / f"{model.name}.onnx"
    path.write_bytes(proto.SerializeToString())
    options = ort.SessionOptions()
    options.intra_op_num_threads = CORES
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {node.name: array for node, array in zip(session.get_inputs(), arrays, strict=True)}
    return lambda: session.run(None, feeds)


def _models(model: Any, samples: int) -> tuple[Any, Any]:
    """The front end alone (for `[BATCH, samples]`: TFLite needs the shape fixed) and the
    head alone as Keras models, with `model`'s weights."""
    from keras_tone import ToneNet
    from keras_tone._keras import keras
    from keras_tone.frontend import front_end_of
    from keras_tone.tonenet import transfer_weights

    front_end = front_end_of(model)
    waveforms = keras.Input(batch_shape=(BATCH, samples), name="waveform")
    front = keras.Model(waveforms, front_end(waveforms), name="front_end")
    head = ToneNet(weights=None, include_preprocessing=False, config=front_end.config, name="head")
    return front, transfer_weights(model, head)


def _timed(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, dict[str, float]]:
    """Alternating rounds: median wall and CPU milliseconds per call."""
    for fn in fns.values():
        fn()
        fn()
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(3):
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                wall[name].append((time.perf_counter() - start) * 1e3)
                cpu[name].append((time.process_time() - start_cpu) * 1e3)
    return {
        name: {"wall_ms": statistics.median(wall[name]), "cpu_ms": statistics.median(cpu[name])}
        for name in fns
    }


def _largest_difference(outputs: Any, reference: Any) -> float:
    """Over the outputs, paired by shape (runtimes may order them otherwise)."""

    def arrays(values: Any) -> list[np.ndarray]:
        values = values if isinstance(values, (list, tuple)) else [values]
        return sorted((np.asarray(v) for v in values), key=lambda v: v.shape)

    pairs = zip(arrays(outputs), arrays(reference), strict=True)
    return max(float(np.abs(a - b).max()) for a, b in pairs)


def _stages(model: Any, x: np.ndarray, rounds: int) -> dict[str, dict[str, float]]:
    """The front end's stages, each in `tf.function` on its own input (Keras)."""
    import tensorflow as tf

    from keras_tone.frontend import front_end_of

    front_end = front_end_of(model)
    spectrum = front_end.spectrum
    waveforms = tf.constant(x)
    syllables, _ = tf.function(front_end.normalize)(waveforms)

    def images(syllables: Any) -> list[Any]:  # what the front end does after normalising
        power = spectrum(syllables)
        layers = (front_end.log_mel, front_end.pitch)
        return [layer.from_power(spectrum.select(power, layer)) for layer in layers]

    highpass = tf.function(front_end.highpass)
    normalize = tf.function(front_end.normalize)
    shared = tf.function(images)
    power = tf.function(spectrum)
    log_mel = tf.function(front_end.log_mel)
    pitch = tf.function(front_end.pitch)
    return _timed(
        {
            "high-pass": lambda: highpass(waveforms),
            "high-pass, silence trimming and loudness": lambda: normalize(waveforms),
            "log-mel and pitch images (one shared power spectrum)": lambda: shared(syllables),
            "the shared power spectrum alone": lambda: power(syllables),
            "log-mel image, its layer alone (its own spectrum)": lambda: log_mel(syllables),
            "pitch salience image, its layer alone (its own spectrum)": lambda: pitch(syllables),
        },
        rounds,
    )


def run(rounds: int = 5) -> dict[str, Any]:
    import tensorflow as tf

    from keras_tone.layers import VoicedSpeech
    from keras_tone.runner import Runner

    model, weights = _common.load_tonenet()
    runner = Runner(model)
    x = _common.clips(BATCH)
    log_mel, salience, _, _ = runner.graph.front(x)
    images = [log_mel.numpy(), salience.numpy()]
    front, head = _models(model, x.shape[1])
    xla_head = tf.function(lambda a, b: head([a, b], training=False), jit_compile=True)
    passes: dict[str, dict[str, Callable[[], Any]]] = {"front end": {}, "head": {}}
    keras_front = tf.function(lambda waveforms: front(waveforms, training=False))
    voicing = tf.function(lambda waveforms: VoicedSpeech(sample_rate=runner.sample_rate)(waveforms))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        passes["front end"]["Keras"] = lambda: keras_front(x)
        passes["front end"]["Keras (runner: + histograms, voicing)"] = lambda: runner.graph.front(x)
        passes["front end"]["TFLite"] = _tflite(front, workdir, [x])
        passes["head"]["Keras"] = lambda: runner.graph.head(*images)
        passes["head"]["XLA"] = lambda: xla_head(*images)
        passes["head"]["TFLite"] = _tflite(head, workdir, images)
        try:
            passes["front end"]["onnxruntime"] = _onnx(front, workdir, [x])
            passes["head"]["onnxruntime"] = _onnx(head, workdir, images)
        except ImportError:
            pass
        passes["voicing"] = {"Keras": lambda: voicing(x)}
        seed = _common.seed_network()
        seed_cnn = tf.function(lambda image: seed(image, training=False))
        passes["seed CNN (reference)"] = {"Keras": lambda: seed_cnn(images[0])}
        results: dict[str, Any] = {"weights": weights, "batch": BATCH, "passes": {}}
        reference = runner.graph.head(*images).numpy()
        for name, fns in passes.items():
            timings = _timed(fns, rounds)
            results["passes"][name] = {}
            for backend, fn in fns.items():
                outputs = fn()
                if name == "front end":  # its images through the Keras head
                    shapes = {np.shape(o)[1:]: np.asarray(o) for o in outputs[:2]}
                    outputs = runner.graph.head(*(shapes[a.shape[1:]] for a in images))
                compared = name in ("front end", "head")
                difference = _largest_difference(outputs, reference) if compared else 0.0
                results["passes"][name][backend] = {**timings[backend], "max_abs_diff": difference}
    results["stages"] = _stages(model, x, rounds)
    front_ms = results["passes"]["front end"]["Keras"]["wall_ms"]
    head_ms = results["passes"]["head"]["Keras"]["wall_ms"]
    results["head_share"] = head_ms / (front_ms + head_ms)
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        f"Weights {results['weights']}; a batch of {results['batch']} clips of 1 s; medians "
        "over alternating rounds.",
        "",
        "| pass | backend | wall ms / batch | CPU ms / batch | probabilities: largest "
        "difference from Keras |",
        "|---|---|---:|---:|---:|",
    ]
    for name, backends in results["passes"].items():
        for backend, r in backends.items():
            lines.append(
                f"| {name} | {backend} | {r['wall_ms']:.1f} | {r['cpu_ms']:.1f} | "
                f"{r['max_abs_diff']:.1e} |"
            )
    lines += [
        "",
        "The front end's stages (Keras, each on its own input; the image stages on the "
        "normalised syllables):",
        "",
        "| stage | wall ms / batch | CPU ms / batch |",
        "|---|---:|---:|",
    ]
    for stage, r in results["stages"].items():
        lines.append(f"| {stage} | {r['wall_ms']:.1f} | {r['cpu_ms']:.1f} |")
    seed = results["passes"]["seed CNN (reference)"]["Keras"]
    head = results["passes"]["head"]["Keras"]
    lines += [
        "",
        f"The head takes {head['cpu_ms'] / seed['cpu_ms']:.2f}x the CPU time of the seed's "
        "CNN, which the baselines run.",
        "",
        f"The head (the CNN streams and the classifier) is **{results['head_share']:.0%}** of "
        "the Keras time of one batch, the front end the rest: an ensemble of k heads over one "
        f"front end would take about {1 - results['head_share']:.2f} + k x "
        f"{results['head_share']:.2f} of today's time.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--readme", action="store_true", help="refresh the figures in README.md")
    args = parser.parse_args(argv)
    machine = _common.machine()
    print(machine)
    results = run(rounds=args.rounds)
    text = report(results)
    print(text)
    if args.readme:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        section = (
            f"Run {stamp} with `python benchmarks/bench_backends.py`.\n\n"
            f"Machine: {machine}.\n\n{text}"
        )
        _common.replace_section(README, START, END, section)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
