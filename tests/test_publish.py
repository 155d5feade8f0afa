"""scripts/publish_weights.py: the dry run, and recording entries in the registry.

The upload itself needs the real Hub and a write token; it is not run here.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from keras_tone import ToneNet, weights

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
    weights.save_preset(ToneNet(weights=None), folder, classes=4, card="# demo\n")
    (folder / "notes.txt").write_text("training notes\n")
    return folder


@pytest.fixture
def registry(tmp_path) -> Path:
    """A copy of keras_tone/weights.py to rewrite."""
    copy = tmp_path / "weights.py"
    copy.write_text((REPO_ROOT / "keras_tone" / "weights.py").read_text())
    return copy


def test_dry_run_prints_the_plan_and_changes_nothing(publish, folder, registry, capsys):
    before = registry.read_text()
    argv = [str(folder), "--repo-id", "someone/keras-tone-demo", "--dry-run"]
    assert publish.main([*argv, "--registry", str(registry)]) == 0
    out = capsys.readouterr().out
    assert "someone/keras-tone-demo" in out and "preset 'demo'" in out
    for name in ("model.weights.h5", "config.json", "README.md"):
        size = (folder / name).stat().st_size
        assert name in out and f"{size:,d} bytes" in out
        assert weights.file_sha256(folder / name) in out
    assert "Not uploaded (not part of a preset): notes.txt" in out
    assert "<the commit the upload creates>" in out
    assert registry.read_text() == before


def test_record_entry_rewrites_only_the_registry_block(publish, folder, registry, capsys):
    before = registry.read_text()
    existing = sorted(publish.read_registry(registry))
    commit = "0123456789abcdef0123456789abcdef01234567"
    argv = [str(folder), "--repo-id", "someone/keras-tone-demo", "--no-upload"]
    assert publish.main([*argv, "--revision", commit, "--registry", str(registry)]) == 0
    assert "pinned to " + commit in capsys.readouterr().out
    presets = publish.read_registry(registry)
    entry = presets["demo"]
    assert entry["revision"] == commit
    assert entry["sha256"] == weights.file_sha256(folder / "model.weights.h5")
    assert entry["config_sha256"] == weights.file_sha256(folder / "config.json")
    weights._check_entry("demo", entry)

    # A second preset, unpublished, with a description long enough to wrap.
    long = "A ToneNet preset whose description is long enough to need more than one line. " * 2
    argv = [str(folder), "--repo-id", "someone/other", "--no-upload", "--name", "another"]
    assert publish.main([*argv, "--description", long, "--registry", str(registry)]) == 0
    presets = publish.read_registry(registry)
    assert sorted(presets) == sorted([*existing, "another", "demo"])
    assert presets["another"]["revision"] is None
    assert presets["another"]["description"] == long

    after = registry.read_text()
    head, tail = before.split(publish.BEGIN)[0], before.split(publish.END)[1]
    assert after.startswith(head) and after.endswith(tail)
    ast.parse(after)
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        result = subprocess.run(
            [str(ruff), "check", "--config", str(REPO_ROOT / "pyproject.toml"), str(registry)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout


def test_print_entry_writes_nothing(publish, folder, registry, capsys):
    before = registry.read_text()
    argv = [str(folder), "--repo-id", "someone/keras-tone-demo", "--no-upload", "--print-entry"]
    assert publish.main([*argv, "--registry", str(registry)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('    "demo": {') and '"revision": None,' in out
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
    assert "missing config.json, README.md" in capsys.readouterr().err


def test_the_real_registry_round_trips(publish):
    """What the script reads from keras_tone/weights.py is what Python imports."""
    assert publish.read_registry() == weights.PRESETS
    text = (REPO_ROOT / "keras_tone" / "weights.py").read_text()
    block = text.split(publish.BEGIN)[1].split(publish.END)[0]
    assert block == publish.render_registry(weights.PRESETS)
