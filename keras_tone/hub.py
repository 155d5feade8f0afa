"""Files from the Hugging Face Hub and its cache, verified before they are used.

The Hub client's own environment variables apply: `HF_ENDPOINT`, `HF_HOME`,
`HF_HUB_CACHE`, `HF_HUB_OFFLINE`, `HF_TOKEN`. huggingface_hub reads most of them
once, when `huggingface_hub.constants` is first imported; keras_tone imports it
only when it first resolves a preset or `hf://` handle, so set them before
that (or before starting Python). `HF_HUB_OFFLINE` is also read at each call.

The client checks only a download's size; the sha256 checks are ours: a
registered preset's files against the registry, an `hf://` download against
the content hash the Hub reported for it. A file that fails is deleted from
the cache and never loaded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from keras_tone._version import __version__
from keras_tone.presets import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    WeightsChecksumError,
    check_repo_id,
    file_sha256,
    is_commit,
    is_sha256,
)

#: Revisions in `hf://owner/repo@revision`: a commit, branch or tag (`refs/pr/1`).
_REVISION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_./-]{0,198}[A-Za-z0-9])?")


def fetch_pinned(
    name: str, entry: dict[str, Any], filename: str, sha256: str, *, bundled: str
) -> tuple[str, str]:
    """A file of registered preset `name` from the HF cache or the Hub, verified.

    Args:
        name, entry: the preset and its registry entry (pinned commit).
        filename: the file in the preset folder.
        sha256: what the file must hash to.
        bundled: where a bundled copy was looked for (for the error message).

    Returns:
        `(path, source)`, source `"cache"` or `"hub"`.
    """
    from huggingface_hub import try_to_load_from_cache

    repo_id, revision = entry["repo_id"], entry["revision"]
    cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    if isinstance(cached, str):
        _verify_or_evict(cached, sha256, preset=name, source="the Hugging Face cache")
        return cached, "cache"
    if offline():
        raise FileNotFoundError(
            _unavailable(name, entry, filename, sha256, bundled, reason="HF_HUB_OFFLINE is set")
        )
    path = _download(
        repo_id, filename, revision, preset=name, entry=entry, sha256=sha256, bundled=bundled
    )
    _verify_or_evict(path, sha256, preset=name, source=_url(repo_id, filename, revision))
    return path, "hub"


def cached_pinned(entry: dict[str, Any], filename: str, sha256: str) -> str | None:
    """A registered preset's file from the HF cache if it is there and intact; no request."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(entry["repo_id"], filename, revision=entry["revision"])
    if isinstance(cached, str) and file_sha256(cached) == sha256:
        return cached
    return None


def fetch_hf_folder(handle: str) -> tuple[Path, Path, str]:
    """The weights and config of `hf://owner/repo[@revision]`: `(weights, config, source)`."""
    repo_id, revision = parse_hf_uri(handle)
    config_path, _ = fetch_hf(repo_id, CONFIG_NAME, revision, handle=handle)
    # A branch resolves to a commit once (the config's snapshot folder): the
    # weights then come from that same commit even if the branch moves meanwhile.
    snapshot = Path(config_path).parent.name
    if is_commit(snapshot):
        revision = snapshot
    weights_path, source = fetch_hf(repo_id, WEIGHTS_NAME, revision, handle=handle)
    return Path(weights_path), Path(config_path), source


def parse_hf_uri(handle: str) -> tuple[str, str | None]:
    """`(repo_id, revision or None)` of `hf://owner/repo[@revision]`, checked."""
    rest = handle[len("hf://") :]
    repo_id, sep, revision = rest.partition("@")
    if rest.startswith(("models/", "datasets/", "spaces/")) or repo_id.count("/") != 1:
        raise ValueError(
            f"Invalid Hub handle {handle!r}: expected 'hf://owner/repo' or "
            "'hf://owner/repo@<revision>' (a model repo holding model.weights.h5 and config.json)."
        )
    check_repo_id(repo_id, what=repr(handle))
    if sep and not (
        _REVISION.fullmatch(revision) and ".." not in revision and "//" not in revision
    ):
        raise ValueError(
            f"Invalid revision {revision!r} in {handle!r}: expected a commit hash, "
            "branch or tag (letters, digits, '_', '-', '.', '/')."
        )
    return repo_id, (revision if sep else None)


def fetch_hf(repo_id: str, filename: str, revision: str | None, *, handle: str) -> tuple[str, str]:
    """A file of a user's Hub repo, from the cache or the Hub: `(path, source)`."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    pinned = revision is not None and is_commit(revision)
    if isinstance(cached, str) and (pinned or offline()):
        _verify_blob_name(cached, handle=handle)
        return cached, "cache"
    if offline():
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
    bundled: str = "",
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
            message = _unavailable(preset, entry, filename, sha256, bundled, reason=reason)
        else:
            message = (
                f"Cannot load {what}: {filename} is not in the Hugging Face cache "
                f"({_cache_dir()}) and {reason}. It is fetched from {url}."
            )
        raise FileNotFoundError(message) from e
    except hub_errors.HfHubHTTPError as e:
        raise OSError(f"{what}: the Hub failed to serve {url}: {e}") from e


def _unavailable(
    name: str, entry: dict[str, Any], filename: str, sha256: str, bundled: str, *, reason: str
) -> str:
    repo_id, revision = entry["repo_id"], entry["revision"]
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
    if blob.parent.name != "blobs" or not is_sha256(blob.name):
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


def offline() -> bool:
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
