"""Publish a preset folder to the Hugging Face Hub and pin it in keras_tone's registry.

A preset folder (`weights/<name>/`: `model.weights.h5`, `config.json`,
`metadata.json`, `README.md`) is uploaded with
`huggingface_hub.HfApi.upload_folder`; the commit hash the Hub returns, checked
by downloading the files back at that commit, is written with the files'
sha256 into the registry, `keras_tone/presets.json` (plain JSON, rewritten
with `keras_tone.presets.write_presets`). A revision is only ever recorded
from a real upload, or from `--revision` given by hand.

Usage (from the repository root)::

    # What would be uploaded, and the entry that would be written; no network:
    python scripts/publish_weights.py weights/blcu --repo-id OWNER/keras-tone-blcu --dry-run

    # Upload (needs HF_TOKEN with write access), verify, record the commit:
    python scripts/publish_weights.py weights/blcu --repo-id OWNER/keras-tone-blcu

    # Record without uploading: bundled-only (revision None) until published,
    # or pinned to a commit that is already on the Hub:
    python scripts/publish_weights.py weights/blcu --repo-id OWNER/keras-tone-blcu --no-upload
    python scripts/publish_weights.py weights/blcu --repo-id OWNER/keras-tone-blcu \\
        --no-upload --revision <40-hex commit>

    # Print the entry instead of writing it:
    ... --print-entry
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

try:
    from keras_tone import presets, weights
except ImportError:  # run from a source checkout without installing keras_tone
    sys.path.insert(0, str(REPO_ROOT))
    from keras_tone import presets, weights

UPLOADED = (weights.WEIGHTS_NAME, weights.CONFIG_NAME, weights.METADATA_NAME, weights.CARD_NAME)


def write_entry(name: str, entry: dict[str, Any], path: str | Path = presets.PRESETS_FILE) -> None:
    """Add or replace preset `name` in the registry file `path`; the other entries are kept."""
    table = presets.read_presets(path)
    table[name] = dict(entry)
    presets.write_presets(table, path)


# -- the folder ------------------------------------------------------------------


def plan(folder: Path) -> list[tuple[str, int, str]]:
    """`(filename, size, sha256)` of the files that would be uploaded."""
    missing = [name for name in UPLOADED if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} is not a preset folder: missing {', '.join(missing)} "
            f"(a preset folder holds {', '.join(UPLOADED)})."
        )
    weights.read_config(folder / weights.CONFIG_NAME)  # a valid ToneNet config, or ValueError
    with warnings.catch_warnings():  # a new preset is not registered yet: that is the point
        warnings.simplefilter("ignore", weights.UnregisteredWeightsWarning)
        weights.resolve_weights(folder)  # its files match its metadata.json, or raises
    return [
        (name, (folder / name).stat().st_size, presets.file_sha256(folder / name))
        for name in UPLOADED
    ]


def upload(folder: Path, repo_id: str, *, private: bool, message: str) -> str:
    """Upload the preset files and return the new commit hash, checked by downloading back.

    Not exercised by the tests: it needs the real Hub and a token with write access.
    """
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(library_name="keras_tone")
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        allow_patterns=list(UPLOADED),
        commit_message=message,
    )
    commit = info.oid
    with tempfile.TemporaryDirectory() as cache:
        for name in UPLOADED:
            path = hf_hub_download(repo_id, name, revision=commit, cache_dir=cache)
            if presets.file_sha256(path) != presets.file_sha256(folder / name):
                raise RuntimeError(f"{name} at {repo_id}@{commit} differs from {folder / name}.")
    return commit


# -- command line ----------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the preset folder, e.g. weights/blcu")
    parser.add_argument("--repo-id", required=True, help="the Hub model repo, owner/name")
    parser.add_argument("--name", help="the preset name (default: the folder's name)")
    parser.add_argument("--description", help="one line for users (default: from config.json)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    mode.add_argument("--no-upload", action="store_true", help="only record the entry")
    parser.add_argument("--revision", help="with --no-upload: the Hub commit that holds the files")
    parser.add_argument("--print-entry", action="store_true", help="print the entry, don't write")
    parser.add_argument(
        "--registry", type=Path, default=presets.PRESETS_FILE, help=argparse.SUPPRESS
    )
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--commit-message", default=None)
    args = parser.parse_args(argv)

    folder = args.folder
    name = args.name or folder.name
    if args.revision and not args.no_upload:
        parser.error("--revision goes with --no-upload (an upload records its own commit)")
    try:
        presets.check_preset_name(name)
        presets.check_repo_id(args.repo_id, what="--repo-id")
        files = plan(folder)
        entry = presets.preset_entry(
            folder, repo_id=args.repo_id, revision=args.revision, description=args.description
        )
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    if args.dry_run:
        from huggingface_hub import constants

        print(f"Would upload preset {name!r} to {constants.ENDPOINT}/{args.repo_id}:")
        for filename, size, sha256 in files:
            print(f"  {filename:<20} {size:>12,d} bytes  sha256 {sha256}")
        skipped = sorted(p.name for p in folder.iterdir() if p.name not in UPLOADED)
        if skipped:
            print(f"Not uploaded (not part of a preset): {', '.join(skipped)}")
        shown = {**entry, "revision": "<the commit the upload creates>"}
        print(f"Then write this entry into {args.registry}:")
        print(_entry_text(name, shown))
        return 0

    if not args.no_upload:  # pragma: no cover - needs the real Hub and a write token
        message = args.commit_message or f"keras_tone preset {name}"
        entry["revision"] = upload(folder, args.repo_id, private=args.private, message=message)
        print(f"Uploaded {folder} to {args.repo_id} at commit {entry['revision']}.")

    if args.print_entry:
        print(_entry_text(name, entry))
        return 0
    write_entry(name, entry, args.registry)
    state = f"pinned to {entry['revision']}" if entry["revision"] else "bundled-only (unpublished)"
    print(f"Wrote preset {name!r} ({state}) into {args.registry}.")
    return 0


def _entry_text(name: str, entry: dict[str, Any]) -> str:
    return json.dumps({name: entry}, indent=2)


if __name__ == "__main__":
    sys.exit(main())
