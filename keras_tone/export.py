"""Export a keras_tone model to SavedModel, TFLite or ONNX, front end included.

The exported artefact takes what the Keras model takes: for `ToneNet` (with
`include_preprocessing=True`) raw mono float32 waveforms `[batch, samples]`
at the model's sampling rate, and it returns the class probabilities. Silence
trimming, loudness normalisation and the log-mel front end run inside the
artefact, so a server, a phone or an ONNX runtime needs no librosa.

| format          | writes        | input length by default | runtime                      |
|-----------------|---------------|-------------------------|------------------------------|
| `"saved_model"` | a directory   | dynamic `[None, None]`  | `tf.saved_model.load`, TF Serving |
| `"tflite"`      | a `.tflite` file | dynamic `[None, None]` | `tf.lite.Interpreter` / LiteRT |
| `"onnx"`        | a `.onnx` file | dynamic `[None, None]`  | `onnxruntime`                |

All three accept any batch size and clip length by default (every op of the
front end has a TFLite built-in and an ONNX equivalent). Pass `samples=` (and
`batch_size=`) for a fully static graph: TFLite's GPU, NNAPI and Core ML
delegates need one, and the interpreter then needs no `resize_tensor_input`.
Pad shorter clips with zeros at the end (`SyllableNormalization` trims the
silence) and cut longer ones.

TFLite uses built-in ops only (`TFLITE_BUILTINS`, no Flex/`SELECT_TF_OPS`)
and is converted with `TFLiteConverter.from_keras_model` (converting a Keras 3
model from concrete functions returns garbage). ONNX goes through `tf2onnx`
(opset 17 by default); install it with `pip install keras-tone[export]`.

A ToneNet built with `speaker_context=True` exports with both its inputs,
`waveform` `[batch, samples]` and `speaker_context` `[batch, candidates]`,
named so in every runtime; `run_artefact` takes them as a dict.

Each export is checked before it returns (`verify=True`): the artefact is
loaded by its own runtime and run on a probe batch, and its output must match
the Keras model's within `atol`. A converter that drops an op silently (as
tf2onnx does for complex FFT ops) then fails here, not in production.

Example:
    >>> import tempfile, numpy as np
    >>> import keras_tone
    >>> from keras_tone.export import export
    >>> model = keras_tone.ToneNet(weights=None)
    >>> path = export(model, tempfile.mkdtemp() + "/tonenet.tflite", format="tflite")
    >>> path.suffix
    '.tflite'
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone._keras import keras

FORMATS = ("saved_model", "tflite", "onnx")

#: Clip length of the verification probe when the model takes any length.
PROBE_SAMPLES = 16000
_EXTRA_HINT = "pip install keras-tone[export]"


def export(
    model: keras.Model,
    path: str | os.PathLike,
    format: str = "saved_model",
    *,
    samples: int | None = None,
    batch_size: int | None = None,
    opset: int = 17,
    verify: bool = True,
    atol: float = 1e-4,
) -> Path:
    """Write `model` as a SavedModel, TFLite or ONNX artefact.

    Args:
        model: a built single-input, single-output `keras.Model`, such as
            `keras_tone.ToneNet(...)`.
        path: where to write: a directory for `"saved_model"`, a file for
            `"tflite"` and `"onnx"` (parent folders are created; an existing
            artefact there is replaced).
        format: `"saved_model"`, `"tflite"` or `"onnx"`.
        samples: fix the clip length (in samples) of a waveform model; `None`
            keeps the model's own input length (any length for `ToneNet`).
        batch_size: fix the batch size; `None` for any batch size.
        opset: ONNX opset (`"onnx"` only).
        verify: load the artefact with its own runtime and check that it
            reproduces the Keras model on a probe batch.
        atol: largest absolute difference `verify` accepts.

    Returns:
        The path written, as a `pathlib.Path`.

    Raises:
        ValueError: unknown `format`, a model that cannot be exported (not
            built, several inputs or outputs, `samples` on a model that does
            not take waveforms), ops the format cannot express, or an artefact
            that does not reproduce the model.
        TypeError: `model` is not a Keras model of the Keras keras_tone uses.
        ImportError: `format="onnx"` without tf2onnx, onnx and onnxruntime.

    Example:
        >>> import tempfile, numpy as np, tensorflow as tf
        >>> import keras_tone
        >>> from keras_tone.export import export
        >>> model = keras_tone.ToneNet(weights=None)
        >>> path = export(model, tempfile.mkdtemp() + "/tonenet")
        >>> served = tf.saved_model.load(str(path))  # keep a reference to it
        >>> served.serve(np.zeros((2, 16000), "float32")).shape
        TensorShape([2, 4])
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}. Received: format={format!r}")
    if format == "onnx":
        _import_onnx_tools()  # fail before any work
    specs = _input_specs(model, samples=samples, batch_size=batch_size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(path)
    if format == "saved_model":
        _write_saved_model(model, path, specs)
    elif format == "tflite":
        _write_tflite(model, path, specs)
    else:
        _write_onnx(model, path, specs, opset=opset)
    if verify:
        _verify(model, path, format, specs, atol=atol)
    return path


def run_artefact(
    path: str | os.PathLike, format: str, inputs: np.ndarray | dict[str, np.ndarray]
) -> np.ndarray:
    """Run an exported artefact with its own runtime on one float32 batch.

    `inputs` is one array, or a dict `{input name: array}` for a model of
    several inputs (e.g. `{"waveform": ..., "speaker_context": ...}`). A small
    convenience for checks and benchmarks: it loads the artefact on every
    call; `load_artefact` loads it once.

    Example:
        >>> import tempfile, numpy as np
        >>> import keras_tone
        >>> from keras_tone.export import export, run_artefact
        >>> path = export(keras_tone.ToneNet(weights=None),
        ...               tempfile.mkdtemp() + "/m.tflite", format="tflite")
        >>> run_artefact(path, "tflite", np.zeros((3, 8000), "float32")).shape
        (3, 4)
    """
    return load_artefact(path, format)(inputs)


def load_artefact(
    path: str | os.PathLike, format: str
) -> Callable[[np.ndarray | dict[str, np.ndarray]], np.ndarray]:
    """Load an exported artefact with its own runtime; return a function that runs it.

    The function takes what `run_artefact` takes (one float32 batch, or a
    dict of them by input name), of any batch size and clip length the
    artefact accepts, and returns its output as numpy.

    Example:
        >>> import tempfile, numpy as np
        >>> import keras_tone
        >>> from keras_tone.export import export, load_artefact
        >>> path = export(keras_tone.ToneNet(weights=None),
        ...               tempfile.mkdtemp() + "/m.tflite", format="tflite")
        >>> run = load_artefact(path, "tflite")
        >>> run(np.zeros((3, 8000), "float32")).shape, run(np.zeros((1, 500), "float32")).shape
        ((3, 4), (1, 4))
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}. Received: format={format!r}")
    if format == "saved_model":
        return _saved_model_runner(tf.saved_model.load(str(path)))
    if format == "tflite":
        return _tflite_runner(_tflite_interpreter(path))
    ort = _import_onnx_tools()[2]
    return _onnx_runner(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]))


def _arrays(inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str | None, np.ndarray]:
    """`{input name or None: contiguous float32 array}`."""
    named = inputs if isinstance(inputs, dict) else {None: inputs}
    return {name: np.ascontiguousarray(x, dtype="float32") for name, x in named.items()}


def _saved_model_runner(loaded: Any) -> Callable[..., np.ndarray]:
    def run(inputs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        arrays = _arrays(inputs)
        if None in arrays:
            return loaded.serve(arrays[None]).numpy()
        signature = loaded.signatures["serve"]  # keyword arguments named after the inputs
        names = list(signature.structured_input_signature[1])
        feeds = _match(names, arrays, lambda name: name)
        (output,) = signature(**{name: tf.constant(array) for name, array in feeds}).values()
        return output.numpy()

    return run


def _tflite_runner(interpreter: Any) -> Callable[..., np.ndarray]:
    def run(inputs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        details = _match(interpreter.get_input_details(), _arrays(inputs), lambda d: d["name"])
        for detail, array in details:
            if tuple(detail["shape"]) != array.shape:
                interpreter.resize_tensor_input(detail["index"], array.shape)
        interpreter.allocate_tensors()
        for detail, array in details:
            interpreter.set_tensor(detail["index"], array)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    return run


def _onnx_runner(session: Any) -> Callable[..., np.ndarray]:
    def run(inputs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        feeds = _match(session.get_inputs(), _arrays(inputs), lambda node: node.name)
        return session.run(None, {node.name: array for node, array in feeds})[0]

    return run


def _match(nodes: list, arrays: dict, name_of: Any) -> list[tuple[Any, np.ndarray]]:
    """Pair a runtime's input nodes with the arrays named after the model's inputs.

    Runtimes name the inputs after the Keras ones, decorated
    (`serving_default_waveform:0`): the array whose name the node's name
    contains, longest name first.
    """
    if None in arrays:
        if len(nodes) != 1:
            raise ValueError(
                f"The artefact takes {len(nodes)} inputs: pass a dict {{name: array}}. "
                "Received: one array"
            )
        return [(nodes[0], arrays[None])]
    pairs = []
    for node in nodes:
        found = [n for n in sorted(arrays, key=len, reverse=True) if n in name_of(node)]
        if not found:
            raise ValueError(
                f"No array for the artefact's input {name_of(node)!r}. "
                f"Received: inputs named {sorted(arrays)}"
            )
        pairs.append((node, arrays[found[0]]))
    return pairs


# --- checks -------------------------------------------------------------------


def _input_specs(model: Any, *, samples: int | None, batch_size: int | None) -> list[tf.TensorSpec]:
    if not isinstance(model, keras.Model):
        raise TypeError(
            "export() takes a keras.Model of the Keras that keras_tone uses "
            f"(tensorflow.keras). Received: model of type {type(model).__module__}."
            f"{type(model).__qualname__}"
        )
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(
            f"Model {model.name!r} has no defined inputs, so its input signature is "
            "unknown. Export a functional model such as keras_tone.ToneNet(...), "
            "or build yours with keras.Input(...)."
        )
    if len(outputs) != 1:
        raise ValueError(
            "export() supports models with one output; model "
            f"{model.name!r} has {len(outputs)} outputs."
        )
    specs = []
    for position, tensor in enumerate(inputs):
        shape = list(tensor.shape)
        if samples is not None and position == 0:
            if len(shape) != 2:
                raise ValueError(
                    "samples= fixes the clip length of a model that takes waveforms "
                    f"[batch, samples]; model {model.name!r} takes inputs of shape "
                    f"{tuple(shape)}. Leave samples=None."
                )
            if int(samples) < 1 or (shape[1] is not None and shape[1] != int(samples)):
                raise ValueError(
                    f"samples must be a positive integer matching the model's input "
                    f"length {shape[1]}. Received: samples={samples}"
                )
            shape[1] = int(samples)
        if batch_size is not None:
            if int(batch_size) < 1:
                raise ValueError(
                    f"batch_size must be positive or None. Received: batch_size={batch_size}"
                )
            shape[0] = int(batch_size)
        if tensor.dtype not in ("float32", tf.float32):
            raise ValueError(
                f"export() expects float32 inputs; model {model.name!r} takes {tensor.dtype}."
            )
        name = (getattr(tensor, "name", None) or f"input_{position}").split(":")[0]
        specs.append(tf.TensorSpec(shape, tf.float32, name=name.replace("/", "_")))
    return specs


def _probe(specs: list[tf.TensorSpec]) -> list[np.ndarray]:
    batch = specs[0].shape[0] if specs[0].shape[0] is not None else 3
    rng = np.random.default_rng(0)
    probes = []
    for position, spec in enumerate(specs):
        rest = [PROBE_SAMPLES if d is None else d for d in spec.shape[1:]]
        if position > 0:  # a speaker context: non-negative histogram mass
            probes.append(rng.gamma(0.3, 1.0, (batch, *rest)).astype("float32"))
            continue
        probe = rng.normal(0.0, 0.1, (batch, *rest)).astype("float32")
        if len(rest) == 1 and rest[0] > 8:  # a waveform: give it a silent lead and a tone
            n = rest[0]
            t = np.arange(n) / PROBE_SAMPLES
            probe[:, : n // 5] = 0.0
            probe[0] += (0.3 * np.sin(2 * np.pi * (200 + 100 * t) * t)).astype("float32")
        probes.append(probe)
    return probes


def _verify(
    model: keras.Model, path: Path, format: str, specs: list[tf.TensorSpec], *, atol: float
) -> None:
    probes = _probe(specs)
    expected = np.asarray(model(probes if len(probes) > 1 else probes[0], training=False))
    named = {s.name: p for s, p in zip(specs, probes, strict=True)}
    try:
        got = run_artefact(path, format, named if len(named) > 1 else probes[0])
    except Exception as error:  # the runtime refused the artefact
        _remove(path)
        raise ValueError(
            f"The {format} export of {model.name!r} was written but its runtime cannot "
            f"run it ({type(error).__name__}: {str(error)[:500]}). The file was removed."
        ) from error
    diff = float(np.max(np.abs(got - expected)))
    if not np.isfinite(diff) or diff > atol:
        raise ValueError(
            f"The {format} export at {str(path)!r} does not reproduce the Keras model: "
            f"max abs difference {diff:.3g} > atol={atol:g} on a probe batch of shape "
            f"{probes[0].shape}."
        )


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


# --- writers ------------------------------------------------------------------


def _write_saved_model(model: keras.Model, path: Path, specs: list[tf.TensorSpec]) -> None:
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", _serving_function(model, specs), input_signature=specs)
    archive.write_out(str(path), verbose=False)


def _serving_function(model: keras.Model, specs: list[tf.TensorSpec]) -> Any:
    """`model` called on one positional tensor per input, in inference mode."""
    if len(specs) == 1:
        return lambda waveforms: model(waveforms, training=False)
    return lambda *inputs: model(list(inputs), training=False)


def _fixed_model(model: keras.Model, specs: list[tf.TensorSpec]) -> keras.Model:
    """`model` behind inputs of exactly `specs`' shapes (itself when it already has them)."""
    if all(tuple(t.shape) == tuple(s.shape) for t, s in zip(model.inputs, specs, strict=True)):
        return model
    inputs = [keras.Input(batch_shape=tuple(s.shape), name=s.name) for s in specs]
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=model.name)


def _write_tflite(model: keras.Model, path: Path, specs: list[tf.TensorSpec]) -> None:
    converter = tf.lite.TFLiteConverter.from_keras_model(_fixed_model(model, specs))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            flatbuffer = converter.convert()
    except Exception as error:
        raise ValueError(
            f"Model {model.name!r} does not convert to TFLite with built-in ops only "
            "(keras_tone never enables Flex/SELECT_TF_OPS, which needs the large Flex "
            f"runtime on device). The converter said: {str(error)[-1500:]}"
        ) from error
    path.write_bytes(flatbuffer)


def _import_onnx_tools() -> tuple[Any, Any, Any]:
    try:
        import onnx
        import onnxruntime
        import tf2onnx
    except ImportError as error:
        raise ImportError(
            f"ONNX export needs tf2onnx, onnx and onnxruntime ({error}). Install them "
            f"with `{_EXTRA_HINT}`."
        ) from error
    return tf2onnx, onnx, onnxruntime


class _RecordUnsupported(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "nsupported" in message or "ailed" in message:
            self.messages.append(message)


def _write_onnx(model: keras.Model, path: Path, specs: list[tf.TensorSpec], *, opset: int) -> None:
    tf2onnx, onnx, _ = _import_onnx_tools()
    serve = tf.function(_serving_function(model, specs), input_signature=specs)

    handler = _RecordUnsupported()
    logger = logging.getLogger("tf2onnx")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proto, _ = tf2onnx.convert.from_function(serve, input_signature=specs, opset=opset)
    except Exception as error:
        raise ValueError(
            f"tf2onnx could not convert model {model.name!r} (opset {opset}): {error}"
        ) from error
    finally:
        logger.removeHandler(handler)
    if handler.messages:
        raise ValueError(
            f"tf2onnx cannot express every op of model {model.name!r} in ONNX opset "
            f"{opset}: {' '.join(handler.messages)[:1500]}. (An STFT through "
            "tf.signal.stft/rfft is the usual cause; keras_tone's layers avoid it.)"
        )
    _rename_output(proto, _output_name(model))
    onnx.save(proto, str(path))


def _output_name(model: keras.Model) -> str:
    names = getattr(model, "output_names", None) or ["outputs"]
    return str(names[0])


def _rename_output(proto: Any, name: str) -> None:
    old = proto.graph.output[0].name
    if old == name:
        return
    for node in proto.graph.node:
        for i, output in enumerate(node.output):
            if output == old:
                node.output[i] = name
        for i, value in enumerate(node.input):
            if value == old:
                node.input[i] = name
    proto.graph.output[0].name = name


def _tflite_interpreter(path: str | os.PathLike) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        return tf.lite.Interpreter(model_path=str(path))


__all__ = ["FORMATS", "export", "load_artefact", "run_artefact"]
