"""Pretrained ToneNet weights: the presets table and the one resolver.

A preset is a folder laid out as it is published on the Hugging Face Hub:

* `model.weights.h5`: the Keras weights;
* `config.json`: everything needed to rebuild the model (see `model_config`);
* `README.md`: the model card.

Preset folders live in the repository's top-level `weights/<name>/`. The wheel
ships them as `keras_tone/_bundled_weights/<name>/` (pyproject.toml's
force-include), so the presets work offline and match the code's version.

`resolve_weights` turns every handle that `ToneNet(weights=...)` accepts into
a file on disk, in this order:

1. **A local path** (`str` or `os.PathLike`): a `.weights.h5` file, or a preset
   folder. Loaded as is; the config is the `config.json` beside it.
2. **A preset name** (`list_presets()`): the copy bundled with the package if
   its sha256 matches `PRESETS`; else the Hugging Face cache; else
   `hf_hub_download` at the pinned 40-hex commit. Cached and downloaded files
   are checked against the sha256 in `PRESETS`; a file that fails the check
   is deleted from the cache and never loaded.
3. **`hf://owner/repo[@revision]`**: your own weights on the Hub, with the
   `config.json` of that repo. Pin a commit (`@<40-hex>`) for reproducible
   loads.

The Hub client's own environment variables apply: `HF_ENDPOINT`, `HF_HOME`,
`HF_HUB_CACHE`, `HF_HUB_OFFLINE`, `HF_TOKEN`. huggingface_hub reads most of them
once, when `huggingface_hub.constants` is first imported; keras_tone imports it
only when it first resolves a preset or `hf://` handle, so set them before
that (or before starting Python). `HF_HUB_OFFLINE` is also read at each call.

Adding a preset: put its folder in `weights/<name>/`, publish it with
`scripts/publish_weights.py`, which uploads it and writes its entry (commit
and sha256s) into `PRESETS` below.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keras_tone import __version__, labels
from keras_tone._keras import keras

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "model.weights.h5"
CONFIG_NAME = "config.json"
CARD_NAME = "README.md"

# The registry: preset name -> where its files are and what they must hash to.
# Plain data, one entry per preset:
#   description:   one line for list_presets() users and the docs;
#   repo_id:       the Hugging Face Hub repo that hosts the preset folder;
#   revision:      the 40-hex commit of that repo that this keras_tone version
#                  pins, or None while the preset is not published (then only
#                  the bundled copy can be used);
#   filename:      the weights file in that folder (always model.weights.h5);
#   sha256:        sha256 of the weights file;
#   config_sha256: sha256 of the folder's config.json, fetched the same way.
# scripts/publish_weights.py writes the entries between the two markers: a
# revision is recorded only from the commit that the Hub returned for an upload
# (or one given by hand with --revision), never invented.
# BEGIN PRESETS
PRESETS: dict[str, dict[str, Any]] = {
    "blcu": {
        "description": "ToneNet, 4 classes (tones 1-4), 16000 Hz audio.",
        "repo_id": "keras-tone/tonenet-blcu",
        "revision": None,
        "filename": "model.weights.h5",
        "sha256": "c3b34a2d3ca9437dad33941c349e2081ee3d13be443551bda313a56bc3192abc",
        "config_sha256": "73efb65068d45cf0cb58b4cfd9feec2a11e1a528a646f1a972361aba47ffda9b",
    },
    "blcu-5tone": {
        "description": "ToneNet, 5 classes (tones 1-4 and neutral), 16000 Hz audio.",
        "repo_id": "keras-tone/tonenet-blcu-5tone",
        "revision": None,
        "filename": "model.weights.h5",
        "sha256": "7ed1775c5e20f433fd510827c0ad5f594dc282c7032f9368d4a2b204c7ac454c",
        "config_sha256": "c9b9d9fa287229c247fb2cf67c3d013912821b4c3976a9259faf2b6efb90a294",
    },
}
# END PRESETS

_ENTRY_KEYS = ("description", "repo_id", "revision", "filename", "sha256", "config_sha256")

#: Preset names: lower-case letters, digits, `_`, `-` and `.` (not first or last).
_PRESET_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?")
_REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?"
_REPO_ID = re.compile(rf"{_REPO_PART}/{_REPO_PART}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Revisions in `hf://owner/repo@revision`: a commit, branch or tag (`refs/pr/1`).
_REVISION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_./-]{0,198}[A-Za-z0-9])?")

_ACCEPTED_FORMS = (
    "weights= accepts None (random initialisation), a preset name "
    "(keras_tone.list_presets(): {known}), 'hf://owner/repo' or "
    "'hf://owner/repo@<revision>' (a Hub repo holding model.weights.h5 and config.json), "
    "or the path of a .weights.h5 file or of a preset folder."
)

_PACKAGE_DIR = Path(__file__).resolve().parent


class WeightsChecksumError(ValueError):
    """A weights or config file does not have the sha256 that the registry pins.

    Raised after the offending file was deleted from the Hugging Face cache:
    it is never loaded.
    """


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file found on disk, with the preset config that describes it.

    Attributes:
        path: the `.weights.h5` file to load.
        config: the preset's `config.json` as a dict, or `None` for a bare
            local weights file with no `config.json` beside it.
        source: where it was found: `"local"`, `"bundled"`, `"cache"` (the
            Hugging Face cache) or `"hub"` (downloaded now).
        sha256: the verified sha256 of `path` for presets, else `None`.
    """

    path: Path
    config: dict | None
    source: str
    sha256: str | None = None


def model_config(*, classes: int, sample_rate: int) -> dict[str, Any]:
    """The `config.json` of a ToneNet preset: architecture, front end and classes."""
    from keras_tone import tonenet

    return {
        "model": "ToneNet",
        "classes": int(classes),
        "class_names": labels.class_names(classes),
        "sample_rate": int(sample_rate),
        "front_end": {
            "highpass": dict(tonenet.HIGHPASS),
            "syllable": dict(tonenet.SYLLABLE),
            "log_mel": dict(tonenet.LOG_MEL),
        },
        "architecture": {
            "block_filters": list(tonenet.BLOCK_FILTERS),
            "block_pools": [list(p) for p in tonenet.BLOCK_POOLS],
            "dense_units": tonenet.DENSE_UNITS,
            "dropout": tonenet.DROPOUT,
        },
        "keras_tone_version": __version__,
        "keras_version": keras.__version__,
    }


def save_preset(
    model: keras.Model, directory: str | os.PathLike, *, classes: int, card: str
) -> Path:
    """Write `model` as a preset folder: weights, `config.json` and model card.

    Args:
        model: a ToneNet with `include_top=True` and `include_preprocessing=True`.
        directory: the folder to write (created if needed).
        classes: number of tone classes of the model's head.
        card: the model card, Markdown with the Hub's YAML header.

    Returns:
        The folder's path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_weights(directory / WEIGHTS_NAME)
    sample_rate = model.get_layer("log_mel").sample_rate
    config = model_config(classes=classes, sample_rate=sample_rate)
    (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    (directory / CARD_NAME).write_text(card)
    return directory


# --------------------------------------------------------------------------
# The registry


def list_presets() -> list[str]:
    """Names of the pretrained presets that `ToneNet(weights=...)` accepts.

    Returns:
        The preset names, sorted.

    Example:
        >>> import keras_tone
        >>> isinstance(keras_tone.list_presets(), list)
        True
    """
    return sorted(PRESETS)


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file, as 64 lower-case hex digits.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
        >>> _ = p.write_bytes(b"abc")
        >>> file_sha256(p)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preset_entry(
    folder: str | os.PathLike,
    *,
    repo_id: str,
    revision: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The `PRESETS` entry for a preset folder: its files' sha256 and where it lives.

    Args:
        folder: a preset folder (`model.weights.h5`, `config.json`, `README.md`).
        repo_id: the Hub repo (`"owner/name"`) that hosts, or will host, the folder.
        revision: the 40-hex commit of `repo_id` that holds exactly these
            files, or `None` while the folder is not published.
        description: one line for users; by default made from `config.json`.

    Returns:
        A dict with the keys of a registry entry, ready for `register_preset`
        or for `PRESETS` in this module (`scripts/publish_weights.py` writes it).

    Example:
        >>> from keras_tone import ToneNet, weights
        >>> import tempfile
        >>> folder = weights.save_preset(ToneNet(weights=None), tempfile.mkdtemp(),
        ...                              classes=4, card="# demo")
        >>> entry = weights.preset_entry(folder, repo_id="someone/tonenet-demo")
        >>> sorted(entry)
        ['config_sha256', 'description', 'filename', 'repo_id', 'revision', 'sha256']
    """
    folder = Path(folder)
    weights_path, config_path = folder / WEIGHTS_NAME, folder / CONFIG_NAME
    for path in (weights_path, config_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(folder)!r} is not a preset folder: {path.name} is missing "
                f"(a preset folder holds {WEIGHTS_NAME}, {CONFIG_NAME} and {CARD_NAME}; "
                "write one with keras_tone.weights.save_preset)."
            )
    if description is None:
        config = json.loads(config_path.read_text())
        description = (
            f"{config.get('model', 'ToneNet')}, {config['classes']} classes "
            f"(tones 1-{min(int(config['classes']), 4)}"
            f"{' and neutral' if int(config['classes']) == 5 else ''}), "
            f"{config['sample_rate']} Hz audio."
        )
    entry = {
        "description": description,
        "repo_id": repo_id,
        "revision": revision,
        "filename": WEIGHTS_NAME,
        "sha256": file_sha256(weights_path),
        "config_sha256": file_sha256(config_path),
    }
    _check_entry("<new>", entry)
    return entry


def register_preset(name: str, entry: dict[str, Any], *, overwrite: bool = False) -> None:
    """Add a preset to the registry for this process (e.g. an in-house model).

    The entry is checked as strictly as the built-in ones; the weights are
    then resolved like any preset (bundled copy, cache, Hub at the pinned
    commit, sha256 check).

    Args:
        name: the preset name: lower-case letters, digits, `_`, `-`, `.`.
        entry: a dict with the keys `description`, `repo_id`, `revision`
            (40-hex commit or `None`), `filename`, `sha256`, `config_sha256`;
            `preset_entry` makes one from a folder.
        overwrite: replace an existing preset of that name.

    Raises:
        ValueError: a bad name or entry, or a name already taken.

    Example:
        >>> from keras_tone import weights
        >>> entry = {"description": "demo", "repo_id": "someone/tonenet-demo",
        ...          "revision": "0" * 40, "filename": "model.weights.h5",
        ...          "sha256": "a" * 64, "config_sha256": "b" * 64}
        >>> weights.register_preset("demo-preset", entry)
        >>> "demo-preset" in weights.list_presets()
        True
        >>> del weights.PRESETS["demo-preset"]
    """
    _check_preset_name(name)
    if name in PRESETS and not overwrite:
        raise ValueError(f"A preset named {name!r} exists already; pass overwrite=True.")
    entry = dict(entry)
    _check_entry(name, entry)
    PRESETS[name] = entry


def _check_preset_name(name: Any) -> None:
    if not isinstance(name, str) or not _PRESET_NAME.fullmatch(name) or ".." in name:
        raise ValueError(
            f"Invalid preset name {name!r}: a preset name is 1-64 lower-case letters, "
            "digits, '_', '-' or '.', starting and ending with a letter or digit "
            f"(no paths or URLs). Known presets: {_known()}."
        )


def _check_repo_id(repo_id: Any, *, what: str) -> None:
    if (
        not isinstance(repo_id, str)
        or not _REPO_ID.fullmatch(repo_id)
        or ".." in repo_id
        or "--" in repo_id
    ):
        raise ValueError(
            f"Invalid Hugging Face repo id {repo_id!r} in {what}: expected 'owner/name' "
            "(letters, digits, '_', '-', '.'; no '..' or '--')."
        )


def _check_entry(name: str, entry: dict[str, Any]) -> None:
    missing = [key for key in _ENTRY_KEYS if key not in entry]
    extra = [key for key in entry if key not in _ENTRY_KEYS]
    if missing or extra:
        raise ValueError(
            f"Preset entry {name!r}: expected the keys {list(_ENTRY_KEYS)}; "
            f"missing {missing}, unexpected {extra}."
        )
    _check_repo_id(entry["repo_id"], what=f"preset {name!r}")
    revision = entry["revision"]
    if revision is not None and not (isinstance(revision, str) and _COMMIT.fullmatch(revision)):
        raise ValueError(
            f"Preset {name!r}: revision must be a 40-hex commit hash (or None while the "
            f"preset is unpublished), not a branch or tag; received {revision!r}."
        )
    if entry["filename"] != WEIGHTS_NAME:
        raise ValueError(
            f"Preset {name!r}: filename must be {WEIGHTS_NAME!r}; received {entry['filename']!r}."
        )
    for key in ("sha256", "config_sha256"):
        value = entry[key]
        if not (isinstance(value, str) and _SHA256.fullmatch(value)):
            raise ValueError(
                f"Preset {name!r}: {key} must be 64 lower-case hex digits; received {value!r}."
            )
    if not isinstance(entry["description"], str):
        raise ValueError(f"Preset {name!r}: description must be a string.")


def _known() -> str:
    return ", ".join(repr(n) for n in list_presets()) or "none registered yet"


# --------------------------------------------------------------------------
# The resolver


def resolve_weights(handle: str | os.PathLike) -> ResolvedWeights:
    """Find the weights file that `handle` names, verified where it can be.

    Args:
        handle: a local path (a `.weights.h5` file or a preset folder), a
            preset name (`list_presets()`), or `"hf://owner/repo[@revision]"`.
            A string that names an existing file or folder is a path.

    Returns:
        A `ResolvedWeights`: the weights file, its config and its source.

    Raises:
        ValueError: an unknown or malformed preset name, repo id or URL.
        FileNotFoundError: the file is not on disk and cannot be fetched (the
            message names the file, its URL and how to place it by hand).
        WeightsChecksumError: a cached or downloaded file does not match the
            registry's sha256 (it was deleted from the cache).
        PermissionError: a gated or private Hub repo without a valid `HF_TOKEN`.
        OSError: another failure of the Hub.

    Example:
        >>> from keras_tone import ToneNet, weights
        >>> import tempfile
        >>> folder = weights.save_preset(ToneNet(weights=None), tempfile.mkdtemp(),
        ...                              classes=4, card="# demo")
        >>> resolved = weights.resolve_weights(folder)
        >>> resolved.source, resolved.path.name, resolved.config["classes"]
        ('local', 'model.weights.h5', 4)
    """
    if isinstance(handle, os.PathLike):
        return _resolve_local(Path(handle))
    if not isinstance(handle, str):
        raise TypeError(
            f"weights must be None, a string or a path; received {type(handle).__name__}. "
            + _ACCEPTED_FORMS.format(known=_known())
        )
    if handle.startswith("hf://"):
        return _resolve_hf_uri(handle)
    if "://" in handle or handle.lower().startswith(("http:", "https:", "file:")):
        raise ValueError(
            f"Unsupported weights URL {handle!r}. " + _ACCEPTED_FORMS.format(known=_known())
        )
    path = Path(handle).expanduser()
    if "\x00" not in handle and (path.exists() or _looks_like_path(handle)):
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
                f"{WEIGHTS_NAME}, {CONFIG_NAME} and {CARD_NAME}."
            )
    elif path.is_file():
        folder, weights_path = path.parent, path
    else:
        raise FileNotFoundError(
            f"No weights file or preset folder at {str(path)!r}. "
            + _ACCEPTED_FORMS.format(known=_known())
        )
    config_path = folder / CONFIG_NAME
    config = json.loads(config_path.read_text()) if config_path.is_file() else None
    return ResolvedWeights(path=weights_path, config=config, source="local")


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
    _check_preset_name(name)
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}. " + _ACCEPTED_FORMS.format(known=_known()))
    entry = PRESETS[name]

    for root in _bundled_roots():
        folder = root / name
        weights_path, config_path = folder / entry["filename"], folder / CONFIG_NAME
        if not weights_path.is_file():
            continue
        if (
            config_path.is_file()
            and file_sha256(weights_path) == entry["sha256"]
            and file_sha256(config_path) == entry["config_sha256"]
        ):
            return ResolvedWeights(
                path=weights_path,
                config=json.loads(config_path.read_text()),
                source="bundled",
                sha256=entry["sha256"],
            )
        logger.warning(
            "Ignoring the bundled copy of preset %r in %s: its files do not match the "
            "sha256 that keras_tone pins for it.",
            name,
            folder,
        )

    if entry["revision"] is None:
        places = " or ".join(str(root / name) for root in _bundled_roots()) or str(
            _PACKAGE_DIR / "_bundled_weights" / name
        )
        raise FileNotFoundError(
            f"Preset {name!r} is not published on the Hugging Face Hub yet (no pinned "
            f"revision of {entry['repo_id']}), and no bundled copy with sha256 "
            f"{entry['sha256']} was found in {places}. Put the preset folder there "
            f"({WEIGHTS_NAME}, {CONFIG_NAME}), or pass its path: "
            "ToneNet(weights='/path/to/folder')."
        )

    config_path, _ = _fetch_pinned(name, entry, CONFIG_NAME, entry["config_sha256"])
    weights_path, source = _fetch_pinned(name, entry, entry["filename"], entry["sha256"])
    return ResolvedWeights(
        path=Path(weights_path),
        config=json.loads(Path(config_path).read_text()),
        source=source,
        sha256=entry["sha256"],
    )


def _fetch_pinned(name: str, entry: dict[str, Any], filename: str, sha256: str) -> tuple[str, str]:
    """A registry file from the HF cache or the Hub, verified: `(path, source)`."""
    from huggingface_hub import try_to_load_from_cache

    repo_id, revision = entry["repo_id"], entry["revision"]
    cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    if isinstance(cached, str):
        _verify_or_evict(cached, sha256, preset=name, source="the Hugging Face cache")
        return cached, "cache"
    if _offline():
        raise FileNotFoundError(
            _unavailable(name, entry, filename, sha256, reason="HF_HUB_OFFLINE is set")
        )
    path = _download(repo_id, filename, revision, preset=name, entry=entry, sha256=sha256)
    _verify_or_evict(path, sha256, preset=name, source=_url(repo_id, filename, revision))
    return path, "hub"


def _resolve_hf_uri(handle: str) -> ResolvedWeights:
    repo_id, revision = _parse_hf_uri(handle)
    config_path, _ = _fetch_hf(repo_id, CONFIG_NAME, revision, handle=handle)
    # A branch resolves to a commit once (the config's snapshot folder): the
    # weights then come from that same commit even if the branch moves meanwhile.
    snapshot = Path(config_path).parent.name
    if _COMMIT.fullmatch(snapshot):
        revision = snapshot
    weights_path, source = _fetch_hf(repo_id, WEIGHTS_NAME, revision, handle=handle)
    return ResolvedWeights(
        path=Path(weights_path),
        config=json.loads(Path(config_path).read_text()),
        source=source,
    )


def _parse_hf_uri(handle: str) -> tuple[str, str | None]:
    rest = handle[len("hf://") :]
    repo_id, sep, revision = rest.partition("@")
    if rest.startswith(("models/", "datasets/", "spaces/")) or repo_id.count("/") != 1:
        raise ValueError(
            f"Invalid Hub handle {handle!r}: expected 'hf://owner/repo' or "
            "'hf://owner/repo@<revision>' (a model repo holding model.weights.h5 and config.json)."
        )
    _check_repo_id(repo_id, what=repr(handle))
    if sep and not (
        _REVISION.fullmatch(revision) and ".." not in revision and "//" not in revision
    ):
        raise ValueError(
            f"Invalid revision {revision!r} in {handle!r}: expected a commit hash, "
            "branch or tag (letters, digits, '_', '-', '.', '/')."
        )
    return repo_id, (revision if sep else None)


def _fetch_hf(repo_id: str, filename: str, revision: str | None, *, handle: str) -> tuple[str, str]:
    """A file of a user's Hub repo, from the cache or the Hub: `(path, source)`."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    pinned = revision is not None and _COMMIT.fullmatch(revision) is not None
    if isinstance(cached, str) and (pinned or _offline()):
        _verify_blob_name(cached, handle=handle)
        return cached, "cache"
    if _offline():
        raise FileNotFoundError(
            f"Cannot load {handle!r} offline: {filename} is not in the Hugging Face cache "
            f"({_cache_dir()}) and HF_HUB_OFFLINE is set. It is fetched from "
            f"{_url(repo_id, filename, revision)}. Unset HF_HUB_OFFLINE, or download "
            f"{WEIGHTS_NAME} and {CONFIG_NAME} into one folder and pass "
            "ToneNet(weights='/path/to/folder')."
        )
    path = _download(repo_id, filename, revision, handle=handle)
    _verify_blob_name(path, handle=handle)
    return path, ("cache" if path == cached else "hub")


def _download(
    repo_id: str,
    filename: str,
    revision: str | None,
    *,
    handle: str | None = None,
    preset: str | None = None,
    entry: dict[str, Any] | None = None,
    sha256: str | None = None,
) -> str:
    """`hf_hub_download` with the Hub client's errors turned into Python's own."""
    from huggingface_hub import errors as hub_errors
    from huggingface_hub import hf_hub_download

    url = _url(repo_id, filename, revision)
    what = f"preset {preset!r}" if preset else repr(handle)
    try:
        return hf_hub_download(
            repo_id,
            filename,
            revision=revision,
            library_name="keras_tone",
            library_version=__version__,
        )
    except hub_errors.GatedRepoError as e:
        raise PermissionError(
            f"{what}: the Hub repo {repo_id} is gated. Accept its terms on the Hub and set "
            f"HF_TOKEN to a token of that account ({url})."
        ) from e
    except hub_errors.RepositoryNotFoundError as e:
        raise FileNotFoundError(
            f"{what}: no Hub repository {repo_id!r} at {_endpoint()}, or it is private "
            f"(set HF_TOKEN to a token that can read it). Tried {url}."
        ) from e
    except hub_errors.RevisionNotFoundError as e:
        raise FileNotFoundError(
            f"{what}: the Hub repository {repo_id!r} has no revision {revision!r} ({url})."
        ) from e
    except hub_errors.RemoteEntryNotFoundError as e:
        raise FileNotFoundError(
            f"{what}: the Hub repository {repo_id!r} has no file {filename!r} at revision "
            f"{revision or 'main'!r} ({url}). A keras_tone preset folder on the Hub holds "
            f"{WEIGHTS_NAME} and {CONFIG_NAME}."
        ) from e
    except hub_errors.LocalEntryNotFoundError as e:
        reason = f"the Hub could not be reached ({_endpoint()})"
        if preset is not None and entry is not None and sha256 is not None:
            message = _unavailable(preset, entry, filename, sha256, reason=reason)
        else:
            message = (
                f"Cannot load {what}: {filename} is not in the Hugging Face cache "
                f"({_cache_dir()}) and {reason}. It is fetched from {url}."
            )
        raise FileNotFoundError(message) from e
    except hub_errors.HfHubHTTPError as e:
        raise OSError(f"{what}: the Hub failed to serve {url}: {e}") from e


def _unavailable(
    name: str, entry: dict[str, Any], filename: str, sha256: str, *, reason: str
) -> str:
    repo_id, revision = entry["repo_id"], entry["revision"]
    bundled = " or ".join(str(root / name) for root in _bundled_roots()) or str(
        _PACKAGE_DIR / "_bundled_weights" / name
    )
    return (
        f"Cannot load preset {name!r}: {filename} (sha256 {sha256}) is not bundled with "
        f"keras_tone ({bundled}), not in the Hugging Face cache ({_cache_dir()}), and "
        f"{reason}. It is fetched from {_url(repo_id, filename, revision)} "
        f"(with {_url(repo_id, CONFIG_NAME, revision)}). To place it by hand: download both "
        f"files into one folder (check that `sha256sum {filename}` prints {sha256}) and pass "
        "the folder, ToneNet(weights='/path/to/folder'); or, where the Hub is reachable, run "
        f"`hf download {repo_id} {WEIGHTS_NAME} {CONFIG_NAME} --revision {revision}` and copy "
        "that Hugging Face cache to this machine's HF_HUB_CACHE."
    )


def _verify_or_evict(path: str, sha256: str, *, preset: str, source: str) -> None:
    actual = file_sha256(path)
    if actual == sha256:
        return
    _evict(path)
    raise WeightsChecksumError(
        f"The file {Path(path).name} of preset {preset!r} from {source} has sha256 {actual}, "
        f"but keras_tone pins {sha256}. It was not loaded and was deleted from the "
        f"Hugging Face cache ({path}). Run again to download it afresh; if this happens "
        "again, the copy on the Hub differs from the one this keras_tone version expects."
    )


def _verify_blob_name(path: str, *, handle: str) -> None:
    """Check an `hf://` download against the content hash the Hub reported for it.

    The Hub names an LFS file by the sha256 of its content (its ETag), and the
    cache stores the blob under that name: a 64-hex blob name is checked.
    Small non-LFS files (`config.json`) have a git object id instead: skipped.
    """
    blob = Path(path).resolve()
    if blob.parent.name != "blobs" or not _SHA256.fullmatch(blob.name):
        return
    actual = file_sha256(blob)
    if actual != blob.name:
        _evict(path)
        raise WeightsChecksumError(
            f"{handle!r}: {Path(path).name} has sha256 {actual}, but the Hub reported "
            f"{blob.name}. It was not loaded and was deleted from the Hugging Face cache."
        )


def _evict(path: str) -> None:
    """Delete a snapshot file of the HF cache and the blob it points to."""
    pointer = Path(path)
    blob = pointer.resolve() if pointer.is_symlink() else None
    pointer.unlink(missing_ok=True)
    if blob is not None and blob.parent.name == "blobs":
        blob.unlink(missing_ok=True)


def _offline() -> bool:
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "")
    return bool(constants.HF_HUB_OFFLINE) or value.strip().upper() in constants.ENV_VARS_TRUE_VALUES


def _url(repo_id: str, filename: str, revision: str | None) -> str:
    from huggingface_hub import hf_hub_url

    return hf_hub_url(repo_id, filename, revision=revision)


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE
