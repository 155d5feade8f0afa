"""`keras_tone.score`: expected against heard tones of one word, syllable by syllable.

The model is a randomly initialised 5-class ToneNet saved as a preset (and a
4-class one built in memory): these tests check the plumbing (syllables,
intervals, contexts, verdicts, errors), not accuracy. The words are
vowel-like harmonic signals that follow tone contours (`signals.py`).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from signals import voiced_word as word  # syllables at 0.1-0.4 s, 0.5-0.8 s...

import keras_tone
from keras_tone.audio import cut
from keras_tone.context import pitch_histograms
from keras_tone.runner import Runner
from keras_tone.scoring import VERDICTS, score, verdict, word_verdict
from keras_tone.textgrid import Interval

SR = 16000


@pytest.fixture(scope="module")
def model(preset: str):
    return keras_tone.load_model(preset, speaker_context=True)


def test_score_reports_each_syllable(preset: str) -> None:
    result = score(word(2, 3), "ni3 hao3", hanzi="你好", weights=preset)
    json.dumps(result)  # plain data
    assert result["pinyin"] == "ni3 hao3" and result["hanzi"] == "你好"
    assert result["expected"] == [2, 3] and result["classes"] == 5
    first, second = result["syllables"]
    assert (first["pinyin"], first["hanzi"], first["citation"], first["expected"]) == (
        "ni3",
        "你",
        3,
        2,
    )
    assert first["rule"] == "third-tone" and second["rule"] is None
    assert (second["citation"], second["expected"]) == (3, 3)
    # The syllables: 0.1-0.4 s and 0.5-0.8 s (a pause between them).
    assert first["start"] == pytest.approx(0.1, abs=0.03)
    assert 0.38 <= first["end"] <= second["start"] <= 0.52
    assert second["end"] == pytest.approx(0.8, abs=0.03)
    for syllable in result["syllables"]:
        probs = np.array(syllable["probabilities"])
        assert probs.shape == (5,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
        assert syllable["heard"] == int(np.argmax(probs)) + 1
        assert syllable["probability"] == pytest.approx(probs.max())
        assert syllable["expected_probability"] == pytest.approx(probs[syllable["expected"] - 1])
        assert syllable["verdict"] == verdict(probs, syllable["expected"])
    assert result["heard"] == [s["heard"] for s in result["syllables"]]
    assert sum(result["counts"].values()) == 2
    assert result["verdict"] == word_verdict([s["verdict"] for s in result["syllables"]])
    assert result["duration"] == pytest.approx(word(2, 3).size / SR)


def test_score_applies_the_yi_rule_with_characters(model) -> None:
    result = score(word(2, 4), "yī dìng", hanzi="一定", weights=model)
    assert [(s["expected"], s["rule"]) for s in result["syllables"]] == [(2, "yi"), (4, None)]
    without = score(word(2, 4), "yi1 ding4", weights=model)
    assert without["expected"] == [1, 4]  # yi1 may be 医: no rule without the characters


def test_score_takes_boundaries_as_pairs_or_textgrid_intervals(model) -> None:
    pairs = score(word(1, 4), "ma1 ma4", weights=model, boundaries=[(0.1, 0.42), (0.48, 0.8)])
    assert [(s["start"], s["end"]) for s in pairs["syllables"]] == [(0.1, 0.42), (0.48, 0.8)]
    grid = [Interval(0.1, 0.42, "ma1"), Interval(0.48, 0.8, "ma4")]
    intervals = score(word(1, 4), "ma1 ma4", weights=model, boundaries=grid)
    assert intervals["syllables"] == pairs["syllables"]


def test_score_context_is_the_other_syllables_plus_the_speaker(model, monkeypatch) -> None:
    """Each syllable's context: the pitch histograms of the word's other syllables (+ given)."""
    seen = {}
    features, head = Runner.features, Runner._head

    def spy_features(self, clips):
        seen["clips"] = clips
        return features(self, clips)

    def spy_head(self, log_mel, salience, context):
        seen["contexts"] = context  # what reaches the model, one batch of three
        return head(self, log_mel, salience, context)

    monkeypatch.setattr(Runner, "features", spy_features)
    monkeypatch.setattr(Runner, "_head", spy_head)
    audio = word(1, 2, 4)
    bounds = [(0.1, 0.4), (0.45, 0.75), (0.8, 1.1)]
    extra = np.linspace(0.0, 1.0, int(model.inputs[1].shape[-1])).astype("float32")
    score(audio, "ma1 ma2 ma4", weights=model, boundaries=bounds, speaker_context=extra)
    histograms = pitch_histograms(cut(audio, SR, bounds), model=model)
    assert histograms.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)  # all voiced
    expected = histograms.sum(axis=0, keepdims=True) - histograms + extra
    np.testing.assert_allclose(seen["contexts"], expected, atol=1e-5)
    assert [len(c) for c in seen["clips"]] == [4800, 4800, 4800]


def test_score_resamples_to_the_model_rate(model) -> None:
    at_16k = score(word(2, 3), "ni3 hao3", weights=model)
    at_22k = score(word(2, 3, sample_rate=22050), "ni3 hao3", weights=model, sample_rate=22050)
    for a, b in zip(at_16k["syllables"], at_22k["syllables"], strict=True):
        assert a["start"] == pytest.approx(b["start"], abs=0.02)
        assert a["end"] == pytest.approx(b["end"], abs=0.02)


def test_a_four_class_model_does_not_judge_neutral_tones() -> None:
    four = keras_tone.ToneNet(weights=None, speaker_context=True)
    result = score(word(4, 3), "shi4 de", weights=four)
    assert result["classes"] == 4 and result["expected"] == [4, 5]
    first, second = result["syllables"]
    assert second["verdict"] == "not judged" and second["expected_probability"] is None
    assert len(second["probabilities"]) == 4 and 1 <= second["heard"] <= 4
    assert result["counts"]["not judged"] == 1
    assert result["verdict"] == first["verdict"]


@pytest.mark.parametrize(
    ("make_audio", "expected", "options", "message"),
    [
        (lambda: np.zeros(0, "float32"), "ni3 hao3", {}, "waveform is empty"),
        (lambda: np.zeros(SR, "float32"), "ni3 hao3", {}, "no voiced speech"),
        (lambda: word(2), "nı3 hoa3", {}, "Cannot read the pinyin"),
        (lambda: word(2), "ni3 hao3", {"hanzi": "你"}, "1 characters for 2 syllables"),
        (lambda: word(2)[:4800], "a1 " * 6, {}, "holds about 1 syllable, not the 6 expected"),
        (lambda: word(2)[:2400], "a1", {}, "too little voiced speech (0.05 s"),
        (lambda: word(2, 3), "ni3 hao3", {"boundaries": [(0.1, 0.4)]}, "1 intervals for the 2"),
        (
            lambda: word(2, 3),
            "ni3 hao3",
            {"boundaries": [(0.1, 0.4), (2.0, 2.5)]},
            "start within the recording",
        ),
        (
            lambda: np.concatenate([word(2), np.zeros(SR, "float32")]),
            "ni3 hao3",
            {"boundaries": [(0.1, 0.4), (0.8, 1.2)]},
            "hao3 (0.80-1.20 s) is silent",
        ),
        (lambda: word(2, 3), "ni3 hao3", {"speaker_context": np.ones(3)}, "speaker_context"),
        (lambda: word(2, 3), "ni3 hao3", {"unsure_below": 2.0}, "unsure_below"),
        (lambda: word(2, 3), "ni3 hao3", {"sample_rate": 16000.0}, "sample_rate"),
    ],
)
def test_score_errors(model, make_audio, expected, options, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        score(make_audio(), expected, weights=model, **options)


def test_score_needs_a_model_with_a_speaker_context_input() -> None:
    with pytest.raises(ValueError, match="must take two"):
        score(word(2, 3), "ni3 hao3", weights=keras_tone.ToneNet(weights=None))


@pytest.mark.parametrize(
    ("probabilities", "expected", "result"),
    [
        ([0.05, 0.8, 0.1, 0.05, 0.0], 2, "ok"),
        ([0.05, 0.8, 0.1, 0.05, 0.0], 3, "wrong tone"),
        ([0.0, 0.5, 0.4, 0.1, 0.0], 2, "ok"),  # exactly at the threshold: sure
        ([0.0, 0.49, 0.41, 0.1, 0.0], 2, "unsure"),
        ([0.0, 0.49, 0.41, 0.1, 0.0], 3, "unsure"),
        ([0.1, 0.1, 0.1, 0.1, 0.6], 5, "ok"),
        ([0.1, 0.1, 0.7, 0.1], 5, "not judged"),
        ([0.1, 0.1, 0.7, 0.1], 3, "ok"),
    ],
)
def test_verdict(probabilities: list[float], expected: int, result: str) -> None:
    assert verdict(np.array(probabilities), expected) == result


def test_verdict_threshold_is_an_argument() -> None:
    assert verdict(np.array([0.0, 0.6, 0.4, 0.0]), 2, unsure_below=0.7) == "unsure"


@pytest.mark.parametrize(
    ("verdicts", "result"),
    [
        (["ok", "ok"], "ok"),
        (["ok", "unsure"], "unsure"),
        (["unsure", "wrong tone", "ok"], "wrong tone"),
        (["not judged", "ok"], "ok"),
        (["not judged"], "not judged"),
    ],
)
def test_word_verdict(verdicts: list[str], result: str) -> None:
    assert word_verdict(verdicts) == result
    assert result in VERDICTS
