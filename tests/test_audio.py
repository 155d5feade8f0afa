"""load_audio, prepare_batch and decode_predictions."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from keras_tone import decode_predictions, load_audio, prepare_batch
from keras_tone.audio import to_mono_float
from keras_tone.labels import class_names


@pytest.mark.parametrize("extension", ["wav", "flac", "ogg", "mp3"])
def test_load_audio_formats(tmp_path, extension):
    y = (0.3 * np.sin(2 * np.pi * 220 * np.arange(22050) / 22050)).astype(np.float32)
    path = tmp_path / f"clip.{extension}"
    sf.write(path, np.stack([y, y], axis=1), 22050)  # stereo in: mono out
    out = load_audio(path, sample_rate=16000)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.size - 16000) < 1200  # mp3 adds encoder padding
    assert 0.15 < np.abs(out).max() < 0.4


def test_load_audio_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.wav"):
        load_audio(tmp_path / "nothing.wav")


def test_load_audio_undecodable_file(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio")
    with pytest.raises(ValueError, match="notes.wav' as audio: not audio: the file holds text"):
        load_audio(path)


def test_load_audio_espeak_clip(espeak_clips):
    out = load_audio(espeak_clips[1])
    assert out.size == pytest.approx(0.52 * 16000, rel=0.02)


@pytest.mark.parametrize(
    "clip, expected",
    [
        (np.array([16384, -32768], np.int16), [0.5, -1.0]),
        (np.array([128, 255, 0], np.uint8), [0.0, 127 / 128, -1.0]),
        (np.array([[0.2, 0.4], [0.6, 0.8], [1.0, 1.0]], np.float32), [0.3, 0.7, 1.0]),
        (np.array([[0.2, 0.4, 0.6], [0.0, 0.0, 0.0]], np.float64), [0.1, 0.2, 0.3]),
    ],
    ids=["int16", "uint8", "channels-last", "channels-first"],
)
def test_to_mono_float_conversions(clip, expected):
    out = to_mono_float(clip)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_prepare_batch_pads_at_the_end():
    batch = prepare_batch([np.full(3, 0.5, np.float32), np.full(5, 0.25, np.float32)])
    np.testing.assert_array_equal(batch[0], [0.5, 0.5, 0.5, 0, 0])
    assert batch.shape == (2, 5) and batch.dtype == np.float32


def test_prepare_batch_single_array_and_empty_list():
    assert prepare_batch(np.full(10, 0.1, np.float32)).shape == (1, 10)
    with pytest.raises(ValueError, match="no clips"):
        prepare_batch([])


def test_decode_predictions_four_and_five_classes():
    four = decode_predictions(np.array([[0.1, 0.2, 0.6, 0.1]]))
    assert four[0][0] == (3, "tone 3 (dipping)", pytest.approx(0.6))
    assert [t for t, _, _ in four[0]] == [3, 2, 1, 4]
    five = decode_predictions(np.array([[0.1, 0.1, 0.1, 0.1, 0.6]]), top=1)
    assert five == [[(5, "tone 5 (neutral)", pytest.approx(0.6))]]


@pytest.mark.parametrize("shape", [(4,), (1, 0), (2, 4, 1)])
def test_decode_predictions_refuses_wrong_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        decode_predictions(np.zeros(shape))


def test_decode_predictions_top_must_be_positive():
    with pytest.raises(ValueError, match="top"):
        decode_predictions(np.zeros((1, 4)), top=0)


def test_class_names():
    assert class_names(4)[-1] == "tone 4 (falling)"
    assert class_names(3) == ["class 1", "class 2", "class 3"]
    with pytest.raises(ValueError, match="classes=0"):
        class_names(0)


def test_decode_predictions_takes_the_config_names():
    names = ("low", "high")
    assert decode_predictions(np.array([[0.2, 0.8]]), top=1, names=names) == [[(2, "high", 0.8)]]
    with pytest.raises(ValueError, match="names must name each"):
        decode_predictions(np.zeros((1, 3)), names=names)
