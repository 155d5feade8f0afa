"""keras_tone.alignment: the syllables of sentences built in code, and spoken by espeak-ng.

Sentences are assembled from vowel-like syllables (tests/signals.py) joined
by consonant-like stretches (a fricative's noise, a stop's closure and
burst) whose onsets are the true boundaries, or by pauses. Where espeak-ng
is installed, sentences of syllables it speaks one by one give real speech
with known joins, and whole sentences it speaks give a sanity check.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from signals import sentence_pinyin, spoken_sentence

from keras_tone.alignment import (
    DETECTOR_CLASSES,
    ONSET_KINDS,
    BoundaryDetector,
    align,
    detector_inputs,
    measure,
    onset_kind,
)
from keras_tone.hanzi import read_hanzi
from keras_tone.pinyin import parse_pinyin
from keras_tone.segmentation import Segment

SR = 16000


def test_onset_kinds():
    assert [onset_kind(s) for s in ("ba", "zhi", "xue", "ha")] == ["obstruent"] * 4
    assert [onset_kind(s) for s in ("ma", "na", "lv", "ren")] == ["sonorant"] * 4
    assert [onset_kind(s) for s in ("yi", "wo", "a", "er", "ng", "n")] == ["vowel"] * 6


SENTENCES = [
    [("s", 1), ("t", 4), ("s", 2), ("t", 3), ("s", 4), ("t", 1), ("s", 2)],
    [("t", 2), ("", 4), ("s", 1), ("t", 4), ("s", 3), ("", 2), ("t", 4), ("s", 1), ("t", 2)],
]


@pytest.mark.parametrize("syllables", SENTENCES)
def test_finds_the_boundaries_of_a_sentence(syllables):
    x, truth = spoken_sentence(syllables)
    spans = align(x, SR, sentence_pinyin(syllables))
    assert len(spans) == len(syllables)
    found = np.array([s.start for s in spans])
    # Most boundaries close; none off by a syllable (150 ms or more). A stop's closure after
    # a decaying vowel may be taken for the vowel's tail: those are the 60-100 ms errors.
    assert np.median(np.abs(found - truth)) < 0.03
    assert np.max(np.abs(found - truth)) < 0.12


def test_pauses_belong_to_neither_syllable():
    syllables = SENTENCES[0]
    x, truth = spoken_sentence(syllables, pause_after=(1,))  # then a fricative: its noise starts it
    spans = align(x, SR, sentence_pinyin(syllables))
    assert spans[2].start - spans[1].end > 0.25  # the 0.4 s pause is left out
    assert abs(spans[2].start - truth[2]) < 0.05
    for before, after in zip(spans, spans[1:], strict=False):
        assert before.start < before.end <= after.start


def test_syllables_touch_and_stay_in_the_recording():
    x, _ = spoken_sentence(SENTENCES[1])
    spans = align(x, SR, len(SENTENCES[1]))
    assert all(isinstance(s, Segment) for s in spans)
    assert spans[0].start >= 0.2 and spans[-1].end <= x.size / SR
    # No pause in this sentence: at most a stop's silent closure (50 ms) between syllables.
    gaps = [b.start - a.end for a, b in zip(spans, spans[1:], strict=False)]
    assert min(gaps) >= 0 and max(gaps) <= 0.06
    assert all(s.duration >= 0.05 - 1e-9 for s in spans)


def test_accepts_pinyin_syllables_expected_syllables_and_counts():
    syllables = SENTENCES[0]
    x, _ = spoken_sentence(syllables)
    text = sentence_pinyin(syllables)
    by_text = align(x, SR, text)
    assert align(x, SR, parse_pinyin(text)) == by_text
    assert align(x, SR, text.split()) == by_text
    assert len(align(x, SR, len(syllables))) == len(syllables)


def test_a_long_recording_is_aligned_in_bands():
    # 70 s: sentences separated by pauses; a syllable may end only near its expected place.
    rng = np.random.default_rng(3)
    parts, truth, pinyin, offset = [], [], [], 0.0
    while offset < 70.0:
        syllables = [(str(rng.choice(["s", "t"])), int(rng.integers(1, 5))) for _ in range(8)]
        x, starts = spoken_sentence(syllables, seed=int(rng.integers(1 << 30)))
        parts.append(x)
        truth.extend(starts + offset)
        pinyin.append(sentence_pinyin(syllables))
        offset += x.size / SR
    x = np.concatenate(parts)
    spans = align(x, SR, " ".join(pinyin))
    found = np.array([s.start for s in spans])
    assert len(spans) == len(truth)
    assert np.mean(np.abs(found - np.array(truth)) < 0.06) >= 0.8


def test_integer_pcm_stereo_and_other_rates():
    import librosa

    syllables = SENTENCES[0]
    x, truth = spoken_sentence(syllables)
    reference = align(x, SR, sentence_pinyin(syllables))
    pcm = np.round(x * 32767).astype(np.int16)
    assert align(pcm, SR, sentence_pinyin(syllables)) == reference
    assert align(np.stack([x, x], axis=1), SR, sentence_pinyin(syllables)) == reference
    y = librosa.resample(x, orig_sr=SR, target_sr=22050)
    found = np.array([s.start for s in align(y, 22050, sentence_pinyin(syllables))])
    assert np.median(np.abs(found - truth)) < 0.03


@pytest.mark.parametrize(
    "waveform, syllables, message",
    [
        (np.zeros(SR, np.float32), 2, "silent"),
        (np.full(SR, np.nan, np.float32), 2, "NaN"),
        (0.1 * np.ones(800, np.float32), 3, "too short"),
        (np.ones(SR, np.float32), 0, "at least one syllable"),
        (np.ones(SR, np.float32), [1, 2], "expected syllables"),
        (np.ones(SR, np.float32), "hoa3", "hoa3"),
    ],
)
def test_errors(waveform, syllables, message):
    with pytest.raises(ValueError, match=message):
        align(waveform, SR, syllables)


def test_shipped_detector_round_trips(tmp_path):
    detector = BoundaryDetector.load()
    assert detector.hidden_kernel.shape[0] == 11 * (2 * detector.context + 1)
    assert detector.output_kernel.shape[1] == len(DETECTOR_CLASSES)
    assert set(ONSET_KINDS) | {"neutral", "last"} == set(detector.duration_offsets)
    path = tmp_path / "detector.json"
    detector.save(path)
    again = BoundaryDetector.load(path)
    x, _ = spoken_sentence(SENTENCES[0])
    inputs = detector_inputs(measure(x, SR))
    np.testing.assert_allclose(again.scores(inputs), detector.scores(inputs), atol=1e-3)
    scores = detector.scores(inputs)
    assert scores.shape == (inputs.shape[0], len(DETECTOR_CLASSES))
    assert np.all(scores[:, 0] == 0)  # ratios against "inside"


def test_a_detector_of_other_classes_is_refused(tmp_path):
    path = tmp_path / "detector.json"
    path.write_text('{"classes": ["inside", "boundary"]}', encoding="utf-8")
    with pytest.raises(ValueError, match="Received"):
        BoundaryDetector.load(path)
    with pytest.raises(FileNotFoundError):
        BoundaryDetector.load(tmp_path / "missing.json")


@pytest.fixture(scope="module")
def espeak(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("espeak")

    def say(pinyin: str, speed: int = 175) -> tuple[np.ndarray, int]:
        path = folder / "said.wav"
        subprocess.run(
            ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(speed), "-w", str(path), pinyin],
            check=True,
        )
        clip, rate = sf.read(path, dtype="float32")
        return clip, rate

    return say


SENTENCE = "wo3 men5 ming2 tian1 zao3 shang5 qu4 bei3 jing1 kan4 peng2 you5"


def test_espeak_syllables_joined_into_aspoken_sentence(espeak):
    # Each syllable spoken alone, trimmed at 30 dB below its peak, joined end to end:
    # real speech sounds with known boundaries.
    clips, rate = [], None
    for syllable in SENTENCE.split():
        clip, rate = espeak(syllable, speed=260)
        loud = np.flatnonzero(np.abs(clip) > 0.03 * np.abs(clip).max())
        clips.append(clip[loud[0] : loud[-1] + 1])
    silence = np.zeros(rate // 4, np.float32)
    sentence = np.concatenate([silence, *clips, silence])
    truth = (rate // 4 + np.cumsum([0] + [c.size for c in clips[:-1]])) / rate
    found = np.array([s.start for s in align(sentence, rate, SENTENCE)])
    assert np.mean(np.abs(found - truth) < 0.05) >= 0.75


def test_espeak_sentence_read_from_characters(espeak):
    expected = read_hanzi("我们明天早上去北京看朋友。")
    clip, rate = espeak(" ".join(s.pinyin for s in expected))
    spans = align(clip, rate, expected)
    assert len(spans) == len(expected) == 12
    assert all(0.05 - 1e-9 <= s.duration <= 0.8 for s in spans)
    assert spans[-1].end <= clip.size / rate
