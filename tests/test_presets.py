"""The shipped presets (`blcu`, `blcu-5tone`): resolution, the 5-class API, and predictions.

The weights in `weights/` were trained on the shared human recordings (see
their model cards for the leave-one-speaker-out accuracy). The clips here are
generated, so these tests check that the shipped files load, resolve through
every path, and behave sensibly on tones a listener would not doubt; they are
not an accuracy measurement.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import signals

from keras_tone import ToneNet, decode_predictions, list_presets, load_audio, prepare_batch, weights

if TYPE_CHECKING:
    from hub_server import HubEnv

pytest_plugins = ("hub_server",)  # the local_hub and hub_env fixtures

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
SHIPPED = {"blcu": 4, "blcu-5tone": 5}


@pytest.fixture(scope="module")
def blcu():
    return ToneNet(weights="blcu")


@pytest.fixture(scope="module")
def blcu_5tone():
    return ToneNet(weights="blcu-5tone", classes=5)


def test_shipped_presets_are_registered_and_bundled():
    assert set(SHIPPED) <= set(list_presets())
    for name, classes in SHIPPED.items():
        resolved = weights.resolve_weights(name)
        assert resolved.source == "bundled", name
        assert resolved.config["classes"] == classes
        assert weights.file_sha256(resolved.path) == weights.PRESETS[name]["sha256"]
        card = (WEIGHTS / name / "README.md").read_text()
        assert card.startswith("---\n") and "library_name: keras" in card


@pytest.mark.parametrize("pitch_scale", [0.5, 0.7])
def test_blcu_classifies_generated_tones(blcu, pitch_scale):
    """Voiced syllables following the four tone contours, in a low and a mid voice.

    (At higher pitch the synthetic tone 3, whose end rises above its start, is
    read as tone 2: it is a crude stand-in for a spoken third tone.)
    """
    clips = [signals.voiced_syllable(tone, pitch_scale=pitch_scale) for tone in (1, 2, 3, 4)]
    probs = blcu.predict(prepare_batch(clips), verbose=0)
    assert [best[0][0] for best in decode_predictions(probs, top=1)] == [1, 2, 3, 4]
    assert probs.max(axis=1).min() > 0.5


def test_blcu_on_espeak_clips(blcu, espeak_clips):
    """eSpeak's ma2 is read as the rising tone it is.

    The other eSpeak clips are no fair test: measured with pyin
    (`scripts/tone_contours.py`), its ma1 rises 91 -> 107 Hz much as ma2 rises
    81 -> 94 Hz, ma3 barely dips (80 -> 89 Hz) and ma4 stays level (91 -> 93 Hz).
    """
    probs = blcu.predict(prepare_batch([load_audio(espeak_clips[2])]), verbose=0)
    assert int(probs.argmax(axis=1)[0]) + 1 == 2


def test_blcu_5tone_model_and_names(blcu_5tone):
    assert blcu_5tone.output_shape == (None, 5)
    clips = [signals.voiced_syllable(tone, pitch_scale=0.7) for tone in (1, 2, 4)]
    probs = blcu_5tone.predict(prepare_batch(clips), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    decoded = decode_predictions(probs, top=5)
    assert {name for _, name, _ in decoded[0]} >= {"tone 5 (neutral)"}
    assert [d[0][0] for d in decoded] == [1, 2, 4]


@pytest.mark.parametrize(
    "preset, classes, trained",
    [("blcu-5tone", 4, 5), ("blcu", 5, 4)],
)
def test_preset_head_size_must_match(preset, classes, trained):
    with pytest.raises(ValueError, match=f"{trained}-class head.*received classes={classes}"):
        ToneNet(weights=preset, classes=classes)


def test_preset_backbone_with_a_new_head():
    model = ToneNet(weights="blcu-5tone", include_top=False, pooling="avg")
    assert model.output_shape == (None, 64)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_preset_through_the_local_hub_then_cache(
    name, hub_env: HubEnv, monkeypatch: pytest.MonkeyPatch
):
    """The real shipped files, served over HTTP at a pinned commit, verified and cached."""
    table = dict(weights.PRESETS)
    monkeypatch.setattr(weights, "PRESETS", table)
    monkeypatch.setattr(weights, "_bundled_roots", lambda: [])  # as on a pip install without them
    folder = WEIGHTS / name
    commit = hub_env.hub.add_commit(weights.PRESETS[name]["repo_id"], folder)
    entry = weights.preset_entry(folder, repo_id=weights.PRESETS[name]["repo_id"], revision=commit)
    assert entry["sha256"] == weights.PRESETS[name]["sha256"]
    table[name] = entry
    downloaded = weights.resolve_weights(name)
    assert downloaded.source == "hub" and commit in str(downloaded.path)
    hub_env.hub.stop()
    cached = weights.resolve_weights(name)
    assert cached.source == "cache" and cached.path == downloaded.path
    model = ToneNet(weights=name, classes=SHIPPED[name])
    assert model.output_shape == (None, SHIPPED[name])
