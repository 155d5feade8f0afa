"""keras_tone.segmentation: syllable boundaries of word recordings built in code.

Words are assembled from vowel-like syllables (tests/signals.py) joined by
consonant-like stretches whose onsets are the true boundaries, from the
espeak-ng clips in tests/data, and, where espeak-ng is installed, from
words it speaks. The shared word recordings give a slow, data-marked check.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from signals import voiced_syllable

from keras_tone.segmentation import (
    MAX_COUNT_SECONDS,
    MAX_SECONDS,
    MIN_SYLLABLE_SECONDS,
    Segment,
    count_syllables,
    segment,
    speech_span,
)

SR = 16000
TESTS = Path(__file__).resolve().parent
SHARED_WORDS = TESTS.parents[1] / "shared" / "words"


def _vowel(tone: int, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    return voiced_syllable(tone, SR, seconds=seconds, lead_silence=0.0)[:n].astype(np.float64)


def _consonant(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "fricative":  # 's'/'x'-like: 80 ms of high-frequency noise
        noise = rng.standard_normal(int(0.08 * SR))
        spectrum = np.fft.rfft(noise)
        spectrum[np.fft.rfftfreq(noise.size, 1 / SR) < 3000] = 0
        return 0.05 * np.fft.irfft(spectrum, n=noise.size) / np.abs(noise).std()
    if kind == "stop":  # 't'-like: 60 ms closure, then a 15 ms burst
        burst = 0.08 * rng.standard_normal(int(0.015 * SR)) * np.hanning(int(0.015 * SR))
        return np.concatenate([np.zeros(int(0.06 * SR)), burst])
    if kind == "pause":
        return np.zeros(int(0.2 * SR))
    raise ValueError(kind)


def _word(tones, junctions, *, seed=0, lead=0.2, tail=0.2, seconds=0.3):
    """A word and the true boundaries (seconds): each consonant's onset, a pause's middle."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(lead * SR))]
    bounds = []
    position = parts[0].size
    for i, tone in enumerate(tones):
        if i:
            consonant = _consonant(junctions[i - 1], rng)
            middle = junctions[i - 1] == "pause"
            bounds.append((position + (consonant.size // 2 if middle else 0)) / SR)
            parts.append(consonant)
            position += consonant.size
        vowel = _vowel(tone, seconds)
        parts.append(vowel)
        position += vowel.size
    parts.append(np.zeros(int(tail * SR)))
    x = np.concatenate(parts)
    x += 1e-4 * rng.standard_normal(x.size)  # a noise floor, as in any recording
    return x.astype(np.float32), np.array(bounds)


def _boundaries(segments: list[Segment]) -> np.ndarray:
    return np.array(
        [(a.end + b.start) / 2 for a, b in zip(segments[:-1], segments[1:], strict=True)]
    )


WORDS = [
    ((1, 4), ("fricative",)),
    ((3, 2), ("stop",)),
    ((2, 4, 1), ("fricative", "stop")),
    ((4, 4, 3, 2), ("stop", "fricative", "stop")),
    ((1, 3), ("pause",)),
]


@pytest.mark.parametrize("tones, junctions", WORDS)
def test_known_count_finds_the_boundaries(tones, junctions):
    x, truth = _word(tones, junctions)
    segments = segment(x, SR, len(tones))
    assert len(segments) == len(tones)
    found = _boundaries(segments)
    # the boundary lies within the consonant, which starts at the true boundary
    assert np.all(np.abs(found - truth) < 0.05), (found, truth)
    # word edges: within 30 ms of the first vowel's start and the last one's end
    assert abs(segments[0].start - 0.2) < 0.03
    assert abs(segments[-1].end - (x.size / SR - 0.2)) < 0.03


@pytest.mark.parametrize("tones, junctions", WORDS)
def test_count_syllables(tones, junctions):
    x, _ = _word(tones, junctions)
    assert count_syllables(x, SR) == len(tones)
    assert len(segment(x, SR)) == len(tones)


def test_segments_are_ordered_and_leave_pauses_out():
    x, truth = _word((1, 3), ("pause",))
    first, second = segment(x, SR, 2)
    assert first.start < first.end < second.start < second.end
    # the 200 ms pause (truth[0] is its middle) belongs to neither syllable
    assert first.end <= truth[0] - 0.07 and second.start >= truth[0] + 0.07
    assert isinstance(first, Segment) and first == (first.start, first.end)
    assert first.duration == pytest.approx(first.end - first.start)


def test_syllables_touch_without_a_pause():
    x, _ = _word((2, 4, 1), ("fricative", "fricative"))
    segments = segment(x, SR, 3)
    assert [a.end == b.start for a, b in zip(segments, segments[1:], strict=False)] == [True, True]


@pytest.mark.parametrize("n", range(2, 9))
def test_every_syllable_keeps_its_minimum_length(n):
    # more syllables than the word has: the boundaries still leave each one 50 ms
    x, _ = _word((2, 4, 1), ("fricative", "stop"), seconds=0.15)
    segments = segment(x, SR, n)
    assert len(segments) == n
    assert all(s.duration >= MIN_SYLLABLE_SECONDS - 1e-9 for s in segments)
    assert all(a.end <= b.start for a, b in zip(segments, segments[1:], strict=False))


def test_one_syllable_is_the_speech_span():
    x = np.concatenate([np.zeros(SR // 4), _vowel(2, 0.4), np.zeros(SR // 4)]).astype(np.float32)
    (only,) = segment(x, SR, 1)
    assert only == speech_span(x, SR)
    assert abs(only.start - 0.25) < 0.02 and abs(only.end - 0.65) < 0.02
    assert count_syllables(x, SR) == 1


def test_espeak_clips_joined_into_a_word(espeak_clips):
    # ma1 ma2 ma3 ma4 (22.05 kHz), each trimmed at 40 dB below its peak, joined end to end.
    clips, starts = [], []
    for tone in (1, 2, 3, 4):
        clip, rate = sf.read(espeak_clips[tone], dtype="float32")
        loud = np.flatnonzero(np.abs(clip) > 0.01 * np.abs(clip).max())
        clips.append(clip[loud[0] : loud[-1] + 1])
    word = np.concatenate(
        [np.zeros(rate // 5, np.float32), *clips, np.zeros(rate // 5, np.float32)]
    )
    starts = np.cumsum([rate // 5] + [c.size for c in clips]) / rate
    segments = segment(word, rate, 4)
    assert np.all(np.abs(_boundaries(segments) - starts[1:4]) < 0.05)
    assert count_syllables(word, rate) == 4


@pytest.fixture(scope="module")
def espeak_word(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")

    def say(pinyin: str) -> tuple[np.ndarray, int]:
        path = tmp_path_factory.mktemp("espeak") / "word.wav"
        subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-w", str(path), pinyin], check=True)
        clip, rate = sf.read(path, dtype="float32")
        return clip, rate

    return say


@pytest.mark.parametrize("pinyin", ["ni3 hao3", "xie4 xie5", "zai4 jian4", "dui4 bu5 qi3"])
def test_espeak_words(espeak_word, pinyin):
    clip, rate = espeak_word(pinyin)
    n = len(pinyin.split())
    segments = segment(clip, rate, n)
    assert len(segments) == n
    assert all(s.duration >= 0.08 - 1e-9 for s in segments)
    span = speech_span(clip, rate)
    assert segments[0].start == span.start and segments[-1].end == span.end


def test_integer_pcm_and_stereo_give_the_same_segments():
    x, _ = _word((2, 4, 1), ("fricative", "stop"))
    reference = segment(x, SR, 3)
    pcm = np.round(x * 32767).astype(np.int16)
    assert segment(pcm, SR, 3) == reference
    assert segment(np.stack([x, x], axis=1), SR, 3) == reference


def test_other_sample_rates():
    import librosa

    x, truth = _word((1, 4), ("fricative",))
    for rate in (8000, 22050, 44100):
        y = librosa.resample(x, orig_sr=SR, target_sr=rate)
        found = _boundaries(segment(y, rate, 2))
        assert abs(found[0] - truth[0]) < 0.05, rate


def test_fast_enough():
    x, _ = _word((2, 4, 1, 3), ("fricative", "stop", "fricative"), lead=0.3, tail=0.3)
    assert 1.6 < x.size / SR < 2.2
    segment(x, SR, 4)
    began = time.perf_counter()
    for _ in range(5):
        segment(x, SR, 4)
        count_syllables(x, SR)
    # a few ms each on a quiet machine; generous for a busy one
    assert (time.perf_counter() - began) / 5 < 0.5


@pytest.mark.parametrize(
    "waveform, rate, n, message",
    [
        (np.zeros(0, np.float32), SR, 2, "empty"),
        (np.zeros(SR, np.float32), SR, 2, "silent"),
        (np.full(SR, np.nan, np.float32), SR, 2, "NaN"),
        (np.zeros((2, 3, SR), np.float32), SR, 2, "shape"),
        (np.ones(400, np.float32), SR, 1, "shorter than one syllable"),
        (None, SR, 0, "n_syllables must be a positive integer"),
        (None, SR, -1, "n_syllables must be a positive integer"),
        (None, SR, 2.0, "n_syllables must be a positive integer"),
        (None, SR, True, "n_syllables must be a positive integer"),
        (None, 7999, 2, "at least 8000 Hz"),
        (None, 16000.0, 2, "sample_rate must be an integer"),
        (None, SR, 40, "too short for 40 syllables"),
        (np.ones(int(31 * SR), np.float32) * 0.1, SR, 2, "at most 30 s"),
    ],
)
def test_errors(waveform, rate, n, message):
    if waveform is None:
        waveform, _ = _word((1, 4), ("fricative",))
    with pytest.raises(ValueError, match=message):
        segment(waveform, rate, n)


def test_counting_is_limited_to_short_recordings():
    x, _ = _word((1, 4), ("fricative",))
    long = np.tile(x, int(MAX_COUNT_SECONDS / (x.size / SR)) + 1)
    assert long.size / SR < MAX_SECONDS
    with pytest.raises(ValueError, match="Give n_syllables"):
        count_syllables(long, SR)
    assert len(segment(long, SR, 2 * int(MAX_COUNT_SECONDS / (x.size / SR)) + 2)) > 2


def _shared_words(folder: str, every: int) -> list[dict[str, str]]:
    manifest = SHARED_WORDS / folder / "manifest.csv"
    if not manifest.is_file():
        pytest.skip(f"word recordings not found at {manifest}")
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::every]
    for row in rows:
        row["file"] = str(manifest.parent / row["path"])
    return rows


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize(
    "folder, every, floor", [("audiocmn_hsk", 40, 0.6), ("cedicttts_msyn", 10, 0.6)]
)
def test_shared_words(folder, every, floor):
    from keras_tone import load_audio

    rows = _shared_words(folder, every)
    right = 0
    for row in rows:
        clip = load_audio(row["file"], sample_rate=SR)
        n = len(row["pinyin"].split())
        segments = segment(clip, SR, n)
        assert len(segments) == n
        assert all(s.duration >= MIN_SYLLABLE_SECONDS - 1e-9 for s in segments)
        right += count_syllables(clip, SR) == n
    # measured on every word in docs/words.md; this sample guards against regressions
    assert right / len(rows) >= floor
