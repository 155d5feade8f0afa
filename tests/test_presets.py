"""The shipped presets (`blcu`, `blcu-5tone`): resolution, the 5-class API, and predictions.

The weights in `weights/` were trained on the shared human recordings (see
their model cards for the leave-one-speaker-out accuracy). The clips here are
generated, so these tests check that the shipped files load, resolve through
every path, and behave sensibly on tones a listener would not doubt; they are
not an accuracy measurement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import signals

from keras_tone import (
    ToneNet,
    decode_predictions,
    list_presets,
    load_audio,
    prepare_batch,
    preset_descriptions,
    presets,
    speaker_context,
    weights,
)

if TYPE_CHECKING:
    from hub_server import HubEnv

pytest_plugins = ("hub_server",)  # the local_hub and hub_env fixtures

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
SHIPPED = {"blcu": 4, "blcu-5tone": 5, "blcu-words": 5}


@pytest.fixture(scope="module")
def blcu():
    return ToneNet(weights="blcu")


@pytest.fixture(scope="module")
def blcu_5tone():
    return ToneNet(weights="blcu-5tone")


def test_shipped_presets_are_registered_and_bundled():
    assert set(SHIPPED) <= set(list_presets())
    for name, classes in SHIPPED.items():
        resolved = weights.resolve_weights(name)
        assert resolved.source == "bundled" and resolved.preset == name
        assert resolved.config.classes == classes
        assert presets.file_sha256(resolved.path) == presets.PRESETS[name]["sha256"]
        card = (WEIGHTS / name / "README.md").read_text()
        assert card.startswith("---\n") and "library_name: keras" in card
        metadata = json.loads((WEIGHTS / name / "metadata.json").read_text())
        assert metadata["sha256"]["model.weights.h5"] == presets.PRESETS[name]["sha256"]
        assert metadata["sha256"]["config.json"] == presets.PRESETS[name]["config_sha256"]
    assert preset_descriptions()["blcu"] == presets.PRESETS["blcu"]["description"]


def reference_clips() -> list[np.ndarray]:
    """The clips of tests/data/preset_predictions.json: generated, so decoding cannot move them."""
    rng = np.random.default_rng(0)
    clips = []
    for pitch in (0.5, 0.7, 1.0):
        for tone in (1, 2, 3, 4):
            clip = signals.voiced_syllable(
                tone, pitch_scale=pitch, lead_silence=0.05 * tone, gain=0.1 * tone
            )
            clips.append(clip + 0.003 * rng.standard_normal(clip.size).astype("float32"))
    return clips


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_presets_predict_as_recorded(name, blcu, blcu_5tone):
    """Probabilities and embeddings equal those recorded when the weights were published.

    `scripts/record_preset_predictions.py` wrote the JSON (its `computed_with` says when).
    """
    reference = json.loads((Path(__file__).parent / "data" / "preset_predictions.json").read_text())
    batch = prepare_batch(reference_clips())
    model = {"blcu": blcu, "blcu-5tone": blcu_5tone}.get(name) or ToneNet(weights=name)
    np.testing.assert_allclose(model.predict(batch, verbose=0), reference[name], atol=2e-6)
    backbone = ToneNet(weights=name, include_top=False, pooling="avg")
    embeddings = backbone.predict(batch[:2], verbose=0)[:, :8]
    np.testing.assert_allclose(embeddings, reference[f"{name}/backbone-avg"], atol=2e-5)


def _with_context(clips: list[np.ndarray]) -> dict:
    """A batch of one speaker's clips, each with the other clips as its speaker context."""
    context = np.stack(
        [speaker_context([c for j, c in enumerate(clips) if j != i]) for i in range(len(clips))]
    )
    return {"waveform": prepare_batch(clips), "speaker_context": context}


@pytest.mark.parametrize("pitch_scale", [0.5, 0.7, 1.0])
def test_blcu_classifies_generated_tones_with_their_speaker(pitch_scale):
    """Voiced syllables following the four tone contours, in a low, a mid and a high voice.

    Each clip gets the other three as speaker context. Alone, a fall in a low
    voice is ambiguous by design (a half third tone is a low fall too): at
    pitch scales 0.5 and 0.7 tone 4 alone is read as tone 3 (0.59 / 0.58
    against 0.38 / 0.40, measured when the weights were published).
    """
    model = ToneNet(weights="blcu", speaker_context=True)
    clips = [signals.voiced_syllable(tone, pitch_scale=pitch_scale) for tone in (1, 2, 3, 4)]
    probs = model.predict(_with_context(clips), verbose=0)
    assert [best[0][0] for best in decode_predictions(probs, top=1)] == [1, 2, 3, 4]
    assert probs.max(axis=1).min() > 0.5
    alone = model.predict(
        {"waveform": prepare_batch(clips), "speaker_context": np.zeros_like(probs, shape=(4, 87))},
        verbose=0,
    )
    assert [int(row.argmax()) + 1 for row in alone[:3]] == [1, 2, 3]
    assert set(np.argsort(alone[3])[-2:] + 1) == {3, 4}  # tone 4 alone: one of the two best


def test_blcu_on_espeak_clips(blcu, espeak_clips):
    """eSpeak's ma2 is read as the rising tone it is.

    The other eSpeak clips are no fair test: measured with pyin
    (`scripts/tone_contours.py`), its ma1 rises 91 -> 107 Hz much as ma2 rises
    81 -> 94 Hz, ma3 barely dips (80 -> 89 Hz) and ma4 stays level (91 -> 93 Hz).
    """
    probs = blcu.predict(prepare_batch([load_audio(espeak_clips[2])]), verbose=0)
    assert int(probs.argmax(axis=1)[0]) + 1 == 2


def test_blcu_5tone_model_and_names(blcu_5tone):
    """Five classes with their names; generated tones 1-4 with their speaker's context."""
    assert blcu_5tone.output_shape == (None, 5)
    clips = [signals.voiced_syllable(tone) for tone in (1, 2, 3, 4)]
    model = ToneNet(weights="blcu-5tone", speaker_context=True)
    probs = model.predict(_with_context(clips), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    decoded = decode_predictions(probs, top=5)
    assert {name for _, name, _ in decoded[0]} >= {"tone 5 (neutral)"}
    assert [d[0][0] for d in decoded] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "preset, classes, trained",
    [("blcu-5tone", 4, 5), ("blcu", 5, 4)],
)
def test_preset_head_size_must_match(preset, classes, trained):
    with pytest.raises(ValueError, match=f"{trained}-class head.*Received: classes={classes}$"):
        ToneNet(weights=preset, classes=classes)
    assert ToneNet(weights=preset, classes=trained).output_shape == (None, trained)


def test_preset_backbone_with_a_new_head():
    model = ToneNet(weights="blcu-5tone", include_top=False, pooling="avg")
    assert model.output_shape == (None, 64)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_preset_through_the_local_hub_then_cache(
    name, hub_env: HubEnv, monkeypatch: pytest.MonkeyPatch
):
    """The real shipped files, served over HTTP at a pinned commit, verified and cached."""
    table = dict(presets.PRESETS)
    monkeypatch.setattr(presets, "PRESETS", table)
    monkeypatch.setattr(weights, "_bundled_roots", lambda: [])  # as on a pip install without them
    folder = WEIGHTS / name
    commit = hub_env.hub.add_commit(presets.PRESETS[name]["repo_id"], folder)
    entry = presets.preset_entry(folder, repo_id=presets.PRESETS[name]["repo_id"], revision=commit)
    assert entry["sha256"] == presets.PRESETS[name]["sha256"]
    table[name] = entry
    downloaded = weights.resolve_weights(name)
    assert downloaded.source == "hub" and commit in str(downloaded.path)
    hub_env.hub.stop()
    cached = weights.resolve_weights(name)
    assert cached.source == "cache" and cached.path == downloaded.path
    model = ToneNet(weights=name)
    assert model.output_shape == (None, SHIPPED[name])
