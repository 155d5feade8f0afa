"""keras_tone.datasets: manifests, decoding, the cache and tone-5 skipping."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from keras_tone import datasets

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _write_corpus(folder: Path, tones=(1, 2, 3, 4, 5), rate: int = 22050) -> Path:
    """A tiny corpus: one sine clip per tone (the frequency encodes the tone)."""
    (folder / "wav").mkdir(parents=True, exist_ok=True)
    lines = ["path,syllable,tone,speaker,sex"]
    for i, tone in enumerate(tones):
        t = np.arange(int(0.25 * rate)) / rate
        clip = 0.2 * np.sin(2 * np.pi * (150 + 50 * tone) * t)
        sf.write(folder / "wav" / f"ma{tone}_{i}.wav", clip.astype("float32"), rate)
        lines.append(f"wav/ma{tone}_{i}.wav,ma,{tone},spk_{folder.name},F")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_read_manifest_resolves_paths(tmp_path):
    manifest = _write_corpus(tmp_path / "a")
    rows = datasets.read_manifest(manifest)
    assert [r.tone for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].path == (tmp_path / "a" / "wav" / "ma1_0.wav").resolve()
    assert rows[0].speaker == "spk_a" and rows[0].sex == "F" and rows[0].syllable == "ma"


def test_missing_manifest_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        datasets.read_manifest(tmp_path / "nope.csv")


def test_bad_columns(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,tone,speaker\nx.wav,1,a\n")
    with pytest.raises(ValueError, match="lacks the column.*path.*syllable.*sex"):
        datasets.read_manifest(manifest)


@pytest.mark.parametrize("tone", ["0", "6", "x", ""])
def test_bad_tone_names_the_line(tmp_path, tone):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"path,syllable,tone,speaker,sex\na.wav,ma,1,s,F\nb.wav,ma,{tone},s,F\n")
    with pytest.raises(ValueError, match="line 3"):
        datasets.read_manifest(manifest)


def test_missing_audio_file_is_named(tmp_path):
    manifest = _write_corpus(tmp_path / "a")
    (tmp_path / "a" / "wav" / "ma3_2.wav").unlink()
    with pytest.raises(FileNotFoundError, match="ma3_2.wav"):
        datasets.load_corpus(manifest, cache_dir=tmp_path / "cache", progress=False)


def test_load_corpus_decodes_resamples_and_skips_tone5(tmp_path, caplog):
    manifest = _write_corpus(tmp_path / "a")
    with caplog.at_level(logging.INFO, logger="keras_tone.datasets"):
        corpus = datasets.load_corpus(manifest, cache_dir=tmp_path / "cache", progress=False)
    assert len(corpus) == 4
    assert corpus.tones.tolist() == [1, 2, 3, 4]
    assert corpus.labels.tolist() == [0, 1, 2, 3]
    assert "skipped 1 neutral-tone" in caplog.text
    assert corpus.sample_rate == 16000
    assert all(w.dtype == np.float32 and w.ndim == 1 for w in corpus.waveforms)
    assert abs(len(corpus.waveforms[0]) - 4000) <= 1  # 0.25 s at 16 kHz

    five = datasets.load_corpus(manifest, classes=5, cache_dir=tmp_path / "cache", progress=False)
    assert five.labels.tolist() == [0, 1, 2, 3, 4]


def test_classes_must_be_4_or_5(tmp_path):
    manifest = _write_corpus(tmp_path / "a")
    with pytest.raises(ValueError, match="classes must be 4"):
        datasets.load_corpus(manifest, classes=3, cache_dir=tmp_path, progress=False)


def test_cache_is_used_and_invalidated(tmp_path, monkeypatch):
    manifest = _write_corpus(tmp_path / "a")
    cache = tmp_path / "cache"
    first = datasets.load_corpus(manifest, cache_dir=cache, progress=False)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1

    import keras_tone.audio

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(keras_tone.audio, "load_audio", no_decoding)
    again = datasets.load_corpus(manifest, cache_dir=cache, progress=False)
    for a, b in zip(first.waveforms, again.waveforms, strict=True):
        np.testing.assert_array_equal(a, b)

    # Another rate is another cache file; an edited manifest decodes again.
    monkeypatch.undo()
    datasets.load_corpus(manifest, sample_rate=8000, cache_dir=cache, progress=False)
    assert len(list(cache.glob("*.npz"))) == 2
    manifest.write_text(manifest.read_text().replace("spk_a", "spk_b"))
    edited = datasets.load_corpus(manifest, cache_dir=cache, progress=False)
    assert set(edited.speakers.tolist()) == {"spk_b"}
    assert len(list(cache.glob("*.npz"))) == 3


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert datasets.default_cache_dir() == tmp_path / "keras_tone"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert datasets.default_cache_dir() == Path.home() / ".cache" / "keras_tone"


def test_several_manifests_and_select(tmp_path):
    a = _write_corpus(tmp_path / "a", tones=(1, 2))
    b = _write_corpus(tmp_path / "b", tones=(3, 4))
    corpus = datasets.load_corpus([a, b], cache_dir=tmp_path / "cache", progress=False)
    assert corpus.speaker_names() == ["spk_a", "spk_b"]
    only_b = corpus.select(corpus.speakers == "spk_b")
    assert only_b.tones.tolist() == [3, 4] and len(only_b.waveforms) == 2


@pytest.mark.data
def test_shared_manifests_parse():
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"shared recordings not found at {SHARED_DATA}")
    total = 0
    for manifest in sorted(SHARED_DATA.glob("*/manifest.csv")):
        rows = datasets.read_manifest(manifest)
        assert rows and all(r.path.is_file() for r in rows[:20])
        total += sum(r.tone != 5 for r in rows)
    assert total == 9123
