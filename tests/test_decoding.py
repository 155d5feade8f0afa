"""Decoding with soundfile and soxr: parity with librosa.load, and a reason for every bad file."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest
import soundfile as sf

from keras_tone import load_audio
from keras_tone.decoding import AudioFileError, read_audio


def _tone(sample_rate: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * np.minimum(1.0, 20 * t)
    return np.stack([y, 0.5 * y][:channels], axis=1).astype(np.float32)


def _reason(path) -> str:
    with pytest.raises(AudioFileError) as caught:
        read_audio(path)
    assert str(path) in str(caught.value)
    return caught.value.reason


@pytest.mark.parametrize("extension", ["wav", "flac", "ogg", "mp3"])
@pytest.mark.parametrize("rate", [16000, 22050, 44100])
@pytest.mark.parametrize("channels", [1, 2])
def test_load_audio_equals_librosa_load(tmp_path, extension, rate, channels):
    path = tmp_path / f"clip.{extension}"
    sf.write(path, _tone(rate, channels=channels), rate)
    ours = load_audio(path, sample_rate=16000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference, _ = librosa.load(path, sr=16000)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference)


def test_no_warnings_and_nothing_on_stderr(tmp_path, capfd):
    sf.write(tmp_path / "a.mp3", _tone(22050), 22050)
    data = (tmp_path / "a.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(tmp_path / "a.mp3")
        with pytest.raises(ValueError, match="truncated MP3"):
            load_audio(tmp_path / "cut.mp3")
    assert capfd.readouterr().err == ""


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    assert _reason(tmp_path / "empty.wav") == "empty file (0 bytes)"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>", "text (an HTML page)"),
        ("this is not audio", "text"),
        ('{"error": "quota exceeded", "code": 429}', "text (JSON)"),
        ("root:x:0:0:root:/root:/bin/bash\n", "text"),
    ],
)
def test_text_is_not_audio_and_none_of_it_is_quoted(tmp_path, text, shown):
    (tmp_path / "clip.mp3").write_text(text)
    reason = _reason(tmp_path / "clip.mp3")
    assert reason == f"not audio: the file holds {shown}"


def test_binary_junk_is_named_without_its_bytes(tmp_path):
    (tmp_path / "clip.wav").write_bytes(bytes([0, 1, 2, 3]) + bytes(range(256)) * 4)
    assert _reason(tmp_path / "clip.wav") == ("not a format keras_tone reads (WAV, FLAC, OGG, MP3)")
    (tmp_path / "clip.mp3").write_bytes(bytes(range(256)) * 4)
    assert _reason(tmp_path / "clip.mp3").startswith("not audio: no MP3 frame")


def _mp3_frame_ends(data: bytes) -> list[int]:
    """Byte offsets where the frames of an MP3 written by libsndfile (no ID3 tag) end."""
    from keras_tone.decoding import _mp3_header

    ends, position = [], 0
    while (frame := _mp3_header(data, position)) is not None:
        position += frame.size
        ends.append(position)
    return ends


@pytest.mark.parametrize("fraction", [0.2, 1 / 3, 0.8])
def test_truncated_mp3_inside_a_frame(tmp_path, fraction):
    sf.write(tmp_path / "a.mp3", _tone(22050, seconds=2.0), 22050)
    data = (tmp_path / "a.mp3").read_bytes()
    cut = int(len(data) * fraction)
    ends = _mp3_frame_ends(data)
    assert cut not in ends
    (tmp_path / "cut.mp3").write_bytes(data[:cut])
    whole = sum(1 for end in ends[1:] if end <= cut)  # audio frames before the cut (no Xing)
    reason = _reason(tmp_path / "cut.mp3")
    assert reason.startswith(f"truncated MP3: decoded {whole * 576 / 22050:.2f} s, then stopped")
    assert f"inside frame {whole + 1}" in reason and "announces 2.0" in reason


def test_truncated_mp3_at_a_frame_boundary_is_caught_by_its_xing_header(tmp_path):
    sf.write(tmp_path / "a.mp3", _tone(22050), 22050)
    data = (tmp_path / "a.mp3").read_bytes()
    ends = _mp3_frame_ends(data)
    (tmp_path / "cut.mp3").write_bytes(data[: ends[10]])
    reason = _reason(tmp_path / "cut.mp3")
    assert reason.startswith("truncated MP3: decoded 0.26 s, then stopped: the file holds 10 of")


def test_complete_mp3_with_id3_tags_decodes(tmp_path):
    sf.write(tmp_path / "a.mp3", _tone(22050), 22050)
    data = (tmp_path / "a.mp3").read_bytes()
    id3v2 = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 10]) + b"\x00" * 10
    id3v1 = b"TAG" + b"\x00" * 125
    (tmp_path / "tagged.mp3").write_bytes(id3v2 + data + id3v1)
    waveform, rate = read_audio(tmp_path / "tagged.mp3")
    assert rate == 22050 and abs(waveform.shape[0] - 22050) < 1200


def test_truncated_wav(tmp_path):
    sf.write(tmp_path / "a.wav", _tone(16000), 16000, subtype="PCM_16")
    data = (tmp_path / "a.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: 44 + 2 * 4000])
    assert _reason(tmp_path / "cut.wav") == (
        "truncated WAV: its data chunk announces 1.00 s, the file holds 0.25 s"
    )


def test_truncated_flac_says_how_far_it_got(tmp_path):
    sf.write(tmp_path / "a.flac", _tone(16000, seconds=2.0), 16000)
    data = (tmp_path / "a.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    reason = _reason(tmp_path / "cut.flac")
    assert reason.startswith("truncated or corrupt FLAC file: decoded ")
    assert " of 2.00 s, then stopped" in reason


def test_truncated_ogg(tmp_path):
    sf.write(tmp_path / "a.ogg", _tone(16000), 16000)
    data = (tmp_path / "a.ogg").read_bytes()
    (tmp_path / "cut.ogg").write_bytes(data[: len(data) // 3])
    assert _reason(tmp_path / "cut.ogg").startswith("malformed or truncated OGG file")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.wav"):
        read_audio(tmp_path / "nothing.wav")


@pytest.mark.slow
@pytest.mark.data
def test_every_shared_recording_decodes_without_a_fallback(shared_data):
    """libsndfile reads every file of ../shared/data and ../shared/words: no fallback needed."""
    roots = [shared_data, shared_data.parent / "words"]
    files = sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".mp3", ".flac"))
    assert len(files) > 13000
    failures = {}
    for path in files:
        try:
            read_audio(path)
        except ValueError as error:
            failures[str(path)] = str(error)
    print(f"{len(files)} files decoded, {len(failures)} failures")
    assert failures == {}
