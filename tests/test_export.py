"""SavedModel, TFLite and ONNX exports, each run by its own runtime, against Keras."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from signals import TONE_CONTOURS, voiced_syllable, white_noise

from keras_tone import ToneNet
from keras_tone._keras import keras
from keras_tone.export import export, run_artefact

#: Largest absolute difference in probability allowed between artefact and Keras.
ATOL = 1e-4
SAMPLES = 20000  # 1.25 s: longer than the 1 s the front end fits the syllable into


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(7)
    return ToneNet(weights=None)


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    """Six clips: the four tones at two pitches and leads, noise, and silence."""
    batch = np.zeros((6, SAMPLES), "float32")
    for i, tone in enumerate(TONE_CONTOURS):
        y = voiced_syllable(
            tone, pitch_scale=0.6 + 0.3 * i, lead_silence=0.05 * i, gain=0.1 + i / 10
        )
        batch[i, : min(y.size, SAMPLES)] = y[:SAMPLES]
    batch[4] = 0.05 * white_noise(16000, SAMPLES / 16000, seed=3)
    return batch  # batch[5] stays silent


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _report(fmt: str, path: Path, diff: float) -> None:
    print(f"{fmt}: {_size(path) / 1e6:.2f} MB, max abs difference from Keras {diff:.2e}")


def _tflite(path: Path) -> tf.lite.Interpreter:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tf.lite.Interpreter(model_path=str(path))


def _run_tflite(interpreter: tf.lite.Interpreter, x: np.ndarray) -> np.ndarray:
    (detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_saved_model_serves_raw_waveforms(model, clips, tmp_path):
    expected = model(clips, training=False).numpy()
    path = export(model, tmp_path / "tonenet", format="saved_model")
    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    (spec,) = signature.structured_input_signature[1].values()
    assert spec.shape.as_list() == [None, None] and spec.dtype == tf.float32
    got = loaded.serve(clips).numpy()
    from_signature = next(iter(signature(tf.constant(clips[:2])).values())).numpy()
    diff = float(np.abs(got - expected).max())
    _report("saved_model", path, diff)
    assert diff < ATOL
    np.testing.assert_allclose(from_signature, expected[:2], atol=ATOL)
    shorter = clips[:, :12000]  # any clip length
    np.testing.assert_allclose(
        loaded.serve(shorter).numpy(), model(shorter, training=False).numpy(), atol=ATOL
    )


def test_tflite_builtins_only_any_length(model, clips, tmp_path):
    expected = model(clips, training=False).numpy()
    path = export(model, tmp_path / "tonenet.tflite", format="tflite")
    interpreter = _tflite(path)
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(name.startswith("Flex") or name == "CUSTOM" for name in ops), ops
    assert list(interpreter.get_input_details()[0]["shape_signature"]) == [-1, -1]
    diff = float(np.abs(_run_tflite(interpreter, clips) - expected).max())
    _report("tflite", path, diff)
    assert diff < ATOL
    shorter = clips[:3, :12000]
    np.testing.assert_allclose(
        _run_tflite(interpreter, shorter), model(shorter, training=False).numpy(), atol=ATOL
    )


def test_tflite_fixed_shape(model, clips, tmp_path):
    path = export(model, tmp_path / "fixed.tflite", format="tflite", samples=SAMPLES, batch_size=1)
    interpreter = _tflite(path)
    (detail,) = interpreter.get_input_details()
    assert list(detail["shape_signature"]) == [1, SAMPLES]
    interpreter.allocate_tensors()
    expected = model(clips, training=False).numpy()
    diff = 0.0
    for clip, want in zip(clips, expected, strict=True):
        interpreter.set_tensor(detail["index"], clip[None])
        interpreter.invoke()
        got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        diff = max(diff, float(np.abs(got - want).max()))
    _report(f"tflite (fixed [1, {SAMPLES}])", path, diff)
    assert diff < ATOL


def test_onnx_runs_in_onnxruntime(model, clips, tmp_path):
    pytest.importorskip("tf2onnx")
    ort = pytest.importorskip("onnxruntime")
    expected = model(clips, training=False).numpy()
    path = export(model, tmp_path / "tonenet.onnx", format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "waveform" and len(inp.shape) == 2
    assert [o.name for o in session.get_outputs()] == ["predictions"]
    diff = float(np.abs(session.run(None, {"waveform": clips})[0] - expected).max())
    _report("onnx", path, diff)
    assert diff < ATOL
    shorter = clips[:2, :9000]
    np.testing.assert_allclose(
        session.run(None, {"waveform": shorter})[0],
        model(shorter, training=False).numpy(),
        atol=ATOL,
    )


@pytest.mark.parametrize("fmt", ["saved_model", "tflite", "onnx"])
def test_non_finite_clips_give_nan_in_every_runtime(model, clips, tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
    from keras_tone.export import run_artefact

    path = export(model, tmp_path / f"tonenet.{fmt}".replace(".saved_model", ""), format=fmt)
    x = clips[:4].copy()
    x[1, 3000] = np.nan
    x[3, 10] = np.inf
    got = run_artefact(path, fmt, x)
    assert np.isnan(got[[1, 3]]).all()
    np.testing.assert_allclose(got[[0, 2]], model(clips[[0, 2]], training=False), atol=ATOL)


def test_feature_input_model_exports(tmp_path):
    model = ToneNet(weights=None, include_preprocessing=False)
    rng = np.random.default_rng(0)
    features = {
        "log_mel": rng.uniform(-80, 0, (2, 32, 80)).astype("float32"),
        "salience": rng.uniform(0, 1, (2, 32, 87)).astype("float32"),
    }
    path = export(model, tmp_path / "features.tflite", format="tflite")
    got = run_artefact(path, "tflite", features)
    expected = model([features["log_mel"], features["salience"]], training=False).numpy()
    np.testing.assert_allclose(got, expected, atol=ATOL)
    with pytest.raises(ValueError, match="samples= fixes the clip length"):
        export(model, tmp_path / "x.tflite", format="tflite", samples=16000)


def test_unknown_format_is_refused(model, tmp_path):
    with pytest.raises(ValueError, match=r"format must be one of .*Received: format='coreml'"):
        export(model, tmp_path / "m", format="coreml")


def test_non_exportable_models_are_refused(tmp_path):
    with pytest.raises(TypeError, match="takes a keras.Model"):
        export(object(), tmp_path / "m", format="tflite")
    with pytest.raises(ValueError, match="no defined inputs"):
        export(keras.Sequential([keras.layers.Dense(2)]), tmp_path / "m", format="tflite")
    a = keras.Input((4,))
    two = keras.Model(a, [keras.layers.Dense(2)(a), keras.layers.Dense(3)(a)])
    with pytest.raises(ValueError, match="one output"):
        export(two, tmp_path / "m", format="saved_model")


def test_wrong_samples_refused(tmp_path):
    fixed = ToneNet(weights=None, input_shape=(16000,))
    with pytest.raises(ValueError, match="matching the model's input length 16000"):
        export(fixed, tmp_path / "m.tflite", format="tflite", samples=8000)


def test_onnx_unsupported_ops_fail_loudly(tmp_path):
    """tf2onnx writes an unloadable file for tf.signal.stft; export must raise, not ship it."""
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")

    class Stft(keras.layers.Layer):
        def call(self, x):
            return tf.abs(tf.signal.stft(x, 256, 128))

    inputs = keras.Input((None,))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(Stft()(inputs)))
    path = tmp_path / "stft.onnx"
    with pytest.raises(ValueError, match="(cannot express|cannot run)"):
        export(model, path, format="onnx")
    assert not path.exists()


def test_onnx_missing_dependency_names_the_extra(model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    with pytest.raises(ImportError, match=r"pip install keras-tone\[export\]"):
        export(model, tmp_path / "m.onnx", format="onnx")


def test_verification_catches_a_wrong_artefact(model, tmp_path, monkeypatch):
    # by module name: keras_tone.export may be the function once __init__ exports it
    export_module = importlib.import_module("keras_tone.export")
    monkeypatch.setattr(
        export_module, "run_artefact", lambda path, fmt, x: np.full((len(x), 4), 1e20)
    )
    with pytest.raises(ValueError, match="does not reproduce the Keras model"):
        export(model, tmp_path / "m.tflite", format="tflite")


@pytest.mark.parametrize("fmt", ["saved_model", "tflite", "onnx"])
def test_speaker_context_model_exports_with_both_inputs(clips, tmp_path, fmt):
    """The two-input model: each runtime reproduces Keras with a real speaker context."""
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
        pytest.importorskip("onnxruntime")
    from keras_tone import speaker_context

    keras.utils.set_random_seed(7)
    model = ToneNet(weights=None, speaker_context=True)
    context = np.repeat(speaker_context(list(clips[:4]))[None], len(clips), axis=0)
    expected = model([clips, context], training=False).numpy()
    suffix = {"saved_model": "", "tflite": ".tflite", "onnx": ".onnx"}[fmt]
    path = export(model, tmp_path / f"context{suffix}", format=fmt)
    got = run_artefact(path, fmt, {"waveform": clips, "speaker_context": context})
    diff = float(np.abs(got - expected).max())
    _report(f"{fmt} with speaker context", path, diff)
    assert diff < ATOL
    alone = ToneNet(weights=None, speaker_context=False)
    alone.set_weights(model.get_weights())
    assert not np.allclose(expected, alone(clips, training=False).numpy(), atol=1e-3)
