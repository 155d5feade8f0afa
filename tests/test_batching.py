"""A clip's probabilities do not depend on the clips batched with it.

Each clip is predicted three ways: alone, in one zero-padded batch
(`prepare_batch`) with a clip ten times longer than the longest, and alone
followed by 2 s of digital silence. The three must agree within `ATOL` for
every shipped preset, alone and with a speaker context, for the context
encoder, and for the SavedModel, TFLite and ONNX exports. The clips are
those of tests/data and generated syllables of 0.1-2 s that end inside the
voice, where the old front end let a batch's padding into the syllable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from signals import voiced_syllable

from keras_tone import ToneNet, load_audio, prepare_batch, speaker_context
from keras_tone.context import context_encoder
from keras_tone.export import FORMATS, export, load_artefact

#: Largest difference in probability allowed between the three ways.
ATOL = 1e-5
RATE = 16000
PRESETS = ("blcu", "blcu-5tone", "blcu-words")


def _generated() -> list[np.ndarray]:
    """Voiced syllables of 0.1-2 s in light noise, cut before they fade out."""
    rng = np.random.default_rng(23)
    clips = []
    for tone, seconds, pitch in ((1, 0.1, 0.6), (2, 0.4, 1.1), (3, 0.9, 0.5), (4, 2.0, 0.8)):
        voice = voiced_syllable(tone, seconds=seconds / 0.9, pitch_scale=pitch, lead_silence=0.0)
        clip = voice[: int(seconds * RATE)]  # ends at full level, inside the voice
        clips.append(clip + 0.002 * rng.standard_normal(clip.size).astype("float32"))
    return clips


@pytest.fixture(scope="module")
def clips(espeak_clips) -> list[np.ndarray]:
    return [load_audio(path) for path in espeak_clips.values()] + _generated()


@pytest.fixture(scope="module")
def context(clips) -> np.ndarray:
    return speaker_context(clips)


def assert_batch_invariant(predict: Callable[[np.ndarray], np.ndarray], clips: list) -> None:
    """`predict([batch, samples]) -> [batch, ...]` gives each clip the same output in any batch."""
    alone = np.concatenate([predict(clip[None]) for clip in clips])
    longer = np.resize(clips[-1], 10 * max(clip.size for clip in clips))
    padded = predict(prepare_batch([*clips, longer]))[:-1]
    silence = np.concatenate([predict(np.pad(clip, (0, 2 * RATE))[None]) for clip in clips])
    np.testing.assert_allclose(padded, alone, atol=ATOL, rtol=0, err_msg="in a padded batch")
    np.testing.assert_allclose(silence, alone, atol=ATOL, rtol=0, err_msg="with 2 s of silence")


@pytest.mark.parametrize("name", PRESETS)
def test_presets_alone_and_with_context(name, clips, context):
    model = ToneNet(weights=name)
    assert_batch_invariant(lambda x: model(x, training=False).numpy(), clips)
    with_context = ToneNet(weights=name, speaker_context=True)

    def predict(x: np.ndarray) -> np.ndarray:
        contexts = np.repeat(context[None], len(x), axis=0)
        return with_context([x, contexts], training=False).numpy()

    assert_batch_invariant(predict, clips)


def test_context_encoder(clips):
    """A clip's pitch histogram, what the speaker context is made of, ignores its batch too."""
    encoder = context_encoder()
    assert_batch_invariant(lambda x: encoder(x, training=False).numpy(), clips)


#: What is exported: one preset in the default suite, the others with -m slow.
EXPORTED = [
    pytest.param("blcu", False, id="blcu"),
    pytest.param("blcu", True, id="blcu-context", marks=pytest.mark.slow),
    pytest.param("blcu-5tone", False, id="blcu-5tone", marks=pytest.mark.slow),
    pytest.param("blcu-5tone", True, id="blcu-5tone-context", marks=pytest.mark.slow),
    pytest.param("blcu-words", False, id="blcu-words", marks=pytest.mark.slow),
    pytest.param("blcu-words", True, id="blcu-words-context", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name, with_context", EXPORTED)
def test_exports(name, with_context, fmt, clips, context, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
        pytest.importorskip("onnxruntime")
    model = ToneNet(weights=name, speaker_context=with_context)
    suffix = {"saved_model": "", "tflite": ".tflite", "onnx": ".onnx"}[fmt]
    run = load_artefact(export(model, tmp_path / f"model{suffix}", format=fmt), fmt)

    def predict(x: np.ndarray) -> np.ndarray:
        if not with_context:
            return run(x)
        return run({"waveform": x, "speaker_context": np.repeat(context[None], len(x), axis=0)})

    assert_batch_invariant(predict, clips)
    first = clips[0][None]
    expected = model([first, context[None]] if with_context else first, training=False)
    np.testing.assert_allclose(predict(first), expected.numpy(), atol=1e-4)  # it is the model
