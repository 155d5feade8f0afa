"""The tf.keras-only import policy: one module imports Keras, everything else uses it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import keras_tone
from keras_tone import check_same_keras
from keras_tone._keras import keras

PACKAGE = Path(keras_tone.__file__).resolve().parent
ALLOWED = PACKAGE / "_keras.py"
BANNED_ROOTS = ("keras", "tf_keras")
BANNED_PREFIXES = ("tensorflow.keras", "tensorflow.python.keras")


def keras_imports(source: str) -> list[tuple[int, str]]:
    """Every place in `source` that takes Keras from somewhere else than keras_tone._keras."""
    found = []
    tf_aliases = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name.split(".")[0] in BANNED_ROOTS or name.startswith(BANNED_PREFIXES):
                    found.append((node.lineno, f"import {name}"))
                if name == "tensorflow":
                    tf_aliases.add(alias.asname or "tensorflow")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = node.module
            names = [alias.name for alias in node.names]
            if module.split(".")[0] in BANNED_ROOTS or module.startswith(BANNED_PREFIXES):
                found.append((node.lineno, f"from {module} import ..."))
            elif module in ("tensorflow", "tensorflow.python") and "keras" in names:
                found.append((node.lineno, f"from {module} import keras"))
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "keras"
            and isinstance(node.value, ast.Name)
            and node.value.id in tf_aliases
        ):
            found.append((node.lineno, f"{node.value.id}.keras"))
    return found


def test_only_one_module_imports_keras():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == ALLOWED:
            continue
        for line, what in keras_imports(path.read_text()):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert not offenders, "Keras imported outside keras_tone/_keras.py:\n" + "\n".join(offenders)


def test_the_allowed_module_imports_tensorflow_keras():
    found = [what for _, what in keras_imports(ALLOWED.read_text())]
    assert found == ["from tensorflow import keras"]


@pytest.mark.parametrize(
    "source",
    [
        "import keras",
        "import keras.layers as L",
        "from keras import layers",
        "import tf_keras",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "import tensorflow.keras",
        "from tensorflow.python.keras import layers",
        "import tensorflow as tf\nx = tf.keras.layers.Dense(1)",
    ],
)
def test_checker_catches_every_spelling(source):
    assert keras_imports(source), source


def test_checker_allows_the_policy_import():
    assert not keras_imports("from keras_tone._keras import keras\nimport tensorflow as tf\ntf.pad")


def test_ruff_bans_direct_keras_imports(tmp_path):
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed (pip install -e .[dev])")
    root = PACKAGE.parent
    probe = tmp_path / "keras_tone" / "probe.py"
    probe.parent.mkdir()
    probe.write_text(
        "import tensorflow as tf\nimport keras\nfrom tf_keras import layers\nx = tf.keras\n"
    )
    result = subprocess.run(
        [
            str(ruff),
            "check",
            "--config",
            str(root / "pyproject.toml"),
            "--select",
            "TID251",
            "--no-cache",
            str(probe),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("TID251") == 3, result.stdout


def test_package_passes_ruff():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed (pip install -e .[dev])")
    root = PACKAGE.parent
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "keras_tone"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_legacy_keras_fails_at_import():
    """TF_USE_LEGACY_KERAS=1 would make tf.keras Keras 2: refused at once, with the fix."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    result = subprocess.run(
        [sys.executable, "-c", "import keras_tone"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "TF_USE_LEGACY_KERAS" in result.stderr and "unset" in result.stderr.lower()


def test_legacy_keras_unset_values_are_fine():
    env = dict(os.environ, TF_USE_LEGACY_KERAS="0")
    code = "import keras_tone; print(keras_tone._keras.keras.__version__)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("3.")


@pytest.mark.parametrize(
    "obj, kind",
    [
        (keras.optimizers.Adam(), "optimizer"),
        ("adam", "optimizer"),
        (keras.layers.Dense(2), "layer"),
        (keras.losses.SparseCategoricalCrossentropy(), "loss"),
        ("sparse_categorical_crossentropy", "loss"),
        (lambda y, p: p, "loss"),
        (keras.callbacks.EarlyStopping(), "callback"),
        (keras.metrics.SparseCategoricalAccuracy(), "metric"),
        (keras_tone.ToneNet(weights=None), "model"),
    ],
)
def test_check_same_keras_accepts_our_keras(obj, kind):
    check_same_keras(obj, kind)


def test_check_same_keras_refuses_tf_keras():
    tf_keras = pytest.importorskip("tf_keras")
    optimizer = tf_keras.optimizers.Adam()
    model = keras_tone.ToneNet(weights=None)
    # what happens without the check: the classic failure, deep inside compile()
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    with pytest.raises(TypeError) as raised:
        check_same_keras(optimizer, "optimizer")
    message = str(raised.value)
    assert "tf_keras.src.optimizers" in message and "keras.src.optimizers" in message
    assert "keras.optimizers.Adam" in message
    with pytest.raises(TypeError, match="not a subclass of keras.src.layers"):
        check_same_keras(tf_keras.layers.Dense(2), "layer")


def test_check_same_keras_refuses_look_alikes():
    namespace: dict = {}
    exec(
        textwrap.dedent("""
        class Adam:
            pass
        Adam.__module__ = "tf_keras.src.optimizers.adam"
    """),
        namespace,
    )
    with pytest.raises(TypeError, match="tf_keras"):
        check_same_keras(namespace["Adam"](), "optimizer")
    with pytest.raises(TypeError, match="not a subclass of keras.src.models"):
        check_same_keras(object(), "model")
    with pytest.raises(ValueError, match="Unknown kind"):
        check_same_keras("adam", "optimiser")
