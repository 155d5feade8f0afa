"""Proposed fix for ToneNet's slow high-pass: the same FIR filter, computed polyphase.

ToneNet's front end filters the waveform with a 1023-tap FIR high-pass
(`tonenet.HIGHPASS`), a `Conv1D(1, 1023, padding="same")` on `[batch,
samples, 1]`. With one input and one output channel, TensorFlow's CPU
convolution runs it at a few GFLOP/s: on the 2-core benchmark machine it took
~300 ms of a ~420 ms batch of 64 clips, and ~16 ms of a ~23 ms single clip.

`PolyphaseFIR` computes the identical filter (same taps, same "same"
padding, same result to float32 rounding) as a convolution over blocks of
`phases` samples: the signal is reshaped to `[batch, samples / P, P]` and
convolved with a `[ceil((taps + P - 1) / P), P, P]` kernel built from the
taps. The multiply-adds stay about the same (taps + P per sample) but run as a
dense P-channel convolution, which the CPU kernels handle at full speed
(~15-20x faster here). It exports to TFLite built-ins and to ONNX.

The taps are a constant of the graph, not a variable (they are fixed by
`tonenet.HIGHPASS`). Weights files saved from the `Conv1D` version still load
into a model that uses it: Keras skips the file's `conv1d` entry and every
other layer keeps its key (checked below).

Drop-in change for `keras_tone/tonenet.py` (`_highpass`): replace the
`keras.layers.Conv1D(...)` call by
`PolyphaseFIR(kernel, name="highpass")(x)` with this layer moved into
`keras_tone/layers.py`.

Example:
    $ python benchmarks/highpass_polyphase.py     # checks, then timings
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import _common
import numpy as np


def polyphase_indices(taps: int, phases: int) -> np.ndarray:
    """Tap index `P*j + s - r` of kernel entry `[j, s, r]`; `taps` (a zero) when out of range."""
    blocks = -(-(taps + phases - 1) // phases)
    j, s, r = np.meshgrid(np.arange(blocks), np.arange(phases), np.arange(phases), indexing="ij")
    k = phases * j + s - r
    return np.where((k >= 0) & (k < taps), k, taps).astype("int32")


def _layer_class() -> Any:
    import tensorflow as tf

    from keras_tone._keras import keras

    @keras.utils.register_keras_serializable(package="keras_tone_bench")
    class PolyphaseFIR(keras.layers.Layer):
        """FIR filter of mono signals `[batch, samples, 1]`, "same" padding, polyphase.

        Equal to `keras.layers.Conv1D(1, taps, padding="same", use_bias=False)`
        with the same kernel (a cross-correlation, centred at tap
        `(taps - 1) // 2`).

        Args:
            kernel: the taps, shape `(taps,)`.
            phases: block size P of the polyphase form.
        """

        def __init__(self, kernel: Any, phases: int = 32, **kwargs: Any) -> None:
            kwargs.setdefault("dtype", "float32")
            super().__init__(**kwargs)
            self._taps = np.asarray(kernel, "float64").reshape(-1)
            self.phases = int(phases)
            index = polyphase_indices(self._taps.size, self.phases)
            # built once; embedded as a graph constant in call()
            self._weights = np.append(self._taps, 0.0)[index].astype("float32")

        def call(self, inputs: Any) -> Any:
            taps, p = self._taps.size, self.phases
            blocks = self._weights.shape[0]
            x = tf.reshape(inputs, [tf.shape(inputs)[0], -1])
            batch, length = tf.shape(x)[0], tf.shape(x)[1]
            out_blocks = (length + p - 1) // p
            left = (taps - 1) // 2
            total = (out_blocks + blocks - 1) * p
            x = tf.pad(x, [[0, 0], [left, total - length - left]])
            x = tf.reshape(x, [batch, out_blocks + blocks - 1, p])
            y = tf.nn.conv1d(x, tf.constant(self._weights), stride=1, padding="VALID")
            y = tf.reshape(y, [batch, out_blocks * p])[:, :length]
            return tf.expand_dims(y, -1)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return tuple(input_shape)

        def get_config(self) -> dict[str, Any]:
            config = super().get_config()
            config.update(kernel=self._taps.tolist(), phases=self.phases)
            return config

    return PolyphaseFIR


def with_polyphase_highpass(model: Any) -> Any:
    """A copy of a ToneNet whose `highpass` Conv1D is a `PolyphaseFIR`, weights copied."""
    from keras_tone._keras import keras

    fir = _layer_class()

    def clone(layer: Any) -> Any:
        if layer.name == "highpass":
            return fir(np.asarray(layer.get_weights()[0]).reshape(-1), name="highpass")
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in copy.layers:
        if layer.weights and layer.name != "highpass":
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return copy


def check(model: Any, fast: Any, workdir: Path) -> dict[str, float]:
    """Same output, a weights file of the Conv1D model loads, exports run."""
    from keras_tone import ToneNet
    from keras_tone.export import export, run_artefact

    x = _common.clips(8)
    x[:, :3001] = 0.0
    expected = model.predict_on_batch(x)
    out = {"max_abs_vs_conv1d": float(np.abs(fast.predict_on_batch(x) - expected).max())}
    odd = x[:3, :15001]
    out["max_abs_vs_conv1d_odd_length"] = float(
        np.abs(fast.predict_on_batch(odd) - model.predict_on_batch(odd)).max()
    )
    weights = workdir / "conv1d_model.weights.h5"
    model.save_weights(weights)
    fresh = with_polyphase_highpass(ToneNet(weights=None))
    fresh.load_weights(weights)
    out["max_abs_after_loading_conv1d_weights"] = float(
        np.abs(fresh.predict_on_batch(x) - expected).max()
    )
    for fmt, name in (("tflite", "m.tflite"), ("onnx", "m.onnx")):
        try:
            path = export(fast, workdir / name, fmt)
        except ImportError:
            continue
        out[f"max_abs_{fmt}"] = float(np.abs(run_artefact(path, fmt, x) - expected).max())
    return out


def main(argv: list[str] | None = None) -> int:
    del argv
    print(_common.machine())
    model, weights = _common.load_tonenet()
    if "highpass" not in [layer.name for layer in model.layers]:
        print("This ToneNet has no `highpass` layer: nothing to compare.")
        return 0
    fast = with_polyphase_highpass(model)
    with tempfile.TemporaryDirectory() as tmp:
        for key, value in check(model, fast, Path(tmp)).items():
            print(f"{key}: {value:.2e}")
    x64 = _common.clips(64)
    x1 = x64[:1].copy()
    for label, x, repeats in (("batch 1", x1, 10), ("batch 64", x64, 2)):
        timings = _common.interleaved(
            {
                "Conv1D high-pass (current)": lambda x=x: model.predict_on_batch(x),
                "PolyphaseFIR high-pass": lambda x=x: fast.predict_on_batch(x),
            },
            rounds=5,
            repeats=repeats,
        )
        for name, t in timings.items():
            print(f"{label}, ToneNet predict_on_batch, {name}: {t['median_ms']:.2f} ms (median)")
    print(f"(weights: {weights})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
