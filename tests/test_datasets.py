"""keras_tone.datasets: manifests, decoding, the cache and tone-5 skipping."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from keras_tone import datasets


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


def test_undecodable_clips_are_left_out_reported_and_cached(tmp_path, caplog, monkeypatch):
    manifest = _write_corpus(tmp_path / "a")
    truncated = tmp_path / "a" / "wav" / "ma2_1.wav"
    truncated.write_bytes(truncated.read_bytes()[:30])  # a header and nothing after it
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger="keras_tone.datasets"):
        corpus = datasets.load_corpus(manifest, classes=5, cache_dir=cache, progress=False)
    assert corpus.tones.tolist() == [1, 3, 4, 5]
    [(path, reason)] = corpus.unreadable
    assert path == str(truncated.resolve()) and reason
    assert "ma2_1.wav" in caplog.text

    import keras_tone.audio

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(keras_tone.audio, "load_audio", no_decoding)
    again = datasets.load_corpus(manifest, classes=5, cache_dir=cache, progress=False)
    assert again.unreadable == corpus.unreadable and again.tones.tolist() == [1, 3, 4, 5]
    assert again.select(again.tones > 3).unreadable == corpus.unreadable


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


def _readme_counts(readme: str) -> dict[str, tuple[int, int]]:
    """`{folder: (tones 1-4, neutral)}` from the table of shared/data/README.md."""
    counts = {}
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([\w-]+)/`", cells[0]) if len(cells) > 2 else None
        numbers = re.fullmatch(r"([\d,]+) / ([\d,]+)", cells[2]) if match else None
        if numbers:
            counts[match.group(1)] = tuple(int(n.replace(",", "")) for n in numbers.groups())
    return counts


def test_readme_counts_are_read_from_the_table():
    readme = (
        "| folder | speaker | clips (tones 1-4 / neutral) |\n|---|---|---|\n"
        "| `a_f1/` | female | 1,622 / 5 |\n| `b/` | male | 12 / 0 |\n"
    )
    assert _readme_counts(readme) == {"a_f1": (1622, 5), "b": (12, 0)}


def test_shared_manifests_parse(shared_data: Path):
    """Every manifest parses, names files that exist, and holds the clips its README says.

    The data grows by folders; each folder's counts come from the README's table,
    so a new folder needs its row there, and a broken manifest still fails.
    """
    expected = _readme_counts((shared_data / "README.md").read_text())
    manifests = sorted(shared_data.glob("*/manifest.csv"))
    assert manifests and {m.parent.name for m in manifests} == set(expected)
    for manifest in manifests:
        rows = datasets.read_manifest(manifest)
        assert all(r.path.is_file() for r in rows[:: max(1, len(rows) // 50)]), manifest
        counts = (sum(r.tone != 5 for r in rows), sum(r.tone == 5 for r in rows))
        assert counts == expected[manifest.parent.name], manifest
