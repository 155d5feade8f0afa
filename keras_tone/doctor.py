"""`keras-tone doctor`: the versions and settings keras_tone depends on, and its problems.

`doctor_report` checks Python, TensorFlow and which Keras `tf.keras` is,
CUDA and the GPUs, the caches, and that every pretrained preset builds into
a model offline. Every check is guarded: a failing import or call becomes
a problem in the report, not an exception.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def doctor_report() -> dict[str, list]:
    """Collect what `keras-tone doctor` prints.

    Returns:
        `{"lines": [(key, value), ...], "problems": [...], "notes": [...]}`.
        Every check is guarded: a failing import or call becomes a problem
        instead of an exception.
    """
    import importlib.metadata as metadata
    import platform

    lines: list[tuple[str, str]] = []
    problems: list[str] = []
    notes: list[str] = []

    def version_of(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    lines.append(("Python", f"{platform.python_version()} ({sys.executable})"))
    lines.append(("Platform", platform.platform()))
    legacy = os.environ.get("TF_USE_LEGACY_KERAS")
    lines.append(("TF_USE_LEGACY_KERAS", "unset" if legacy is None else repr(legacy)))
    if legacy is not None and legacy.strip().lower() in ("1", "true", "yes"):
        problems.append(
            f"TF_USE_LEGACY_KERAS={legacy!r} makes tf.keras the legacy Keras 2 (tf_keras); "
            "keras_tone needs Keras 3. Unset it: `unset TF_USE_LEGACY_KERAS`."
        )
    for dist in ("keras", "tf_keras"):
        found = version_of(dist) or version_of(dist.replace("_", "-"))
        lines.append((f"{dist} installed", found or "no"))
    tf_keras_version = version_of("tf_keras") or version_of("tf-keras")
    keras_version = version_of("keras")
    if keras_version and not keras_version.startswith("3."):
        problems.append(
            f"the standalone `keras` package is {keras_version}; TensorFlow >= 2.16 needs "
            "Keras 3: `pip install -U keras`."
        )

    tf = None
    try:
        import tensorflow as tf
    except Exception as error:  # noqa: BLE001
        problems.append(f"TensorFlow cannot be imported: {type(error).__name__}: {error}")
        lines.append(("TensorFlow", "not importable"))
    if tf is not None:
        wheels = [d for d in ("tensorflow", "tensorflow-cpu", "tf-nightly") if version_of(d)]
        lines.append(
            (
                "TensorFlow",
                f"{tf.__version__} (pip: {', '.join(wheels) or '?'}; {Path(tf.__file__).parent})",
            )
        )
        _doctor_keras(lines, problems, tf_keras_version)
        _doctor_build(tf, lines, notes)
        _doctor_gpus(tf, lines, problems, notes)

    try:
        from keras_tone import __version__ as tone_version
    except Exception as error:  # noqa: BLE001 - e.g. TF_USE_LEGACY_KERAS=1
        tone_version = f"not importable ({type(error).__name__}: {error})"
    lines.append(("keras_tone", tone_version))
    for dist in ("numpy", "librosa", "soundfile", "huggingface-hub"):
        lines.append((dist, version_of(dist) or "not installed"))
    _doctor_caches(lines, notes)
    _doctor_presets(lines, problems, notes)
    return {"lines": lines, "problems": problems, "notes": notes}


def _doctor_keras(lines: list, problems: list, tf_keras_version: str | None) -> None:
    """Which Keras `tensorflow.keras` is, through keras_tone's one Keras import."""
    try:
        from keras_tone._keras import keras as tfk  # `from tensorflow import keras`
    except (ImportError, RecursionError) as error:
        lines.append(("tf.keras", "not importable"))
        problems.append(
            f"keras_tone cannot import Keras through tensorflow.keras "
            f"({type(error).__name__}: {' '.join(str(error).split())})"
            + (f"; tf_keras {tf_keras_version} is installed" if tf_keras_version else "")
        )
        return
    name = getattr(tfk, "__name__", type(tfk).__name__)
    version = getattr(tfk, "__version__", "?")
    lines.append(("tf.keras", f"Keras {version} (resolves to module {name})"))
    standalone = sys.modules.get("keras")  # imported by TensorFlow itself when it is Keras 3
    if standalone is not None and hasattr(standalone, "Model"):
        same = standalone.Model is tfk.Model
        lines.append(("tf.keras is `keras`", "yes" if same else "NO"))
        if not same:
            problems.append(
                "tf.keras and the `keras` package are different Keras installs: objects from "
                'one fail in the other ("Could not interpret optimizer identifier").'
            )


def _doctor_build(tf: Any, lines: list, notes: list) -> None:
    try:
        info = dict(tf.sysconfig.get_build_info())
    except Exception:  # noqa: BLE001
        info = {}
    cuda_build = bool(info.get("is_cuda_build", False)) or tf.test.is_built_with_cuda()
    lines.append(("TF built with CUDA", "yes" if cuda_build else "no (CPU-only build)"))
    if cuda_build:
        lines.append(("  CUDA (build)", str(info.get("cuda_version", "?"))))
        lines.append(("  cuDNN (build)", str(info.get("cudnn_version", "?"))))
        capabilities = info.get("cuda_compute_capabilities")
        if capabilities:
            lines.append(("  compute caps (build)", ", ".join(map(str, capabilities))))


def _doctor_gpus(tf: Any, lines: list, problems: list, notes: list) -> None:
    from keras_tone.devices import ALLOW_GROWTH_ENV, allow_growth_env, gpu_report

    try:
        gpus = gpu_report()
    except Exception as error:  # noqa: BLE001
        problems.append(f"listing GPUs failed: {type(error).__name__}: {error}")
        return
    growth_env = allow_growth_env()
    lines.append((ALLOW_GROWTH_ENV, "unset" if growth_env is None else repr(growth_env)))
    lines.append(("Visible GPUs", str(len(gpus)) if gpus else "none"))
    for gpu in gpus:
        growth = {True: "on", False: "off", None: "unknown"}[gpu["memory_growth"]]
        if gpu["memory_growth"] is False and growth_env and growth_env.lower() == "true":
            growth = f"on (through {ALLOW_GROWTH_ENV})"
        limit = gpu["memory_limit_mb"]
        lines.append(
            (
                f"  {gpu['name']}",
                f"{gpu['device_name'] or 'unknown GPU'}, compute capability "
                f"{gpu['compute_capability'] or '?'}, memory growth {growth}"
                + (f", limit {limit} MiB" if limit else ""),
            )
        )
    cuda_build = tf.test.is_built_with_cuda()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        lines.append(("CUDA_VISIBLE_DEVICES", repr(visible)))
    driver = _nvidia_driver_present()
    if cuda_build and not gpus and driver:
        problems.append(
            "TensorFlow was built with CUDA but sees no GPU. Check `nvidia-smi`, the driver "
            "version against the CUDA version above, CUDA_VISIBLE_DEVICES, and that "
            "`pip install tensorflow[and-cuda]` installed the CUDA libraries (TensorFlow "
            "logs 'Cannot dlopen some GPU libraries' at start-up when they are missing)."
        )
    if not gpus and not driver:
        notes.append("no NVIDIA driver found on this machine: TensorFlow runs on the CPU.")
    if gpus and not growth_env:
        notes.append(
            "TensorFlow reserves nearly all GPU memory by default; keras-tone turns memory "
            f"growth on, in your code call keras_tone.devices.configure_gpu_memory() or set "
            f"{ALLOW_GROWTH_ENV}=true."
        )


def _nvidia_driver_present() -> bool:
    """Whether this machine looks like it has an NVIDIA GPU and driver."""
    import shutil

    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


def _doctor_caches(lines: list, notes: list) -> None:
    try:
        from huggingface_hub import constants

        hub_cache = getattr(constants, "HF_HUB_CACHE", None) or getattr(
            constants, "HUGGINGFACE_HUB_CACHE", "?"
        )
        offline = getattr(constants, "HF_HUB_OFFLINE", None)
        lines.append(("Hugging Face cache", f"{hub_cache}"))
        lines.append(("HF_HUB_OFFLINE", str(bool(offline)) if offline is not None else "?"))
    except Exception as error:  # noqa: BLE001
        lines.append(("Hugging Face cache", f"unknown ({type(error).__name__}: {error})"))
    try:
        from keras_tone import datasets

        cache = datasets.default_cache_dir()
        files = list(cache.glob("*.npz")) if cache.is_dir() else []
        size = sum(f.stat().st_size for f in files) / 2**20
        lines.append(("Decoded-clip cache", f"{cache} ({len(files)} files, {size:.1f} MiB)"))
    except Exception:  # noqa: BLE001 - datasets is optional for doctor
        pass


def _doctor_presets(lines: list, problems: list, notes: list) -> None:
    try:
        from keras_tone.presets import list_presets
    except Exception as error:  # noqa: BLE001
        problems.append(f"keras_tone cannot be imported: {type(error).__name__}: {error}")
        return
    names = list_presets()
    if not names:
        lines.append(("Presets", "none registered in this version"))
        return
    for name in names:
        status, problem = preset_status(name)
        lines.append((f"Preset {name}", status))
        if problem:
            problems.append(f"preset {name!r} cannot be loaded: {problem}")


def preset_status(name: str) -> tuple[str, str | None]:
    """Whether preset `name` builds into a model without a network connection.

    Builds `keras_tone.load_model(name)` with `HF_HUB_OFFLINE=1` in the
    environment (which `keras_tone.hub` reads at each call), so nothing is
    downloaded: a bundled copy or a Hugging Face cache entry that passes the
    sha256 check, with a config that builds, counts as available.

    Returns:
        `(status line, problem or None)`.
    """
    from keras_tone import load_model
    from keras_tone.weights import resolve_weights

    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        resolved = resolve_weights(name)
        model = load_model(name)
    except Exception as error:  # noqa: BLE001 - reported, not raised
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        if len(reason) > 300:
            reason = reason[:297] + "..."
        return f"NOT available offline ({reason})", reason
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    classes = int(model.output_shape[-1])
    return f"loads offline ({resolved.source}: {resolved.path}; {classes} classes)", None


__all__ = ["doctor_report", "preset_status"]
