"""Preset folders, and the one resolver from a weights handle to verified files.

A preset is a folder laid out as it is published on the Hugging Face Hub:

* `model.weights.h5`: the Keras weights;
* `config.json`: the `keras_tone.config.ToneNetConfig` that builds the model;
* `metadata.json`: the sha256 of those two files, and the versions that wrote them;
* `README.md`: the model card.

`save_preset` writes one. Preset folders live in the repository's top-level
`weights/<name>/`; the wheel ships them as `keras_tone/_bundled_weights/<name>/`
(pyproject.toml's force-include), so the presets work offline and match the
code's version.

`resolve_weights` turns every handle that `ToneNet(weights=...)` accepts into
files on disk, verified where it can be:

1. **A local path** (`os.PathLike`, or a string with a `/`, starting with
   `.` or `~`, or ending with `.h5`, `.keras` or `.json`; a bare name that
   is no preset's and names a file or folder here): a preset folder, or a
   `.weights.h5` file (with the `config.json` and `metadata.json` beside it,
   if any). A folder whose `metadata.json` records other hashes than its
   files have is refused. Weights whose sha256 is a registered preset's are
   that preset: its config is used when there is no `config.json`, and a
   `config.json` that differs from the preset's is refused, naming what
   differs. Weights that match no registered preset load with an
   `UnregisteredWeightsWarning`.
2. **A preset name** (`keras_tone.list_presets()`), also where a folder of
   that name lies in the working directory (a `WeightsWarning` says so):
   the copy bundled with the package if its sha256 matches the registry;
   else the Hugging Face cache; else a download at the pinned 40-hex commit
   (`keras_tone.hub`), checked against the registry's sha256.
3. **`hf://owner/repo[@revision]`**: your own preset folder on the Hub. Pin a
   commit (`@<40-hex>`) for reproducible loads.

Adding a preset: put its folder in `weights/<name>/` and run
`scripts/publish_weights.py`, which uploads it and records its entry (commit
and sha256s) in `keras_tone/presets.json` (see `keras_tone.presets`).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from keras_tone import hub, presets
from keras_tone._keras import keras
from keras_tone._version import __version__
from keras_tone.config import ToneNetConfig
from keras_tone.presets import (
    CARD_NAME,
    CONFIG_NAME,
    METADATA_NAME,
    WEIGHTS_NAME,
    WeightsChecksumError,
    WeightsWarning,
    file_sha256,
)

_ACCEPTED_FORMS = (
    "weights= accepts None (random initialisation), a preset name "
    "(keras_tone.list_presets(): {known}), 'hf://owner/repo' or "
    "'hf://owner/repo@<revision>' (a Hub repo holding model.weights.h5 and config.json), "
    "or the path of a .weights.h5 file or of a preset folder (a folder that has a "
    "preset's name is written as a path: './blcu')."
)

_PACKAGE_DIR = Path(__file__).resolve().parent


class UnregisteredWeightsWarning(WeightsWarning):
    """Weights loaded by path match no registered preset: nothing vouches for them."""


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file found on disk, with the config that describes it.

    Attributes:
        path: the `.weights.h5` file to load.
        config: the preset's `ToneNetConfig`, or `None` for a bare weights
            file of no registered preset with no `config.json` beside it.
        source: where it was found: `"local"`, `"bundled"`, `"cache"` (the
            Hugging Face cache) or `"hub"` (downloaded now).
        preset: the registered preset these weights are, or `None`.
    """

    path: Path
    config: ToneNetConfig | None
    source: str
    preset: str | None = None


def save_preset(
    model: keras.Model, directory: str | os.PathLike, *, config: ToneNetConfig, card: str
) -> Path:
    """Write `model` as a preset folder: weights, config, metadata and model card.

    Args:
        model: a ToneNet with `include_top=True` and `include_preprocessing=True`,
            built from `config`, without the speaker-context input (the same
            weights load into the model with it).
        directory: the folder to write (created if needed).
        config: the `ToneNetConfig` the model was built from.
        card: the model card, Markdown with the Hub's YAML header.

    Returns:
        The folder's path.

    Example:
        >>> import tempfile
        >>> from keras_tone import ToneNet, weights
        >>> from keras_tone.config import ToneNetConfig
        >>> folder = weights.save_preset(ToneNet(weights=None), tempfile.mkdtemp(),
        ...                              config=ToneNetConfig(), card="# demo")
        >>> sorted(p.name for p in folder.iterdir())
        ['README.md', 'config.json', 'metadata.json', 'model.weights.h5']
    """
    if tuple(model.output_shape) != (None, config.classes):
        raise ValueError(
            f"The model's output shape must be (None, {config.classes}) for a config with "
            f"{config.classes} classes. Received: model.output_shape={model.output_shape}"
        )
    if len(model.inputs) != 1:
        raise ValueError(
            "save_preset writes the one-input waveform ToneNet, the model every preset "
            "loads into. Give it those weights first: "
            "keras_tone.tonenet.transfer_weights(model, ToneNet(weights=None, config=config)). "
            f"Received: a model with inputs {[t.name for t in model.inputs]}"
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_weights(directory / WEIGHTS_NAME)
    (directory / CONFIG_NAME).write_text(config.to_json())
    (directory / CARD_NAME).write_text(card)
    write_metadata(directory, parameter_count=int(model.count_params()))
    return directory


def write_metadata(directory: str | os.PathLike, *, parameter_count: int) -> Path:
    """Write `metadata.json` of a preset folder: its files' sha256 and the versions.

    Run it again after changing a file of the folder on purpose (e.g. its config).
    """
    directory = Path(directory)
    metadata = {
        "keras_tone_version": __version__,
        "keras_version": keras.__version__,
        "parameter_count": parameter_count,
        "sha256": {name: file_sha256(directory / name) for name in (WEIGHTS_NAME, CONFIG_NAME)},
    }
    path = directory / METADATA_NAME
    path.write_text(json.dumps(metadata, indent=2) + "\n")
    return path


def read_config(path: str | os.PathLike) -> ToneNetConfig:
    """The `ToneNetConfig` in a `config.json` file; errors name the file."""
    try:
        return ToneNetConfig.from_json(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


# --------------------------------------------------------------------------
# The resolver


def resolve_weights(handle: str | os.PathLike) -> ResolvedWeights:
    """Find the weights file that `handle` names, verified where it can be.

    Args:
        handle: a preset name (`list_presets()`), a local path (a
            `.weights.h5` file or a preset folder), or
            `"hf://owner/repo[@revision]"`. A bare name (no `/`, not starting
            with `.` or `~`) is a preset when one has that name, even if a
            file or folder of that name exists here (a `WeightsWarning` says
            so: write `./name` for the local one); else a file or folder of
            that name.

    Returns:
        A `ResolvedWeights`: the weights file, its config and its source.

    Raises:
        ValueError: an unknown or malformed preset name, repo id or URL; a
            `config.json` that is not a valid config, or that differs from
            the registered preset whose weights it sits beside.
        FileNotFoundError: the file is not on disk and cannot be fetched (the
            message names the file, its URL and how to place it by hand).
        WeightsChecksumError: a file does not match the sha256 that the
            registry pins or that its folder's `metadata.json` records.
        PermissionError: a gated or private Hub repo without a valid `HF_TOKEN`.
        OSError: another failure of the Hub.

    Example:
        >>> import tempfile
        >>> from keras_tone import weights
        >>> resolved = weights.resolve_weights("blcu-5tone")
        >>> resolved.source, resolved.path.name, resolved.config.classes
        ('bundled', 'model.weights.h5', 5)
    """
    if isinstance(handle, os.PathLike):
        return _resolve_local(Path(handle))
    if not isinstance(handle, str):
        raise TypeError(
            "weights must be None, a string or a path. "
            + _ACCEPTED_FORMS.format(known=presets.known_presets())
            + f" Received: weights={handle!r}"
        )
    if handle.startswith("hf://"):
        weights_path, config_path, source = hub.fetch_hf_folder(handle)
        return ResolvedWeights(weights_path, read_config(config_path), source)
    if "://" in handle or handle.lower().startswith(("http:", "https:", "file:")):
        raise ValueError(
            f"Unsupported weights URL {handle!r}. "
            + _ACCEPTED_FORMS.format(known=presets.known_presets())
        )
    path = Path(handle).expanduser()
    if "\x00" in handle:
        return _resolve_preset(handle)  # refused there, with the accepted forms
    if _looks_like_path(handle):
        return _resolve_local(path)
    if handle in presets.PRESETS:
        if path.exists():
            warnings.warn(
                WeightsWarning(
                    f"{handle!r} is both a preset and a {'folder' if path.is_dir() else 'file'} "
                    f"here; the preset is used. To use the local one, write it as a path: "
                    f"'./{handle}'."
                ),
                stacklevel=2,
            )
        return _resolve_preset(handle)
    if path.exists():
        return _resolve_local(path)
    return _resolve_preset(handle)


def _looks_like_path(handle: str) -> bool:
    separators = [s for s in (os.sep, os.altsep, "/") if s]
    return (
        any(s in handle for s in separators)
        or handle.startswith(("~", "."))
        or handle.endswith((".h5", ".keras", ".json"))
    )


def _resolve_local(path: Path) -> ResolvedWeights:
    if path.is_dir():
        folder, weights_path = path, path / WEIGHTS_NAME
        if not weights_path.is_file():
            raise FileNotFoundError(
                f"The folder {str(path)!r} has no {WEIGHTS_NAME}: a preset folder holds "
                f"{WEIGHTS_NAME}, {CONFIG_NAME}, {METADATA_NAME} and {CARD_NAME}."
            )
    elif path.is_file():
        folder, weights_path = path.parent, path
    else:
        raise FileNotFoundError(
            f"No weights file or preset folder at {str(path)!r}. "
            + _ACCEPTED_FORMS.format(known=presets.known_presets())
        )
    config_path = folder / CONFIG_NAME
    config = read_config(config_path) if config_path.is_file() else None
    sha256 = file_sha256(weights_path)
    checked = _check_metadata(folder, weights_path, config_path)
    preset = presets.find_preset(sha256)
    if preset is None:
        warnings.warn(
            UnregisteredWeightsWarning(
                f"The weights {str(weights_path)!r} (sha256 {sha256}) match no registered "
                f"preset ({presets.known_presets()}); they are loaded as given, "
                + (
                    f"checked against the {METADATA_NAME} of their folder."
                    if checked
                    else f"with nothing to check them against (no {METADATA_NAME} beside them)."
                )
            ),
            stacklevel=3,
        )
        return ResolvedWeights(weights_path, config, "local")
    registered = _registered_config(preset)
    if config is None:
        config = registered
    elif file_sha256(config_path) != presets.PRESETS[preset]["config_sha256"]:
        _refuse_doctored_config(preset, config_path, config, registered)
    return ResolvedWeights(weights_path, config, "local", preset=preset)


def _check_metadata(folder: Path, weights_path: Path, config_path: Path) -> bool:
    """Check a folder's files against its `metadata.json`; whether there was one."""
    metadata_path = folder / METADATA_NAME
    if not metadata_path.is_file():
        return False
    try:
        recorded = json.loads(metadata_path.read_text())["sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{metadata_path} is not a keras_tone preset's metadata (no sha256 table): {error}"
        ) from error
    files = {WEIGHTS_NAME: weights_path, CONFIG_NAME: config_path}
    for name, path in files.items():
        if name not in recorded and not path.is_file():
            continue
        actual = file_sha256(path) if path.is_file() else "(missing)"
        if recorded.get(name) != actual:
            raise WeightsChecksumError(
                f"{path} does not match the sha256 that {metadata_path} records for it "
                f"({recorded.get(name)}; the file has {actual}). The folder was changed after "
                "it was written; it is not loaded. Restore the file, or, if the change is "
                "yours, write the metadata again (keras_tone.weights.write_metadata)."
            )
    return True


def _refuse_doctored_config(
    preset: str, config_path: Path, config: ToneNetConfig, registered: ToneNetConfig | None
) -> None:
    """Refuse a `config.json` beside the weights of `preset` that is not the preset's."""
    if registered is not None and registered == config:
        return  # the same config, written with other whitespace
    if registered is None:
        what = (
            f"its sha256 is {file_sha256(config_path)}, not the registered "
            f"{presets.PRESETS[preset]['config_sha256']}"
        )
    else:
        what = "; ".join(registered.differences(config))
    raise ValueError(
        f"{config_path} sits beside the weights of preset {preset!r} but is not that preset's "
        f"config ({what}). The weights would be built into another model than the one they "
        f"were trained as. Restore the preset's config.json, or load the preset by name: "
        f"ToneNet(weights={preset!r})."
    )


def _registered_config(name: str) -> ToneNetConfig | None:
    """The config of registered preset `name` from a verified local copy; no download."""
    entry = presets.PRESETS[name]
    for root in _bundled_roots():
        path = root / name / CONFIG_NAME
        if path.is_file() and file_sha256(path) == entry["config_sha256"]:
            return read_config(path)
    cached = hub.cached_pinned(entry, CONFIG_NAME, entry["config_sha256"])
    return read_config(cached) if cached else None


def _bundled_roots() -> list[Path]:
    """Folders that may hold bundled preset folders, in order of preference.

    In an installed wheel: `keras_tone/_bundled_weights`. In a source
    checkout or editable install: the repository's top-level `weights/`.
    """
    roots = []
    wheel_copy = _PACKAGE_DIR / "_bundled_weights"
    if wheel_copy.is_dir():
        roots.append(wheel_copy)
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "weights").is_dir():
        roots.append(checkout / "weights")
    return roots


def _resolve_preset(name: str) -> ResolvedWeights:
    presets.check_preset_name(name)
    if name not in presets.PRESETS:
        raise ValueError(
            f"Unknown preset {name!r}. " + _ACCEPTED_FORMS.format(known=presets.known_presets())
        )
    entry = presets.PRESETS[name]
    for root in _bundled_roots():
        folder = root / name
        weights_path, config_path = folder / WEIGHTS_NAME, folder / CONFIG_NAME
        if not weights_path.is_file():
            continue
        if (
            config_path.is_file()
            and file_sha256(weights_path) == entry["sha256"]
            and file_sha256(config_path) == entry["config_sha256"]
        ):
            return ResolvedWeights(weights_path, read_config(config_path), "bundled", name)
        warnings.warn(
            f"Ignoring the bundled copy of preset {name!r} in {folder}: its files do not "
            "match the sha256 that keras_tone pins for it.",
            WeightsWarning,
            stacklevel=3,
        )

    places = " or ".join(str(root / name) for root in _bundled_roots()) or str(
        _PACKAGE_DIR / "_bundled_weights" / name
    )
    if entry["revision"] is None:
        raise FileNotFoundError(
            f"Preset {name!r} is not published on the Hugging Face Hub yet (no pinned "
            f"revision of {entry['repo_id']}), and no bundled copy with sha256 "
            f"{entry['sha256']} was found in {places}. Put the preset folder there "
            f"({WEIGHTS_NAME}, {CONFIG_NAME}), or pass its path: "
            "ToneNet(weights='/path/to/folder')."
        )
    config_path, _ = hub.fetch_pinned(
        name, entry, CONFIG_NAME, entry["config_sha256"], bundled=places
    )
    weights_path, source = hub.fetch_pinned(
        name, entry, WEIGHTS_NAME, entry["sha256"], bundled=places
    )
    return ResolvedWeights(Path(weights_path), read_config(config_path), source, name)


__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "METADATA_NAME",
    "ResolvedWeights",
    "UnregisteredWeightsWarning",
    "WEIGHTS_NAME",
    "WeightsChecksumError",
    "WeightsWarning",
    "read_config",
    "resolve_weights",
    "save_preset",
    "write_metadata",
]
