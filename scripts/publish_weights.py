"""Publish a preset folder to the Hugging Face Hub and pin it in keras_tone's registry.

A preset folder (`weights/<name>/`: `model.weights.h5`, `config.json`,
`README.md`) is uploaded with `huggingface_hub.HfApi.upload_folder`; the commit
hash the Hub returns, checked by downloading the files back at that commit,
is written with the files' sha256 into `PRESETS` in `keras_tone/weights.py`
(between its `# BEGIN PRESETS` and `# END PRESETS` markers). A revision is
only ever recorded from a real upload, or from `--revision` given by hand.

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
import ast
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REGISTRY = REPO_ROOT / "keras_tone" / "weights.py"
BEGIN, END = "# BEGIN PRESETS\n", "# END PRESETS\n"
LINE_LENGTH = 100

try:
    from keras_tone import weights
except ImportError:  # run from a source checkout without installing keras_tone
    sys.path.insert(0, str(REPO_ROOT))
    from keras_tone import weights

UPLOADED = (weights.WEIGHTS_NAME, weights.CONFIG_NAME, weights.CARD_NAME)


# -- the registry block in keras_tone/weights.py ---------------------------------


def read_registry(path: str | Path = DEFAULT_REGISTRY) -> dict[str, dict[str, Any]]:
    """The `PRESETS` dict written in a registry file, read without importing it."""
    _, block, _ = _split(Path(path).read_text())
    for node in ast.parse(block).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "PRESETS" for t in targets):
                return ast.literal_eval(node.value)
    raise ValueError(f"{path}: no `PRESETS = {{...}}` between the PRESETS markers.")


def render_registry(presets: dict[str, dict[str, Any]]) -> str:
    """The Python source of `PRESETS` (sorted by name), as it sits between the markers."""
    if not presets:
        return "PRESETS: dict[str, dict[str, Any]] = {}\n"
    entries = "".join(_entry_source(name, presets[name]) for name in sorted(presets))
    return "PRESETS: dict[str, dict[str, Any]] = {\n" + entries + "}\n"


def write_entry(name: str, entry: dict[str, Any], path: str | Path = DEFAULT_REGISTRY) -> None:
    """Add or replace preset `name` in the registry file; the rest of the file is kept."""
    weights._check_preset_name(name)
    weights._check_entry(name, entry)
    path = Path(path)
    before, _, after = _split(path.read_text())
    presets = read_registry(path)
    presets[name] = dict(entry)
    path.write_text(before + BEGIN + render_registry(presets) + END + after)


def _split(text: str) -> tuple[str, str, str]:
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"expected one {BEGIN.strip()!r} line followed by one {END.strip()!r}.")
    before, rest = text.split(BEGIN)
    block, after = rest.split(END)
    return before, block, after


def _render_item(key: str, value: Any, *, indent: int) -> list[str]:
    pad = " " * indent
    line = f"{pad}{json.dumps(key)}: {_literal(value)},"
    if len(line) <= LINE_LENGTH or not isinstance(value, str):
        return [line]
    width = LINE_LENGTH - indent - 6
    pieces, current = [], ""
    for word in value.split(" "):
        if current and len(json.dumps(current + " " + word)) > width:
            pieces.append(current + " ")
            current = word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return (
        [f"{pad}{json.dumps(key)}: ("]
        + [f"{pad}    {json.dumps(p, ensure_ascii=False)}" for p in pieces]
        + [f"{pad}),"]
    )


def _literal(value: Any) -> str:
    return "None" if value is None else json.dumps(value, ensure_ascii=False)


# -- the folder ------------------------------------------------------------------


def plan(folder: Path) -> list[tuple[str, int, str]]:
    """`(filename, size, sha256)` of the files that would be uploaded."""
    missing = [name for name in UPLOADED if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} is not a preset folder: missing {', '.join(missing)} "
            f"(a preset folder holds {', '.join(UPLOADED)})."
        )
    config = json.loads((folder / weights.CONFIG_NAME).read_text())
    if config.get("model") != "ToneNet" or "classes" not in config:
        raise ValueError(f"{folder / weights.CONFIG_NAME} is not a ToneNet preset config.")
    return [
        (name, (folder / name).stat().st_size, weights.file_sha256(folder / name))
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
            if weights.file_sha256(path) != weights.file_sha256(folder / name):
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
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help=argparse.SUPPRESS)
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--commit-message", default=None)
    args = parser.parse_args(argv)

    folder = args.folder
    name = args.name or folder.name
    if args.revision and not args.no_upload:
        parser.error("--revision goes with --no-upload (an upload records its own commit)")
    try:
        weights._check_preset_name(name)
        weights._check_repo_id(args.repo_id, what="--repo-id")
        files = plan(folder)
        entry = weights.preset_entry(
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
        print(_entry_source(name, shown), end="")
        return 0

    if not args.no_upload:  # pragma: no cover - needs the real Hub and a write token
        message = args.commit_message or f"keras_tone preset {name}"
        entry["revision"] = upload(folder, args.repo_id, private=args.private, message=message)
        print(f"Uploaded {folder} to {args.repo_id} at commit {entry['revision']}.")

    if args.print_entry:
        print(_entry_source(name, entry), end="")
        return 0
    write_entry(name, entry, args.registry)
    state = f"pinned to {entry['revision']}" if entry["revision"] else "bundled-only (unpublished)"
    print(f"Wrote preset {name!r} ({state}) into {args.registry}.")
    return 0


def _entry_source(name: str, entry: dict[str, Any]) -> str:
    lines = [f"    {json.dumps(name)}: {{"]
    for key in weights._ENTRY_KEYS:
        lines.extend(_render_item(key, entry[key], indent=8))
    return "\n".join(lines + ["    },"]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
