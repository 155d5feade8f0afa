"""The wheel carries the preset folders, and an installed wheel loads them offline.

Slow (about a minute): builds a real wheel with hatchling from a copy of the
source tree, installs it with pip into a fresh folder and runs
`ToneNet(weights=<preset>)` there in a new interpreter with `HF_HUB_OFFLINE=1`
and an empty Hugging Face cache, outside the source checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from keras_tone import ToneNet, ToneNetConfig, presets, weights

REPO_ROOT = Path(__file__).resolve().parents[1]
PRESET = "wheel-test"

_CHILD = """
import json, keras_tone
from keras_tone import weights
resolved = weights.resolve_weights({preset!r})
model = keras_tone.ToneNet(weights={preset!r})
print(json.dumps({{"module": keras_tone.__file__, "source": resolved.source,
                  "path": str(resolved.path), "presets": keras_tone.list_presets(),
                  "params": model.count_params()}}))
"""


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_wheel_bundles_presets_and_loads_them_offline(tmp_path):
    if importlib.util.find_spec("build") is None or importlib.util.find_spec("hatchling") is None:
        pytest.skip("needs `build` and `hatchling` installed (pip install build hatchling)")

    # A copy of the source tree with one extra preset, registered as bundled-only.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("keras_tone", "keras_tone_cli", "samples"):
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=ignore)
    shutil.copy(REPO_ROOT / "pyproject.toml", source)
    if (REPO_ROOT / "weights").is_dir():
        shutil.copytree(REPO_ROOT / "weights", source / "weights", ignore=ignore)
    readme = REPO_ROOT / "README.md"
    (source / "README.md").write_text(readme.read_text() if readme.is_file() else "# keras-tone\n")
    folder = weights.save_preset(
        ToneNet(weights=None),
        source / "weights" / PRESET,
        config=ToneNetConfig(),
        card="# wheel test\n",
    )
    spec = importlib.util.spec_from_file_location(
        "publish_weights", REPO_ROOT / "scripts" / "publish_weights.py"
    )
    publish = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(publish)
    entry = presets.preset_entry(folder, repo_id="keras-tone/wheel-test")
    publish.write_entry(PRESET, entry, source / "keras_tone" / "presets.json")

    # Build the wheel and look inside.
    dist = tmp_path / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(source),
        ]
    )
    (wheel,) = dist.glob("keras_tone-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = f"keras_tone/_bundled_weights/{PRESET}"
    for name in ("model.weights.h5", "config.json", "metadata.json", "README.md"):
        assert f"{bundled}/{name}" in names, sorted(names)
    assert {"keras_tone/presets.json", "keras_tone_cli/__init__.py"} <= names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "keras-tone = keras_tone_cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    # The README's sample clips are the repository's: in the sdist, not in the wheel.
    assert not [n for n in names if "samples/" in n or n.endswith(".mp3")]
    (sdist,) = dist.glob("keras_tone-*.tar.gz")
    with tarfile.open(sdist) as archive:
        packed = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"samples/README.md", "samples/ma1.mp3", "samples/ma4.mp3"} <= packed

    # Install it (no dependencies: they come from this environment) and load offline.
    site = tmp_path / "site"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ]
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        PYTHONPATH=str(site),
        HF_HUB_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_CACHE=str(tmp_path / "empty-cache"),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    result = _run([sys.executable, "-c", _CHILD.format(preset=PRESET)], env=env, cwd=work)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["module"]).is_relative_to(site)
    assert report["source"] == "bundled"
    assert Path(report["path"]) == site / bundled / "model.weights.h5"
    assert PRESET in report["presets"]
    assert report["params"] > 0
    assert not (tmp_path / "empty-cache").exists() or not any((tmp_path / "empty-cache").iterdir())
