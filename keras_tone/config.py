"""`ToneNetConfig`: what a ToneNet computes, as data.

A preset's `config.json` is `ToneNetConfig.to_json()`, and `ToneNet(weights=...)`
builds the model from it: the sampling rate, the front end (high-pass,
syllable normalisation, log-mel), the architecture and the classes. The
config is strict in both directions: `from_dict` refuses unknown and missing
keys and values of the wrong type, naming the key, and a config written for
another front end (`front_end_version`) is refused with a clear message.

Each section is a frozen dataclass; serialisation walks the dataclass fields,
so adding a section is adding a dataclass and a field here (and reading it in
the front-end and ToneNet builders).

Example:
    >>> from keras_tone.config import ToneNetConfig
    >>> config = ToneNetConfig(classes=5)
    >>> config.front_end.log_mel.n_mels, config.class_names[-1]
    (80, 'tone 5 (neutral)')
    >>> ToneNetConfig.from_json(config.to_json()) == config
    True
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keras_tone import dsp, labels

#: The front end that this keras_tone builds. Bumped whenever the layers of
#: the front end compute something else for the same settings, so a preset
#: trained on an older front end is refused instead of loading into features
#: it never saw.
FRONT_END_VERSION = 2

#: The sampling rate of ToneNet's defaults and pretrained presets, in Hz.
SAMPLE_RATE = 16000

#: The `"model"` value of every ToneNet `config.json`.
MODEL_NAME = "ToneNet"


@dataclass(frozen=True)
class HighPassConfig:
    """The linear-phase FIR high-pass at the input (`keras_tone.layers.HighPass`).

    It removes DC offsets and rumble, which in some recordings hold the
    "silence" within 15-25 dB of the syllable and defeat the silence trimming.

    Attributes:
        cutoff_hz: cut-off frequency in Hz (-6 dB point).
        taps: filter length, odd.
    """

    cutoff_hz: float = 60.0
    taps: int = 1023


@dataclass(frozen=True)
class SyllableConfig:
    """Silence trimming, loudness and length (`keras_tone.layers.SyllableNormalization`).

    Attributes:
        duration: the time span of the image, in seconds: a syllable up to
            this long keeps its frames (the rest is silence).
        max_duration: a longer syllable, up to this long, has its frames
            resampled in time to fit `duration` (so its end is seen); beyond
            it, it is cut.
        top_db: frames more than this far below the loudest frame are silence.
        target_rms_db: RMS level of the syllable after scaling, in dBFS.
        frame_length: analysis frame of the silence decision, in samples.
        hop_length: hop of the analysis frames, in samples.
    """

    duration: float = 1.0
    max_duration: float = 2.0
    top_db: float = 25.0
    target_rms_db: float = -20.0
    frame_length: int = 512
    hop_length: int = 128


@dataclass(frozen=True)
class LogMelConfig:
    """The log-mel image (`keras_tone.layers.LogMelSpectrogram`; librosa's other defaults).

    Attributes:
        n_fft: FFT size.
        hop_length: samples between frames.
        n_mels: number of mel bands.
        fmin: lowest mel frequency in Hz.
        fmax: highest mel frequency in Hz.
        top_db: floor of the image below its loudest bin, in dB.
    """

    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 80
    fmin: float = 75.0
    fmax: float = 3700.0
    top_db: float = 80.0


@dataclass(frozen=True)
class PitchConfig:
    """Pitch salience and histograms (`keras_tone.layers.PitchSalience`, `PitchHistogram`).

    The salience uses the log-mel's frames (`n_fft`, `hop_length`), so the two
    images of a syllable are aligned in time.

    Attributes:
        fmin: lowest F0 candidate in Hz.
        fmax: highest F0 candidate in Hz.
        step: candidate spacing in semitones.
        harmonics: harmonics summed per candidate.
        decay: weight ratio of successive harmonics.
        compression: exponent applied to the power spectrum.
        min_frequency: lowest spectrum frequency summed, in Hz.
        max_frequency: highest spectrum frequency summed, in Hz.
        floor: salience below which a frame does not vote in a histogram.
    """

    fmin: float = 50.0
    fmax: float = 600.0
    step: float = 0.5
    harmonics: int = 12
    decay: float = 0.84
    compression: float = 0.25
    min_frequency: float = 75.0
    max_frequency: float = 3700.0
    floor: float = 0.15

    def candidates(self) -> int:
        """The number of F0 candidates."""
        return len(dsp.pitch_candidates(self.fmin, self.fmax, self.step))


@dataclass(frozen=True)
class FrontEndConfig:
    """The front end, in the order it runs: high-pass, syllable, log-mel and pitch."""

    highpass: HighPassConfig = field(default_factory=HighPassConfig)
    syllable: SyllableConfig = field(default_factory=SyllableConfig)
    log_mel: LogMelConfig = field(default_factory=LogMelConfig)
    pitch: PitchConfig = field(default_factory=PitchConfig)


@dataclass(frozen=True)
class ArchitectureConfig:
    """The CNNs over the log-mel image and the relative pitch image.

    Attributes:
        block_filters: filters of each convolution block (two 3x3 convolutions).
        block_pools: max-pooling size (frames, mel bands) after each block.
        pitch_window: candidates kept on each side of the speaker's median
            pitch in the relative pitch image (`keras_tone.layers.RelativePitch`).
        pitch_filters: filters of each convolution block over the relative
            pitch image (each followed by 2x2 max pooling).
        pitch_units: units of the dense layer after the pitch blocks.
        dense_units: units of the hidden layer of the top.
        dropout: dropout rate before the classifier.
        members: networks after the front end whose probabilities are
            averaged: 1 for one network; more for an ensemble of networks
            trained apart (e.g. with other seeds), in one model, the front
            end computed once. Member `k`'s layers are named `member{k}_...`.
    """

    block_filters: tuple[int, ...] = (16, 32, 64)
    block_pools: tuple[tuple[int, int], ...] = ((1, 2), (2, 2), (2, 2))
    pitch_window: int = 36
    pitch_filters: tuple[int, ...] = (16, 32, 32)
    pitch_units: int = 64
    dense_units: int = 128
    dropout: float = 0.3
    # Written only when not 1, so configs saved before ensembles existed stay
    # valid and a one-network preset's config.json is unchanged.
    members: int = field(default=1, metadata={"optional": True})


@dataclass(frozen=True)
class ToneNetConfig:
    """Everything that decides what a ToneNet computes; `config.json` of a preset.

    Attributes:
        classes: size of the classifier: 4 (tones 1-4), 5 (with the neutral
            tone), or any positive number for a head of your own.
        class_names: one name per class; by default the tone names for 4 or
            5 classes (`keras_tone.labels.TONE_NAMES`), else `"class 1"`, ...
        sample_rate: sampling rate of the input waveforms, in Hz.
        front_end_version: the front end the config was made for; must be
            `FRONT_END_VERSION`.
        front_end: the settings of the front end.
        architecture: the settings of the CNN.

    Example:
        >>> from dataclasses import replace
        >>> from keras_tone.config import ToneNetConfig
        >>> config = ToneNetConfig()
        >>> config.feature_shape()
        (32, 80)
        >>> replace(config, sample_rate=22050).feature_shape()
        (44, 80)
    """

    classes: int = 4
    class_names: tuple[str, ...] | None = None
    sample_rate: int = SAMPLE_RATE
    front_end_version: int = FRONT_END_VERSION
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)
    architecture: ArchitectureConfig = field(default_factory=ArchitectureConfig)

    def __post_init__(self) -> None:
        if isinstance(self.classes, bool) or not isinstance(self.classes, int) or self.classes < 1:
            raise ValueError(
                f"classes must be a positive integer. Received: classes={self.classes!r}"
            )
        if self.class_names is None:
            object.__setattr__(self, "class_names", tuple(labels.class_names(self.classes)))
        elif len(self.class_names) != self.classes:
            raise ValueError(
                f"class_names must name each of the {self.classes} classes. "
                f"Received: class_names={list(self.class_names)!r}"
            )
        object.__setattr__(self, "class_names", tuple(self.class_names))
        _check_front_end_version(self.front_end_version)
        fmax = self.front_end.log_mel.fmax
        if self.sample_rate < 2 * fmax:
            raise ValueError(
                f"sample_rate must be at least {2 * fmax:.0f} Hz for the log-mel front end "
                f"(fmax {fmax:.0f} Hz). Received: sample_rate={self.sample_rate}"
            )

    def frames(self) -> int:
        """Frames of the images the front end makes (`duration` at the log-mel's hop)."""
        samples = round(self.front_end.syllable.duration * self.sample_rate)
        return 1 + samples // self.front_end.log_mel.hop_length

    def feature_shape(self) -> tuple[int, int]:
        """`(frames, n_mels)` of the log-mel image that the front end makes."""
        return (self.frames(), self.front_end.log_mel.n_mels)

    def pitch_shape(self) -> tuple[int, int]:
        """`(frames, candidates)` of the pitch salience image that the front end makes."""
        return (self.frames(), self.front_end.pitch.candidates())

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON data: `{"model": "ToneNet", <field>: ...}`."""
        return {"model": MODEL_NAME, **_to_plain(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToneNetConfig:
        """Rebuild a config from `to_dict()`'s output.

        Raises:
            ValueError: `data` is not a ToneNet config, was made for another
                front end, or has unknown, missing or mistyped keys (the
                message names each).
        """
        if not isinstance(data, Mapping) or data.get("model") != MODEL_NAME:
            found = data.get("model") if isinstance(data, Mapping) else type(data).__name__
            raise ValueError(
                f'A ToneNet config is a JSON object with "model": "{MODEL_NAME}". '
                f"Received: model={found!r}"
            )
        if "front_end_version" in data:  # else: named among the missing keys
            _check_front_end_version(data["front_end_version"])
        return _from_plain(cls, {k: v for k, v in data.items() if k != "model"}, "")

    def to_json(self) -> str:
        """The text of `config.json` (indented, ends with a newline)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ToneNetConfig:
        """Parse the text of a `config.json` (see `from_dict`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"config.json is not valid JSON: {error}") from error
        return cls.from_dict(data)

    def differences(self, other: ToneNetConfig) -> list[str]:
        """The settings in which `other` differs, as `"key: mine -> other's"` lines.

        Example:
            >>> from dataclasses import replace
            >>> from keras_tone.config import ToneNetConfig
            >>> ToneNetConfig().differences(replace(ToneNetConfig(), sample_rate=22050))
            ['sample_rate: 16000 -> 22050']
        """
        mine, theirs = _flatten(self.to_dict()), _flatten(other.to_dict())
        return [
            f"{key}: {mine.get(key)!r} -> {theirs.get(key)!r}"
            for key in sorted(set(mine) | set(theirs))
            if mine.get(key) != theirs.get(key)
        ]


def _check_front_end_version(version: Any) -> None:
    if version != FRONT_END_VERSION:
        raise ValueError(
            f"This config was made for front end version {version!r}; this keras_tone "
            f"builds front end version {FRONT_END_VERSION}, whose features the weights "
            "were not trained on. Use the keras_tone version the preset was made with, "
            f"or retrain it. Received: front_end_version={version!r}"
        )


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {
            f.name: _to_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("optional") and getattr(value, f.name) == f.default)
        }
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


def _from_plain(cls: type, data: Any, path: str) -> Any:
    where = path or "the config"
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a JSON object. Received: {path}={data!r}")
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    unknown = sorted(set(data) - set(names))
    missing = [f.name for f in fields if f.name not in data and not f.metadata.get("optional")]
    if unknown or missing:
        raise ValueError(
            f"{where} does not match {cls.__name__}: unknown keys {unknown}, missing keys "
            f"{missing} (expected exactly {names})."
        )
    hints = typing.get_type_hints(cls)
    values = {
        name: _coerce(data[name], hints[name], _join(path, name)) for name in names if name in data
    }
    return cls(**values)


def _coerce(value: Any, hint: Any, path: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _from_plain(hint, value, path)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [arg for arg in args if arg is not type(None)]
        return _coerce(value, hint, path)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{path} must be a list. Received: {path}={value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ValueError(f"{path} must have {len(args)} items. Received: {path}={value!r}")
        return tuple(
            _coerce(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise ValueError(f"{path} must be of type {hint.__name__}. Received: {path}={value!r}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


__all__ = [
    "ArchitectureConfig",
    "FRONT_END_VERSION",
    "FrontEndConfig",
    "HighPassConfig",
    "SAMPLE_RATE",
    "LogMelConfig",
    "PitchConfig",
    "SyllableConfig",
    "ToneNetConfig",
]
