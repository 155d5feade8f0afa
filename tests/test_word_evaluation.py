"""Evaluation on word manifests: syllables cut from words, scored against their surface tones.

`word_evaluation_report` is checked with predictions chosen by hand, so every
number of the report is known. The rest runs on a word manifest written
here (harmonic signals following tone contours, `signals.py`) with a
randomly initialised ToneNet: plumbing, not accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from signals import voiced_word

from keras_tone.datasets import Corpus
from keras_tone.evaluation import evaluate, manifests_are_words, word_evaluation_report
from keras_tone.reports import format_report
from keras_tone.runner import Runner
from keras_tone.words import WordCorpus, WordRow, is_word_manifest, load_word_corpus

# --------------------------------------------------------------------------- the report


def _row(pinyin: str, citation: tuple, surface: tuple, speaker: str) -> WordRow:
    return WordRow(
        path=Path(f"/words/{pinyin.replace(' ', '_')}.wav"),
        hanzi="",
        syllables=tuple(p[:-1] for p in pinyin.split()),
        pinyin=tuple(pinyin.split()),
        citation=citation,
        surface=surface,
        speaker=speaker,
        sex={"a": "F", "b": "M"}[speaker],
        line=2,
    )


def hand_made_corpus() -> WordCorpus:
    """Four words, nine syllables, three of them changed by sandhi (no audio needed)."""
    words = [
        _row("ni3 hao3", (3, 3), (2, 3), "a"),
        _row("yi1 ding4", (1, 4), (2, 4), "a"),
        _row("shi4 de5", (4, 5), (4, 5), "b"),
        _row("zhan3 lan3 guan3", (3, 3, 3), (3, 2, 3), "b"),
    ]
    lengths = [len(w) for w in words]
    tones = np.array([t for w in words for t in w.surface])
    syllables = Corpus(
        waveforms=[np.zeros(1, np.float32)] * tones.size,
        labels=tones - 1,
        tones=tones,
        speakers=np.repeat([w.speaker for w in words], lengths),
        sexes=np.repeat([w.sex for w in words], lengths),
        syllables=np.array([p for w in words for p in w.pinyin]),
        paths=np.repeat([str(w.path) for w in words], lengths),
        sample_rate=16000,
        classes=5,
    )
    return WordCorpus(
        syllables=syllables,
        words=words,
        word=np.repeat(np.arange(4), lengths),
        position=np.array([1, 2, 1, 2, 1, 2, 1, 2, 3]),
        citation=np.array([t for w in words for t in w.citation]),
        segments=np.zeros((9, 2)),
    )


#: Predicted classes (tone - 1): yi1 heard as 1 (not 2), lan3 heard as 3 (not 2).
PREDICTED = np.array([1, 2, 0, 3, 3, 4, 2, 2, 2])


def test_word_report_five_classes() -> None:
    report = word_evaluation_report(hand_made_corpus(), PREDICTED, 5)
    assert report["kind"] == "evaluate" and report["classes"] == 5
    assert report["overall"]["clips"] == 9
    assert report["overall"]["accuracy"] == pytest.approx(7 / 9)
    assert {s: m["clips"] for s, m in report["per_speaker"].items()} == {"a": 4, "b": 5}
    assert report["per_speaker"]["a"]["accuracy"] == pytest.approx(3 / 4)
    assert report["per_sex"]["M"]["accuracy"] == pytest.approx(4 / 5)
    positions = {p: (m["clips"], m["accuracy"]) for p, m in report["per_position"].items()}
    assert positions == {"1": (4, 0.75), "2": (4, 0.75), "3": (1, 1.0)}
    sandhi = {k: (m["clips"], round(m["accuracy"], 3)) for k, m in report["sandhi"].items()}
    assert sandhi == {"all": (3, 0.333), "1->2": (1, 0.0), "3->2": (2, 0.5)}
    # The confusion of the sandhi syllables: true 2 heard as 1 (yi1) and as 3 (lan3).
    assert report["sandhi"]["all"]["confusion"][1] == [1, 1, 1, 0, 0]
    assert report["words"]["words"] == 4 and report["words"]["correct"] == 2
    assert report["words"]["per_length"] == {
        "2": {"words": 3, "correct": 2, "accuracy": 2 / 3},
        "3": {"words": 1, "correct": 0, "accuracy": 0.0},
    }
    assert report["words"]["per_speaker"]["a"] == {"words": 2, "correct": 1, "accuracy": 0.5}
    assert report["neutral_not_scored"] == {"syllables": 0, "words": 0}
    json.dumps(report)


def test_word_report_four_classes_leaves_neutral_tones_out() -> None:
    predicted = np.where(PREDICTED == 4, 0, PREDICTED)  # a 4-class model names no tone 5
    report = word_evaluation_report(hand_made_corpus(), predicted, 4)
    assert report["overall"]["clips"] == 8
    assert report["overall"]["accuracy"] == pytest.approx(6 / 8)
    assert report["per_position"]["2"]["clips"] == 3
    assert report["words"]["words"] == 3 and report["words"]["correct"] == 1
    assert report["neutral_not_scored"] == {"syllables": 1, "words": 1}
    assert "Not scored: 1 neutral-tone syllables (1 words)" in format_report(report)


def test_format_report_prints_the_word_tables() -> None:
    text = format_report(word_evaluation_report(hand_made_corpus(), PREDICTED, 5))
    for heading in (
        "== Per speaker (syllables against their surface tones) ==",
        "== Per position in the word ==",
        "== Tone sandhi: syllables whose surface tone is not the citation tone ==",
        "== Whole words (every syllable right) ==",
        "== Confusion: tone sandhi ==",
    ):
        assert heading in text
    lines = text.splitlines()
    assert any(line.split()[:4] == ["3", "->", "2", "2"] for line in lines)
    assert any(line.split() == ["ALL", "4", "2", "50.0%"] for line in lines)
    markdown = format_report(
        word_evaluation_report(hand_made_corpus(), PREDICTED, 5), markdown=True
    )
    assert "### Whole words (every syllable right)" in markdown


def test_format_report_says_when_no_syllable_changed() -> None:
    corpus = hand_made_corpus()
    corpus.citation = corpus.syllables.tones.copy()
    text = format_report(word_evaluation_report(corpus, PREDICTED, 5))
    assert "none in these words" in text and "Confusion: tone sandhi" not in text


# --------------------------------------------------------------------------- from files


@pytest.fixture(scope="module")
def word_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five words of two speakers at 22.05 kHz, one broken file, one word too short to cut."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("words")
    (folder / "clips").mkdir()
    words = [
        ("ni3hao3.wav", "你好", "ni3 hao3", "2 3", (2, 3), "a"),
        ("yiding.wav", "一定", "yi1 ding4", "2 4", (2, 4), "a"),
        ("zhanlanguan.wav", "展览馆", "zhan3 lan3 guan3", "3 2 3", (3, 2, 3), "a"),
        ("shide.wav", "", "shi4 de5", "4 5", (4, 3), "b"),
        ("mama.wav", "妈妈", "ma1 ma5", "1 5", (1, 3), "b"),
    ]
    rows = ["path,hanzi,pinyin,surface,speaker,sex"]
    for name, hanzi, pinyin, surface, tones, speaker in words:
        sf.write(folder / "clips" / name, voiced_word(*tones, sample_rate=22050), 22050)
        rows.append(f"clips/{name},{hanzi},{pinyin},{surface},{speaker},F")
    (folder / "clips" / "broken.wav").write_bytes(b"RIFF not a wave file")
    rows.append("clips/broken.wav,,ma1 ma1,1 1,b,F")
    sf.write(folder / "clips" / "short.wav", voiced_word(1)[:2000], 22050)
    rows.append("clips/short.wav,,a1 a1 a1 a1 a1 a1,1 1 1 1 1 1,b,F")
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_load_word_corpus_cuts_each_word_into_its_syllables(
    word_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = load_word_corpus(word_manifest, cache_dir=tmp_path, progress=False)
    assert len(corpus) == 11 and len(corpus.words) == 5
    assert corpus.syllables.tones.tolist() == [2, 3, 2, 4, 3, 2, 3, 4, 5, 1, 5]
    assert corpus.citation.tolist() == [3, 3, 1, 4, 3, 3, 3, 4, 5, 1, 5]
    assert corpus.position.tolist() == [1, 2, 1, 2, 1, 2, 3, 1, 2, 1, 2]
    assert corpus.word.tolist() == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4]
    assert corpus.syllables.syllables[:2].tolist() == ["ni3", "hao3"]
    assert corpus.syllables.speakers.tolist() == ["a"] * 7 + ["b"] * 4
    # Syllables at 0.1-0.4, 0.5-0.8 and 0.9-1.2 s; clips at 16 kHz are exactly their intervals.
    np.testing.assert_allclose(corpus.segments[4:7, 0], [0.1, 0.5, 0.9], atol=0.03)
    np.testing.assert_allclose(corpus.segments[4:7, 1], [0.4, 0.8, 1.2], atol=0.03)
    for clip, (start, end) in zip(corpus.syllables.waveforms, corpus.segments, strict=True):
        assert clip.size == pytest.approx((end - start) * 16000, abs=1)
    (broken, reason), (short, why) = corpus.syllables.unreadable
    assert broken.endswith("broken.wav") and reason.startswith("not audio: the file holds text")
    assert short.endswith("short.wav") and "cannot be cut into 6 syllables" in why

    # Decoded once: the second time comes from the cache.
    import keras_tone.audio

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(keras_tone.audio, "load_audio", no_decoding)
    again = load_word_corpus(word_manifest, cache_dir=tmp_path, progress=False)
    assert len(again) == 11


def test_word_and_syllable_manifests_are_told_apart(word_manifest: Path, tmp_path: Path) -> None:
    syllables = tmp_path / "manifest.csv"
    syllables.write_text("path,syllable,tone,speaker,sex\n")
    assert is_word_manifest(word_manifest) and not is_word_manifest(syllables)
    assert manifests_are_words([word_manifest]) and not manifests_are_words(syllables)
    with pytest.raises(ValueError, match="mix word manifests"):
        manifests_are_words([word_manifest, syllables])


@pytest.mark.parametrize("speaker_context", [False, True])
def test_evaluate_word_manifest(
    speaker_context: bool, word_manifest: Path, preset: str, tmp_path, monkeypatch
) -> None:
    """A syllable's context: its word's other syllables; with speaker_context, its speaker's."""
    groups_seen = []
    classify = Runner.classify

    def spy(self, features, contexts=None, *, groups=None):
        groups_seen.append(np.asarray(groups).tolist())
        return classify(self, features, contexts, groups=groups)

    monkeypatch.setattr(Runner, "classify", spy)
    report = evaluate(preset, word_manifest, cache_dir=tmp_path, speaker_context=speaker_context)
    expected_groups = (
        ["a"] * 7 + ["b"] * 4 if speaker_context else [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4]
    )
    assert groups_seen == [expected_groups]
    assert report["speaker_context"] is speaker_context
    assert report["overall"]["clips"] == 11 and report["classes"] == 5
    assert list(report["per_position"]) == ["1", "2", "3"]
    assert set(report["sandhi"]) == {"all", "1->2", "3->2"}
    assert report["sandhi"]["all"]["clips"] == 3
    assert report["words"]["words"] == 5
    assert [u["path"].split("/")[-1] for u in report["unreadable"]] == ["broken.wav", "short.wav"]
    assert "Whole words" in format_report(report)


def test_evaluate_word_manifest_with_a_four_class_model(word_manifest: Path, tmp_path) -> None:
    from keras_tone import ToneNet

    model = ToneNet(weights=None, speaker_context=True)
    report = evaluate(model, word_manifest, cache_dir=tmp_path)
    assert report["classes"] == 4 and report["overall"]["clips"] == 9
    assert report["neutral_not_scored"] == {"syllables": 2, "words": 2}
    assert report["words"]["words"] == 3
