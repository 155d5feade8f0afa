"""scripts/publish_weights.py: the dry run, and recording entries in the registry.

The upload itself needs the real Hub and a write token; it is not run here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from keras_tone import ToneNet, ToneNetConfig, presets, weights

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "publish_weights.py"


@pytest.fixture(scope="module")
def publish():
    spec = importlib.util.spec_from_file_location("publish_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A preset folder named `demo`, with one stray file that is not uploaded."""
    folder = tmp_path_factory.mktemp("weights") / "demo"
    weights.save_preset(ToneNet(weights=None), folder, config=ToneNetConfig(), card="# demo\n")
    (folder / "notes.txt").write_text("training notes\n")
    return folder


@pytest.fixture
def registry(tmp_path) -> Path:
    """A copy of keras_tone/presets.json to rewrite."""
    copy = tmp_path / "presets.json"
    copy.write_text(presets.PRESETS_FILE.read_text())
    return copy


def test_dry_run_prints_the_plan_and_changes_nothing(publish, folder, registry, capsys):
    before = registry.read_text()
    argv = [str(folder), "--repo-id", "someone/keras-tone-demo", "--dry-run"]
    assert publish.main([*argv, "--registry", str(registry)]) == 0
    out = capsys.readouterr().out
    assert "someone/keras-tone-demo" in out and "preset 'demo'" in out
    for name in ("model.weights.h5", "config.json", "metadata.json", "README.md"):
        size = (folder / name).stat().st_size
        assert name in out and f"{size:,d} bytes" in out
        assert presets.file_sha256(folder / name) in out
    assert "Not uploaded (not part of a preset): notes.txt" in out
    assert "<the commit the upload creates>" in out
    assert registry.read_text() == before


def test_record_entry_rewrites_the_json_registry(publish, folder, registry, capsys):
    existing = presets.read_presets(registry)
    commit = "0123456789abcdef0123456789abcdef01234567"
    argv = [str(folder), "--repo-id", "someone/keras-tone-demo", "--no-upload"]
    assert publish.main([*argv, "--revision", commit, "--registry", str(registry)]) == 0
    assert "pinned to " + commit in capsys.readouterr().out
    table = presets.read_presets(registry)
    entry = table["demo"]
    assert entry["revision"] == commit
    assert entry["sha256"] == presets.file_sha256(folder / "model.weights.h5")
    assert entry["config_sha256"] == presets.file_sha256(folder / "config.json")

    long = "A ToneNet preset whose description is long enough to need more than one line. " * 2
    argv = [str(folder), "--repo-id", "someone/other", "--no-upload", "--name", "another"]
    assert publish.main([*argv, "--description", long, "--registry", str(registry)]) == 0
    table = presets.read_presets(registry)
    assert sorted(table) == sorted([*existing, "another", "demo"])
    assert table["another"]["revision"] is None and table["another"]["description"] == long
    assert {name: table[name] for name in existing} == existing  # the others are kept
    assert list(json.loads(registry.read_text())) == sorted(table)  # sorted, plain JSON


def test_print_entry_writes_nothing(publish, folder, registry, capsys):
    before = registry.read_text()
    argv = [str(folder), "--repo-id", "someone/keras-tone-demo", "--no-upload", "--print-entry"]
    assert publish.main([*argv, "--registry", str(registry)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["demo"] and printed["demo"]["revision"] is None
    assert registry.read_text() == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--repo-id", "../evil"], "Invalid Hugging Face repo id"),
        (["--repo-id", "someone/x", "--no-upload", "--revision", "main"], "40-hex commit"),
        (["--repo-id", "someone/x", "--name", "Bad Name"], "Invalid preset name"),
    ],
)
def test_bad_arguments_are_refused(publish, folder, registry, capsys, extra, message):
    before = registry.read_text()
    assert publish.main([str(folder), *extra, "--registry", str(registry)]) == 2
    assert message in capsys.readouterr().err
    assert registry.read_text() == before


def test_not_a_preset_folder(publish, tmp_path, capsys):
    (tmp_path / "model.weights.h5").write_bytes(b"x")
    assert publish.main([str(tmp_path), "--repo-id", "someone/x", "--dry-run"]) == 2
    assert "missing config.json, metadata.json, README.md" in capsys.readouterr().err


def test_a_changed_folder_is_not_published(publish, folder, tmp_path, capsys):
    changed = tmp_path / "demo"
    changed.mkdir()
    for path in folder.iterdir():
        (changed / path.name).write_bytes(path.read_bytes())
    config = json.loads((changed / "config.json").read_text())
    config["sample_rate"] = 22050
    (changed / "config.json").write_text(json.dumps(config))
    assert publish.main([str(changed), "--repo-id", "someone/x", "--dry-run"]) == 2
    assert "does not match the sha256" in capsys.readouterr().err
