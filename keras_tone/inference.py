"""Classifying audio files: the library behind `keras-tone predict`.

A ladder in the manner of CREPE: `find_audio_files` turns files and folders
into audio files; `predict_files(model, paths)` classifies them and returns
one `FileResult` per path, in the order given, with the reason for each file
that could not be classified instead of an exception.

`predict_files` decodes files on a thread pool (`keras_tone.decoding`) while
`keras_tone.runner.Runner` classifies the ones already decoded, so that
decoding and inference share the cores; it batches clips of similar length
(after cutting digital silence, `Runner.trim`) and checks each file once.
Each result also says how much voiced speech the clip holds
(`keras_tone.layers.VoicedSpeech`, computed in the same pass): a clip
without enough for a tone (`keras_tone.gate`) gets probabilities, but
`FileResult.top` gives no tone for it and `FileResult.refusal` says why.
With `speakers=`, each clip is classified with the speaker context of the
other clips of its speaker, from the same front-end pass.

Example:
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> import keras_tone
    >>> folder = tempfile.mkdtemp()
    >>> t = np.arange(8000) / 16000
    >>> vowel = sum(np.sin(2 * np.pi * 200 * k * t) / k**1.5 for k in range(1, 20))
    >>> sf.write(os.path.join(folder, "a.wav"), 0.1 * vowel, 16000)
    >>> open(os.path.join(folder, "b.mp3"), "w").close()
    >>> model = keras_tone.ToneNet(weights=None)
    >>> paths = [os.path.join(folder, name) for name in ("a.wav", "b.mp3")]
    >>> results = keras_tone.predict_files(model, paths)
    >>> results[0].probabilities.shape, results[0].voiced, results[1].error
    ((4,), True, 'empty file (0 bytes)')
"""

from __future__ import annotations

import collections
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_tone import labels
from keras_tone.gate import refusal
from keras_tone.runner import BATCH_SIZE, Runner

#: File name endings that `find_audio_files` picks up when it walks a folder.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

#: Clips are batched with others whose length (after cutting digital
#: silence) falls in the same band of this many seconds.
BUCKET_SECONDS = 0.25


@dataclass(frozen=True)
class FileResult:
    """What `predict_files` found for one file.

    Attributes:
        path: the file, as given.
        probabilities: float32 `[classes]`, or None when the file could not
            be classified (see `error`).
        voiced_seconds: how long the clip holds voiced speech
            (`keras_tone.layers.VoicedSpeech`), or None with an error.
        error: why the file could not be classified, without the path, e.g.
            `"empty file (0 bytes)"`; None when it was.
        seconds: the clip's length in seconds, or None with an error.
        class_names: the model's class names (its config's), which `top`
            reports; None for the default names of `len(probabilities)` classes.
    """

    path: str
    probabilities: np.ndarray | None = None
    voiced_seconds: float | None = None
    error: str | None = None
    seconds: float | None = None
    class_names: tuple[str, ...] | None = None

    @property
    def refusal(self) -> str | None:
        """Why a clip that was read gets no tone (`keras_tone.gate.refusal`), else None."""
        return None if self.error is not None else refusal(self.voiced_seconds, self.seconds)

    @property
    def voiced(self) -> bool:
        """Whether the clip holds enough voiced speech for a tone (`keras_tone.gate`)."""
        return self.error is None and self.refusal is None

    def top(self, k: int = 1) -> list[tuple[int, str, float]]:
        """The `k` most probable tones as `(tone, name, probability)`, best first.

        Empty when the file failed or holds too little voiced speech
        (`refusal` says why): probabilities of a clip without a voice are not
        an answer.
        """
        if self.probabilities is None or not self.voiced:
            return []
        names = self.class_names
        return labels.decode_predictions(self.probabilities[None], top=k, names=names)[0]


def find_audio_files(
    paths: Sequence[str | os.PathLike],
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into audio files; return `(files, problems)`.

    Folders are walked recursively for `AUDIO_SUFFIXES` (any case), in sorted
    order; files named explicitly are kept whatever their suffix. A path that
    does not exist is a problem `(path, message)`.

    Example:
        >>> from keras_tone.inference import find_audio_files
        >>> files, problems = find_audio_files(["tests/data", "nope.wav"])
        >>> [f.name for f in files], problems
        (['ma1.wav', 'ma2.wav', 'ma3.wav', 'ma4.wav'], [('nope.wav', 'no such file or folder')])
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for text in map(os.fspath, paths):
        path = Path(text)
        if path.is_dir():
            found = _audio_files_in(path)
            if not found:
                problems.append((text, _NO_AUDIO_IN_FOLDER))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append((text, "no such file or folder"))
    return files, problems


#: Why a folder gives no file to classify.
_NO_AUDIO_IN_FOLDER = f"no {'/'.join(AUDIO_SUFFIXES)} files in this folder"


def _audio_files_in(folder: Path) -> list[Path]:
    """The `AUDIO_SUFFIXES` files under `folder`, recursively, in sorted order."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
    )


def _expand_folders(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
) -> tuple[list[str], list[int]]:
    """`(files, origin)`: each folder replaced by its audio files (an empty one kept).

    `origin[i]` is the index in `paths` that file `i` comes from.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[str] = []
    origin: list[int] = []
    for index, text in enumerate(map(os.fspath, paths)):
        found = _audio_files_in(Path(text)) if os.path.isdir(text) else []
        expanded = [os.fspath(p) for p in found] or [text]
        files.extend(expanded)
        origin.extend([index] * len(expanded))
    return files, origin


def predict_files(
    model: Any,
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    speakers: Sequence[Any] | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
    progress: bool | Callable[[int, int], object] = False,
) -> list[FileResult]:
    """Classify the tone of each audio file; one `FileResult` per path, in order.

    Args:
        model: a ToneNet that takes waveforms (`include_preprocessing=True`,
            the default; `keras_tone.load_model`), with or without the
            speaker-context input.
        paths: audio files (WAV, FLAC, OGG, MP3) and folders, or one of
            them; a folder stands for its audio files (`AUDIO_SUFFIXES`,
            recursively, in sorted order).
        speakers: `None`, or the speaker of each path (any hashable labels,
            one per path; a folder's speaker is that of all its files;
            `speakers_by_folder` makes them from the folders). With speakers,
            each clip gets the speaker context of the other clips of its
            speaker that could be decoded
            (`Runner.predict(..., groups=speakers)`), which needs a model with
            the `"speaker_context"` input (`load_model(handle,
            speaker_context=True)`); every file is then decoded before the
            first is classified. Without speakers such a model gets a context
            of zeros, which is the model alone.
        batch_size: clips per model call.
        workers: decoding threads; `None` for the number of CPU cores.
        progress: `True` for a progress bar on stderr (tqdm), or a callable
            `progress(done, total)` called as files finish; counts files.

    Returns:
        A list of `FileResult`, one per file in the order given (folders
        expanded in place). A file that cannot be read or classified, or a
        folder without audio files, gets `error` (the reason, without the
        path), never an exception; a clip without enough voiced speech gets
        `refusal`.

    Raises:
        ValueError: `model` is not a waveform ToneNet; `speakers` is given for
            a model without the speaker-context input, or is not one per
            path; or `batch_size < 1`.

    Example:
        >>> import keras_tone
        >>> model = keras_tone.ToneNet(weights=None)
        >>> keras_tone.predict_files(model, ["no/such/file.wav"])[0].error
        'no such file'

        A speaker's clips, each judged against the others (a folder of one
        learner's recordings, say):

        >>> import numpy as np, soundfile as sf, tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> t = np.arange(8000) / 16000
        >>> paths = []
        >>> for i, f0 in enumerate((150, 180, 210)):
        ...     voice = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
        ...     paths.append(os.path.join(folder, f"{i}.wav"))
        ...     sf.write(paths[-1], 0.1 * voice, 16000)
        >>> with_context = keras_tone.ToneNet(weights=None, speaker_context=True)
        >>> results = keras_tone.predict_files(with_context, paths, speakers=["me"] * 3)
        >>> tuple(r.probabilities.shape for r in results)
        ((4,), (4,), (4,))
    """
    runner = Runner(model, batch_size=batch_size)
    given = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else list(paths)
    paths, origin = _expand_folders(given)
    if speakers is not None:
        speakers = list(speakers)
        if runner.context_size is None:
            raise ValueError(
                "speakers= needs a model with the speaker_context input: build it with "
                "keras_tone.load_model(handle, speaker_context=True) or "
                "ToneNet(..., speaker_context=True). "
                f"Received: model.input_shape={model.input_shape}"
            )
        if len(speakers) != len(given):
            raise ValueError(
                "speakers= needs one speaker per path. "
                f"Received: {len(speakers)} speakers for {len(given)} paths"
            )
        speakers = [speakers[index] for index in origin]
    results: list[FileResult | None] = [None] * len(paths)
    lengths: list[float | None] = [None] * len(paths)  # seconds, before trimming
    report = _progress(progress, len(paths))

    def classify(items: list[tuple[int, np.ndarray]], groups: list[str] | None = None) -> None:
        out = runner.predict([waveform for _, waveform in items], groups=groups)
        for (index, _), p, s in zip(items, out.probabilities, out.voiced_seconds, strict=True):
            results[index] = FileResult(
                paths[index], p, float(s), seconds=lengths[index], class_names=runner.class_names
            )
        report(len(items))

    decoded: list[tuple[int, np.ndarray]] = []
    batches = _Batches(round(BUCKET_SECONDS * runner.sample_rate), batch_size)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for index, waveform, seconds, error in _decode_ahead(
            pool, paths, runner, ahead=4 * batch_size
        ):
            lengths[index] = seconds
            if error is not None:
                results[index] = FileResult(paths[index], error=error)
                report(1)
            elif speakers is not None:  # classified once every clip is decoded
                decoded.append((index, waveform))
            elif (full := batches.add(index, waveform)) is not None:
                classify(full)
    if rest := batches.rest():
        classify(rest)
    if decoded:
        classify(decoded, [str(speakers[index]) for index, _ in decoded])
    report(0, close=True)
    return [r for r in results if r is not None]


def speakers_by_folder(paths: Iterable[str | os.PathLike]) -> list[str]:
    """One speaker per folder: the folder that holds each file, as a speaker label.

    How `keras-tone predict --speaker-context` groups the clips it is given.

    Example:
        >>> from keras_tone.inference import speakers_by_folder
        >>> speakers_by_folder(["a/1.wav", "a/2.wav", "b/1.wav"])
        ['a', 'a', 'b']
    """
    return [os.fspath(Path(p).parent) for p in paths]


class _Batches:
    """Clips grouped by length (bands of `width` samples); a group is handed back when full."""

    def __init__(self, width: int, size: int) -> None:
        self.width, self.size = max(1, width), size
        self.groups: dict[int, list[tuple[int, np.ndarray]]] = collections.defaultdict(list)

    def add(self, index: int, waveform: np.ndarray) -> list[tuple[int, np.ndarray]] | None:
        group = self.groups[math.ceil(waveform.size / self.width)]
        group.append((index, waveform))
        if len(group) < self.size:
            return None
        full = list(group)
        group.clear()
        return full

    def rest(self) -> list[tuple[int, np.ndarray]]:
        """The clips not handed back yet (the runner batches them by length)."""
        rest = [item for group in self.groups.values() for item in group]
        self.groups.clear()
        return rest


def _decode(path: str, runner: Runner) -> tuple[np.ndarray | None, float | None, str | None]:
    """`(trimmed waveform, seconds before trimming, None)`, or `(None, None, reason)`."""
    from keras_tone.audio import load_audio, validate_clip
    from keras_tone.decoding import failure_reason

    if os.path.isdir(path):  # a folder left after `_expand_folders`: it holds no audio
        return None, None, _NO_AUDIO_IN_FOLDER
    try:
        waveform = load_audio(path, runner.sample_rate)
        waveform = validate_clip(waveform, runner.sample_rate, name="the clip")
    except (OSError, ValueError) as error:
        return None, None, failure_reason(error)
    return runner.trim(waveform), waveform.size / runner.sample_rate, None


def _decode_ahead(
    pool: ThreadPoolExecutor, paths: list[str], runner: Runner, *, ahead: int
) -> Iterator[tuple[int, np.ndarray | None, float | None, str | None]]:
    """Decoded files in input order, with at most `ahead` files decoded or in flight."""
    pending: collections.deque[tuple[int, Future]] = collections.deque()
    for index, path in enumerate(paths):
        pending.append((index, pool.submit(_decode, path, runner)))
        if len(pending) >= ahead:
            done, future = pending.popleft()
            yield done, *future.result()
    while pending:
        done, future = pending.popleft()
        yield done, *future.result()


def _progress(progress: bool | Callable[[int, int], object], total: int) -> Callable[..., None]:
    """A `report(n, close=False)` that advances the bar or calls the callback."""
    if progress is True:
        import sys

        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="file", desc="Classifying", file=sys.stderr)

        def report(n: int, close: bool = False) -> None:
            bar.update(n)
            if close:
                bar.close()

        return report
    done = 0

    def call(n: int, close: bool = False) -> None:
        nonlocal done
        done += n
        if callable(progress) and n:
            progress(done, total)

    return call


__all__ = [
    "AUDIO_SUFFIXES",
    "BUCKET_SECONDS",
    "FileResult",
    "find_audio_files",
    "predict_files",
    "speakers_by_folder",
]
