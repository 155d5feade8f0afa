"""keras_tone.sentences: sentence manifests, syllable times, spans and neighbours.

A small corpus is written by the test: sentences built in code
(tests/signals.py) with their true syllable times, one of them `partial`.
A sentence TextGrid written by the test goes through keras_tone.textgrid.
The shared AISHELL sample gives a slow, data-marked check.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from signals import sentence_pinyin, spoken_sentence

from keras_tone.audio import cut
from keras_tone.sentences import (
    SentenceCorpus,
    load_sentence_corpus,
    read_sentence_manifest,
    read_syllable_times,
)
from keras_tone.textgrid import ToneInterval, read_intervals, write_tones

SR = 16000
AISHELL = Path(__file__).resolve().parents[2] / "shared" / "connected" / "aishell1_sample"

SENTENCES = [
    [("s", 1), ("t", 4), ("s", 2), ("t", 3), ("s", 4), ("t", 1), ("s", 2)],
    [("t", 2), ("s", 1), ("t", 4), ("s", 3), ("t", 2)],
]


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sentences")
    (folder / "audio").mkdir()
    with (
        (folder / "sentences.csv").open("w", newline="", encoding="utf-8") as m,
        (folder / "syllables.csv").open("w", newline="", encoding="utf-8") as t,
    ):
        manifest, times = csv.writer(m), csv.writer(t)
        manifest.writerow(["path", "hanzi", "pinyin", "surface", "speaker", "sex", "partial"])
        times.writerow(["path", "start", "end", "index", "syllable"])
        for i, syllables in enumerate([*SENTENCES, SENTENCES[0]]):
            x, starts = spoken_sentence(syllables, seed=i)
            path = f"audio/{i}.wav"
            sf.write(folder / path, x, SR)
            ends = [*starts[1:], starts[-1] + 0.25]
            partial = i == 2
            kept = range(3) if partial else range(len(syllables))  # a partial sentence: 3 labelled
            pinyin = sentence_pinyin([syllables[k] for k in kept])
            surface = "".join(str(syllables[k][1]) for k in kept)
            manifest.writerow([path, "", pinyin, surface, "spk_a", "F", int(partial)])
            for index, k in enumerate(kept):
                # given times 30 ms early, as a rough aligner's might be
                times.writerow(
                    [path, f"{starts[k] - 0.03:.3f}", f"{ends[k] - 0.03:.3f}", index, ""]
                )
    return folder


def test_read_manifest_and_times(corpus_folder):
    rows = read_sentence_manifest(corpus_folder / "sentences.csv")
    assert [r.partial for r in rows] == [False, False, True]
    assert rows[0].row.surface == (1, 4, 2, 3, 4, 1, 2)  # "1423412": digits run together
    times = read_syllable_times(corpus_folder / "syllables.csv")
    assert times[str(rows[1].row.path)].shape == (5, 2)


@pytest.mark.parametrize("spans", ["aligned", "given", "corrected"])
def test_load_sentence_corpus(corpus_folder, tmp_path, spans):
    corpus = load_sentence_corpus(
        corpus_folder / "sentences.csv",
        spans=spans,
        shift=0.03,
        cache_dir=tmp_path,
        progress=False,
    )
    assert isinstance(corpus, SentenceCorpus)
    assert len(corpus.words) == 3 and len(corpus) == 7 + 5 + 3
    assert corpus.position.tolist()[:8] == [1, 2, 3, 4, 5, 6, 7, 1]
    assert corpus.syllables.tones.tolist()[7:12] == [2, 1, 4, 3, 2]
    truth = corpus.given + 0.03
    error = np.abs(corpus.segments[:, 0] - truth[:, 0])
    partial = corpus.word == 2
    if spans == "given":
        assert np.allclose(error, 0.03)
    else:
        assert np.median(error[~partial]) < 0.03
    # the partial sentence keeps its (shifted) given times whatever `spans` says
    expected = "given" if spans == "given" else "corrected"
    assert set(corpus.source[partial]) == {expected}
    clip = corpus.syllables.waveforms[3]
    assert clip.size == int(round(corpus.segments[3, 1] * SR)) - int(
        round(corpus.segments[3, 0] * SR)
    )


def test_partial_sentences_can_be_skipped(corpus_folder, tmp_path):
    corpus = load_sentence_corpus(
        corpus_folder / "sentences.csv", partial="skip", cache_dir=tmp_path, progress=False
    )
    assert len(corpus.words) == 2
    assert any("partial" in reason for _, reason in corpus.syllables.unreadable)


def test_margins_neighbours_and_select(corpus_folder, tmp_path):
    corpus = load_sentence_corpus(
        corpus_folder / "sentences.csv",
        spans="corrected",
        shift=0.03,
        margin=0.05,
        cache_dir=tmp_path,
        progress=False,
    )
    widths = [w.size / SR for w in corpus.syllables.waveforms]
    assert np.allclose(widths[1], corpus.segments[1, 1] - corpus.segments[1, 0] + 0.1, atol=2e-4)
    near = corpus.neighbours(7)  # the first syllable of the second sentence
    assert np.isnan(near[0]).all() and np.allclose(near[1:], corpus.segments[7:9])
    recording = corpus.recordings[corpus.word[7]]
    assert recording.size > corpus.segments[11, 1] * SR
    second = corpus.select(corpus.word == 1)
    assert len(second.words) == 1 and len(second) == 5
    assert second.recordings[0] is recording
    assert np.allclose(second.segments, corpus.segments[7:12])


def test_errors(corpus_folder, tmp_path):
    manifest = corpus_folder / "sentences.csv"
    with pytest.raises(ValueError, match="spans must be"):
        load_sentence_corpus(manifest, spans="exact", progress=False)
    with pytest.raises(ValueError, match="partial must be"):
        load_sentence_corpus(manifest, partial="drop", progress=False)
    with pytest.raises(FileNotFoundError):
        load_sentence_corpus(manifest, spans="given", times=tmp_path / "none.csv")
    bad = tmp_path / "times.csv"
    bad.write_text("path,start,end,index\naudio/0.wav,0.5,0.4,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="start < end"):
        read_syllable_times(bad)


def test_sentence_textgrid_in_and_out(corpus_folder, tmp_path):
    # A phonetician's TextGrid of a sentence: a syllable tier with a silent gap.
    x, starts = spoken_sentence(SENTENCES[0], pause_after=(2,))
    ends = [*starts[1:], starts[-1] + 0.25]
    labels = sentence_pinyin(SENTENCES[0]).split()
    intervals = [
        ToneInterval(s, e if i != 2 else s + 0.2, label=label)
        for i, (s, e, label) in enumerate(zip(starts, ends, labels, strict=True))
    ]
    grid = tmp_path / "sentence.TextGrid"
    write_tones(grid, intervals, tier="syllables", duration=x.size / SR)
    syllables = read_intervals(grid, "syllables")
    assert [i.label for i in syllables] == labels
    assert syllables[3].start - syllables[2].end > 0.3  # the pause is not a syllable
    clips = cut(x, SR, [(i.start, i.end) for i in syllables])
    assert len(clips) == 7
    out = tmp_path / "tones.TextGrid"
    write_tones(
        out,
        [
            ToneInterval(i.start, i.end, tone, 0.9, expected=tone)
            for i, (_, tone) in zip(syllables, SENTENCES[0], strict=True)
        ],
        template=grid,
    )
    tones = read_intervals(out, "tones")
    assert [t.label for t in tones][:2] == ["1 p=0.90 exp=1", "4 p=0.90 exp=4"]
    assert read_intervals(out, "syllables") == syllables


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.skipif(not AISHELL.is_dir(), reason="no AISHELL sample in ../shared/connected")
def test_aishell_sample(tmp_path):
    corpus = load_sentence_corpus(AISHELL / "sentences.csv", spans="given", progress=False)
    assert len(corpus.words) == 932 and len(corpus) == 11186
    assert set(corpus.source) == {"given"}
    aligned = load_sentence_corpus(
        AISHELL / "sentences.csv", spans="aligned", partial="skip", shift=0.03, progress=False
    )
    assert len(aligned.words) == 644
    full = np.isin(corpus.syllables.paths, aligned.syllables.paths)
    error = np.abs(aligned.segments[:, 0] - corpus.given[full, 0] - 0.03)
    first = aligned.position == 1
    assert np.mean(error[~first] <= 0.05 + 1e-6) > 0.8
