"""Decoding audio files with libsndfile, and saying why a file cannot be read.

`read_audio` reads WAV, FLAC, OGG and MP3 through `soundfile` (libsndfile,
which bundles mpg123 for MP3 in the soundfile wheels). It reads the file's
bytes once, looks at them before decoding, and refuses with a reason a
decoder would not give:

* an empty file: "empty file (0 bytes)";
* text where audio was expected: "not audio: the file holds text (an
  HTML page)" (an error page saved under an .mp3 name); nothing of the
  file's content is quoted, since a path may name a file that is not the
  user's to show (a manifest row `../../etc/passwd`);
* a truncated MP3, from its frame headers: the last frame runs past the end
  of the file, or the Xing/Info header announces more frames than the file
  holds. mpg123 would decode what is there without an error (and print
  warnings of its own on stderr), so a third of a syllable would be
  classified as if it were the whole;
* a truncated WAV, whose data chunk announces more bytes than the file holds
  (libsndfile silently returns the shorter signal);
* a truncated FLAC or a malformed OGG, which libsndfile refuses: the message
  says how much decoded before it stopped.

A truncated MP3 cut exactly at a frame boundary, without a Xing/Info header
(CBR files from many encoders), cannot be told from a complete one: nothing
in the file announces its length.

Example:
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> from keras_tone.decoding import read_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "a.flac")
    >>> sf.write(path, np.zeros((800, 2), "float32"), 8000)
    >>> waveform, rate = read_audio(path)
    >>> waveform.shape, waveform.dtype, rate
    ((800, 2), dtype('float32'), 8000)
"""

from __future__ import annotations

import io
import os
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Formats `read_audio` recognises by their first bytes.
FORMATS = ("WAV", "FLAC", "OGG", "MP3")


class AudioFileError(ValueError):
    """A file that cannot be read as audio; `reason` says why, without the path.

    Attributes:
        path: the file.
        reason: one phrase, e.g. `"empty file (0 bytes)"`.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"Cannot read {str(path)!r} as audio: {reason}.")
        self.path = str(path)
        self.reason = reason


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode an audio file at its own sampling rate.

    Args:
        path: a WAV, FLAC, OGG or MP3 file (recognised by its content, not
            its name).

    Returns:
        `(waveform, sample_rate)`: float32 samples in [-1, 1] of shape
        `[frames, channels]`, and the file's sampling rate in Hz.

    Raises:
        FileNotFoundError: there is no file at `path`.
        AudioFileError: (a `ValueError`) the file is empty, not audio,
            truncated or otherwise undecodable; `reason` says which.

    Example:
        >>> import tempfile, os
        >>> from keras_tone.decoding import AudioFileError, read_audio
        >>> path = os.path.join(tempfile.mkdtemp(), "page.mp3")
        >>> with open(path, "w") as f:
        ...     _ = f.write("<!DOCTYPE html><html>Not found</html>")
        >>> try:
        ...     read_audio(path)
        ... except AudioFileError as error:
        ...     print(error.reason)
        not audio: the file holds text (an HTML page)
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No audio file at {str(path)!r}.")
    data = path.read_bytes()
    problem = _problem_before_decoding(data, path.suffix.lower())
    if problem:
        raise AudioFileError(path, problem)
    try:
        with sf.SoundFile(io.BytesIO(data)) as stream:
            sample_rate, declared, kind = stream.samplerate, stream.frames, stream.format
            try:
                waveform = stream.read(dtype="float32", always_2d=True)
            except sf.LibsndfileError as error:
                raise AudioFileError(
                    path, _stopped_reason(data, kind, sample_rate, declared, error)
                ) from error
    except sf.LibsndfileError as error:
        raise AudioFileError(path, _refused_reason(data, error)) from error
    if waveform.shape[0] == 0:
        raise AudioFileError(path, "no audio samples in the file (0 frames)")
    return waveform, int(sample_rate)


def declared_seconds(path: str | os.PathLike) -> float | None:
    """How long an audio file says it is, from its header, without decoding it; None if unknown.

    For refusing a file that is far too long before spending time on it
    (`keras_tone.audio.check_duration`). An MP3 without a Xing/Info header
    gives an estimate.

    Example:
        >>> from keras_tone.decoding import declared_seconds
        >>> round(declared_seconds("tests/data/ma1.wav"), 2)
        0.52
    """
    import soundfile as sf

    try:
        info = sf.info(os.fspath(path))
    except (OSError, RuntimeError, ValueError):  # sf.LibsndfileError is a RuntimeError
        return None
    if not info.samplerate or info.frames <= 0:
        return None
    return info.frames / info.samplerate


def failure_reason(error: BaseException) -> str:
    """Why a file could not be read or used, in one line and without its path.

    For reports that name the file themselves (`keras_tone.predict_files`,
    `keras_tone.datasets.Corpus.unreadable`, the command line): an
    `AudioFileError`'s `reason`, "no such file", an `OSError`'s description,
    or any other error's message, whitespace collapsed and without the final
    full stop.

    Example:
        >>> from keras_tone.decoding import AudioFileError, failure_reason
        >>> failure_reason(AudioFileError("a.mp3", "empty file (0 bytes)"))
        'empty file (0 bytes)'
        >>> failure_reason(FileNotFoundError("No audio file at 'b.wav'."))
        'no such file'
    """
    if isinstance(error, AudioFileError):
        return error.reason
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()).rstrip(".")


# --------------------------------------------------------------------------- sniffing


def _sniff(data: bytes) -> str | None:
    """The format that the first bytes announce, one of `FORMATS`, or None."""
    if data[:4] in (b"RIFF", b"RIFX", b"RF64") and data[8:12] == b"WAVE":
        return "WAV"
    if data[:4] == b"fLaC":
        return "FLAC"
    if data[:4] == b"OggS":
        return "OGG"
    if data[:3] == b"ID3" or _mp3_header(data, 0) is not None:
        return "MP3"
    return None


def _problem_before_decoding(data: bytes, suffix: str) -> str | None:
    if not data:
        return "empty file (0 bytes)"
    kind = _sniff(data)
    if kind is None and _looks_like_text(data):
        return f"not audio: the file holds {_text_kind(data)}"
    if kind == "MP3" or (kind is None and suffix == ".mp3"):
        return _mp3_problem(data)
    if kind == "WAV":
        return _wav_problem(data)
    return None


def _looks_like_text(data: bytes) -> bool:
    head = data[:256]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at byte 256 is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    allowed = set(string.whitespace)
    return all(c.isprintable() or c in allowed for c in text.lstrip("\ufeff"))


def _text_kind(data: bytes) -> str:
    """What kind of text the file holds, without quoting any of it."""
    head = data[:64].decode("utf-8", errors="replace").lstrip("\ufeff").lstrip().lower()
    if head.startswith(("<!doctype html", "<html")):
        return "text (an HTML page)"
    if head.startswith("<"):
        return "text (XML or HTML)"
    if head.startswith(("{", "[")):
        return "text (JSON)"
    return "text"


def _refused_reason(data: bytes, error: Exception) -> str:
    kind = _sniff(data)
    detail = str(error).split(":", 1)[-1].strip() or type(error).__name__
    if kind == "OGG":
        return f"malformed or truncated OGG file (libsndfile: {detail})"
    if kind is not None:
        return f"libsndfile could not open this {kind} file ({detail})"
    return f"not a format keras_tone reads ({', '.join(FORMATS)})"


def _stopped_reason(
    data: bytes, kind: str, sample_rate: int, declared: int, error: Exception
) -> str:
    """Decode again block by block to say how far the decoder got."""
    import soundfile as sf

    decoded = 0
    try:
        with sf.SoundFile(io.BytesIO(data)) as stream:
            for block in stream.blocks(blocksize=1024, dtype="float32", always_2d=True):
                decoded += block.shape[0]
    except sf.LibsndfileError:
        pass
    detail = str(error).split(":", 1)[-1].strip()
    expected = f" of {declared / sample_rate:.2f} s" if declared > decoded else ""
    return (
        f"truncated or corrupt {kind} file: decoded {decoded / sample_rate:.2f} s{expected}, "
        f"then stopped (libsndfile: {detail})"
    )


# --------------------------------------------------------------------------- WAV


def _wav_problem(data: bytes) -> str | None:
    """A RIFF WAV whose data chunk announces more bytes than the file holds."""
    little = data[:4] == b"RIFF"
    if data[:4] == b"RF64":
        return None  # sizes live in a ds64 chunk; libsndfile checks them
    order = "little" if little else "big"
    position = 12
    rate = channels = width = None
    while position + 8 <= len(data):
        chunk, size = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], order),
        )
        body = position + 8
        if chunk == b"fmt " and body + 16 <= len(data):
            channels = int.from_bytes(data[body + 2 : body + 4], order)
            rate = int.from_bytes(data[body + 4 : body + 8], order)
            width = int.from_bytes(data[body + 14 : body + 16], order) // 8
        if chunk == b"data":
            held = len(data) - body
            if size in (0, 0xFFFFFFFF) or size <= held:  # 0/-1: length left open by a stream
                return None
            frame = (channels or 1) * (width or 2)
            if rate:
                return (
                    f"truncated WAV: its data chunk announces {size // frame / rate:.2f} s, "
                    f"the file holds {held // frame / rate:.2f} s"
                )
            return f"truncated WAV: its data chunk announces {size} bytes, the file holds {held}"
        position = body + size + (size & 1)
    return None


# --------------------------------------------------------------------------- MP3

_MP3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 and 2.5
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class _Mp3Frame:
    size: int  # bytes, header included
    samples: int  # per channel
    sample_rate: int
    side_info: int  # bytes of side information after the 4-byte header


def _mp3_header(data: bytes, position: int) -> _Mp3Frame | None:
    """The MPEG audio layer III frame whose header starts at `position`, or None."""
    if position + 4 > len(data):
        return None
    header = int.from_bytes(data[position : position + 4], "big")
    version, layer = (header >> 19) & 3, (header >> 17) & 3
    bitrate, rate = (header >> 12) & 15, (header >> 10) & 3
    if header >> 21 != 0x7FF or version == 1 or layer != 1 or bitrate in (0, 15) or rate == 3:
        return None
    mono = (header >> 6) & 3 == 3
    sample_rate = _MP3_RATES[version][rate]
    samples = 1152 if version == 3 else 576
    kbps = _MP3_KBPS[3 if version == 3 else 2][bitrate]
    size = samples // 8 * kbps * 1000 // sample_rate + ((header >> 9) & 1)
    side = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    return _Mp3Frame(size, samples, sample_rate, side)


def _id3_end(data: bytes) -> int:
    position = 0
    while data[position : position + 3] == b"ID3" and position + 10 <= len(data):
        size = 0
        for byte in data[position + 6 : position + 10]:
            size = (size << 7) | (byte & 0x7F)
        footer = 10 if data[position + 5] & 0x10 else 0
        position += 10 + size + footer
    return position


def _xing_frames(data: bytes, position: int, frame: _Mp3Frame) -> int | None:
    """Frames announced by a Xing/Info header in the frame at `position` (itself excluded)."""
    tag = position + 4 + frame.side_info
    if data[tag : tag + 4] not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    if not flags & 1:
        return None
    return int.from_bytes(data[tag + 8 : tag + 12], "big")


def _mp3_problem(data: bytes) -> str | None:
    """Walk the MP3 frame headers; say what is wrong, or None for a complete stream."""
    position = _id3_end(data)
    first = _mp3_header(data, position)
    if first is None:
        return "not audio: no MP3 frame where the file's audio should start"
    announced = _xing_frames(data, position, first)
    if announced is not None:
        position += first.size  # the Xing/Info frame carries no audio
    frames, seconds = 0, 0.0
    while (frame := _mp3_header(data, position)) is not None:
        if position + frame.size > len(data):
            return (
                f"truncated MP3: decoded {seconds:.2f} s, then stopped: the file ends inside "
                f"frame {frames + 1}" + _announced(announced, frame)
            )
        frames += 1
        seconds += frame.samples / frame.sample_rate
        position += frame.size
    if announced is not None and frames < announced:
        return (
            f"truncated MP3: decoded {seconds:.2f} s, then stopped: the file holds "
            f"{frames} of the {announced} frames" + _announced(announced, first)
        )
    rest = data[position:]
    if 0 < len(rest) < 4 and rest[0] == 0xFF:
        return (
            f"truncated MP3: decoded {seconds:.2f} s, then stopped: the file ends inside "
            f"the header of frame {frames + 1}" + _announced(announced, first)
        )
    # Anything else after the last frame (an ID3v1 or APE tag, junk that mpg123
    # resyncs over) does not announce a length: the stream counts as complete.
    return None


def _announced(announced: int | None, frame: _Mp3Frame) -> str:
    if announced is None:
        return ""
    return f" (its header announces {announced * frame.samples / frame.sample_rate:.2f} s)"
