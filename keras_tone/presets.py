"""The registry of pretrained presets: plain data in `presets.json`, and its checks.

`keras_tone/presets.json` maps each preset name to one entry:

* `description`: one line for users and the docs;
* `repo_id`: the Hugging Face Hub repo that hosts the preset folder;
* `revision`: the 40-hex commit of that repo that this keras_tone version
  pins, or `null` while the preset is not published (then only the bundled
  copy can be used);
* `filename`: the weights file in that folder (always `model.weights.h5`);
* `sha256`: sha256 of the weights file;
* `config_sha256`: sha256 of the folder's `config.json`.

`scripts/publish_weights.py` rewrites the file (`write_presets`); a revision
is recorded only from the commit that the Hub returned for an upload, or
one given by hand. The checks are public so that tools can use them before
writing anything.

Example:
    >>> from keras_tone import presets
    >>> sorted(presets.PRESETS) == presets.list_presets()
    True
    >>> presets.check_preset_name("blcu")
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from keras_tone.config import ToneNetConfig

#: The registry file inside the package (shipped in the wheel).
PRESETS_FILE = Path(__file__).resolve().with_name("presets.json")

#: The keys of a registry entry, in the order `write_presets` writes them.
ENTRY_KEYS = ("description", "repo_id", "revision", "filename", "sha256", "config_sha256")

#: The files of a preset folder, as it is published on the Hugging Face Hub:
#: the Keras weights, the `ToneNetConfig`, the files' sha256 and the versions
#: that wrote them, and the model card. The one place that names them.
WEIGHTS_NAME = "model.weights.h5"
CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
CARD_NAME = "README.md"

#: The training report that `keras-tone train` writes beside the preset's files.
REPORT_NAME = "report.json"


class WeightsWarning(UserWarning):
    """Weights that load, but with a reason to look at them (the message says which)."""


class WeightsChecksumError(ValueError):
    """A weights or config file does not have the sha256 it must have.

    Either the registry pins another one (the file was then deleted from the
    Hugging Face cache), or the `metadata.json` of its preset folder records
    another one. The file is never loaded.
    """


#: Preset names: lower-case letters, digits, `_`, `-` and `.` (not first or last).
_PRESET_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?")
_REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?"
_REPO_ID = re.compile(rf"{_REPO_PART}/{_REPO_PART}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read_presets(path: str | os.PathLike = PRESETS_FILE) -> dict[str, dict[str, Any]]:
    """The registry in `path`, every entry checked.

    Raises:
        ValueError: the file is not a JSON object of valid entries (the
            message names the preset and the key).
    """
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(table, dict):
        raise ValueError(f"{path}: the presets table must be a JSON object of entries.")
    for name, entry in table.items():
        check_preset_name(name)
        check_entry(name, entry)
    return table


def write_presets(table: dict[str, dict[str, Any]], path: str | os.PathLike = PRESETS_FILE) -> None:
    """Write a registry to `path` (sorted by name), after checking every entry."""
    for name, entry in table.items():
        check_preset_name(name)
        check_entry(name, entry)
    ordered = {name: {key: table[name][key] for key in ENTRY_KEYS} for name in sorted(table)}
    Path(path).write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")


def list_presets() -> list[str]:
    """Names of the pretrained presets that `ToneNet(weights=...)` accepts.

    Returns:
        The preset names, sorted.

    Example:
        >>> import keras_tone
        >>> "blcu" in keras_tone.list_presets()
        True
    """
    return sorted(PRESETS)


def preset_descriptions() -> dict[str, str]:
    """Each preset's one-line description, by name (sorted).

    Example:
        >>> import keras_tone
        >>> keras_tone.preset_descriptions()["blcu-5tone"]
        'ToneNet, 5 classes (tones 1-4 and neutral), 16000 Hz audio.'
    """
    return {name: PRESETS[name]["description"] for name in sorted(PRESETS)}


def find_preset(sha256: str) -> str | None:
    """The name of the registered preset whose weights have this sha256, or `None`."""
    return next((name for name, e in sorted(PRESETS.items()) if e["sha256"] == sha256), None)


def register_preset(name: str, entry: dict[str, Any], *, overwrite: bool = False) -> None:
    """Add a preset to the registry of this process (e.g. an in-house model).

    The entry is checked as strictly as the built-in ones; the weights are
    then resolved like any preset (bundled copy, cache, Hub at the pinned
    commit, sha256 check).

    Args:
        name: the preset name: lower-case letters, digits, `_`, `-`, `.`.
        entry: a dict with the keys of `ENTRY_KEYS`; `preset_entry` makes one
            from a folder.
        overwrite: replace an existing preset of that name.

    Raises:
        ValueError: a bad name or entry, or a name already taken.

    Example:
        >>> from keras_tone import presets
        >>> entry = {"description": "demo", "repo_id": "someone/tonenet-demo",
        ...          "revision": "0" * 40, "filename": "model.weights.h5",
        ...          "sha256": "a" * 64, "config_sha256": "b" * 64}
        >>> presets.register_preset("demo-preset", entry)
        >>> "demo-preset" in presets.list_presets()
        True
        >>> del presets.PRESETS["demo-preset"]
    """
    check_preset_name(name)
    if name in PRESETS and not overwrite:
        raise ValueError(f"A preset named {name!r} exists already; pass overwrite=True.")
    entry = dict(entry)
    check_entry(name, entry)
    PRESETS[name] = entry


def preset_entry(
    folder: str | os.PathLike,
    *,
    repo_id: str,
    revision: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The registry entry for a preset folder: its files' sha256 and where it lives.

    Args:
        folder: a preset folder (`model.weights.h5`, `config.json`, ...).
        repo_id: the Hub repo (`"owner/name"`) that hosts, or will host, the folder.
        revision: the 40-hex commit of `repo_id` that holds exactly these
            files, or `None` while the folder is not published.
        description: one line for users; by default made from `config.json`.

    Returns:
        A dict with the keys of `ENTRY_KEYS`, ready for `register_preset` or
        `write_presets`.

    Example:
        >>> import tempfile
        >>> from keras_tone import ToneNet, presets, weights
        >>> from keras_tone.config import ToneNetConfig
        >>> folder = weights.save_preset(ToneNet(weights=None), tempfile.mkdtemp(),
        ...                              config=ToneNetConfig(), card="# demo")
        >>> entry = presets.preset_entry(folder, repo_id="someone/tonenet-demo")
        >>> entry["description"]
        'ToneNet, 4 classes (tones 1-4), 16000 Hz audio.'
    """
    folder = Path(folder)
    weights_path, config_path = folder / WEIGHTS_NAME, folder / CONFIG_NAME
    for path in (weights_path, config_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(folder)!r} is not a preset folder: {path.name} is missing (write one "
                "with keras_tone.weights.save_preset)."
            )
    if description is None:
        config = ToneNetConfig.from_json(config_path.read_text())
        tones = f"tones 1-{min(config.classes, 4)}" + (
            " and neutral" if config.classes == 5 else ""
        )
        description = f"ToneNet, {config.classes} classes ({tones}), {config.sample_rate} Hz audio."
    entry = {
        "description": description,
        "repo_id": repo_id,
        "revision": revision,
        "filename": WEIGHTS_NAME,
        "sha256": file_sha256(weights_path),
        "config_sha256": file_sha256(config_path),
    }
    check_entry("<new>", entry)
    return entry


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


# --------------------------------------------------------------------------
# Checks


def check_preset_name(name: Any) -> None:
    """Raise `ValueError` unless `name` is a valid preset name (no paths or URLs)."""
    if not isinstance(name, str) or not _PRESET_NAME.fullmatch(name) or ".." in name:
        raise ValueError(
            f"Invalid preset name {name!r}: a preset name is 1-64 lower-case letters, "
            "digits, '_', '-' or '.', starting and ending with a letter or digit "
            f"(no paths or URLs). Known presets: {known_presets()}."
        )


def check_repo_id(repo_id: Any, *, what: str) -> None:
    """Raise `ValueError` unless `repo_id` is a Hub repo id `owner/name` (`what`: its source)."""
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


def check_entry(name: str, entry: Any) -> None:
    """Raise `ValueError` unless `entry` is a valid registry entry for preset `name`."""
    if not isinstance(entry, dict):
        raise ValueError(f"Preset entry {name!r} must be a JSON object of {list(ENTRY_KEYS)}.")
    missing = [key for key in ENTRY_KEYS if key not in entry]
    extra = [key for key in entry if key not in ENTRY_KEYS]
    if missing or extra:
        raise ValueError(
            f"Preset entry {name!r}: expected the keys {list(ENTRY_KEYS)}; "
            f"missing {missing}, unexpected {extra}."
        )
    check_repo_id(entry["repo_id"], what=f"preset {name!r}")
    revision = entry["revision"]
    if revision is not None and not (isinstance(revision, str) and _COMMIT.fullmatch(revision)):
        raise ValueError(
            f"Preset {name!r}: revision must be a 40-hex commit hash (or None while the "
            f"preset is unpublished), not a branch or tag. Received: revision={revision!r}"
        )
    if entry["filename"] != WEIGHTS_NAME:
        raise ValueError(
            f"Preset {name!r}: filename must be {WEIGHTS_NAME!r}. "
            f"Received: filename={entry['filename']!r}"
        )
    for key in ("sha256", "config_sha256"):
        value = entry[key]
        if not (isinstance(value, str) and _SHA256.fullmatch(value)):
            raise ValueError(
                f"Preset {name!r}: {key} must be 64 lower-case hex digits. "
                f"Received: {key}={value!r}"
            )
    if not isinstance(entry["description"], str):
        raise ValueError(f"Preset {name!r}: description must be a string.")


def is_commit(revision: str) -> bool:
    """Whether `revision` is a 40-hex commit hash."""
    return _COMMIT.fullmatch(revision) is not None


def is_sha256(text: str) -> bool:
    """Whether `text` is 64 lower-case hex digits."""
    return _SHA256.fullmatch(text) is not None


def known_presets() -> str:
    """The registered names for error messages: `'blcu', 'blcu-5tone'`."""
    return ", ".join(repr(n) for n in list_presets()) or "none registered yet"


#: The registry of this process: `presets.json`, plus `register_preset` additions.
PRESETS: dict[str, dict[str, Any]] = read_presets()


__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "ENTRY_KEYS",
    "METADATA_NAME",
    "REPORT_NAME",
    "WEIGHTS_NAME",
    "WeightsChecksumError",
    "WeightsWarning",
    "PRESETS",
    "PRESETS_FILE",
    "check_entry",
    "check_preset_name",
    "check_repo_id",
    "file_sha256",
    "find_preset",
    "list_presets",
    "preset_descriptions",
    "preset_entry",
    "read_presets",
    "register_preset",
    "write_presets",
]
