"""GPU memory settings and a description of the devices TensorFlow sees.

TensorFlow reserves almost all of a GPU's memory the first time it touches
the GPU. That starves other processes on the same card and makes an
out-of-memory error in one of them look like a bug in the other. Call
`configure_gpu_memory` once, at the start of a program and before any model
is built, to take memory as it is needed (memory growth) or to cap it.

`keras-tone` calls it before it builds a model, and `keras-tone doctor`
prints `gpu_report()`.
"""

from __future__ import annotations

import os
from typing import Any

#: The environment variable that turns memory growth on for every GPU
#: without any code (TensorFlow reads it when it first touches the GPU).
ALLOW_GROWTH_ENV = "TF_FORCE_GPU_ALLOW_GROWTH"


def configure_gpu_memory(*, growth: bool = True, limit_mb: int | None = None) -> list[str]:
    """Make TensorFlow take GPU memory as needed, or cap it, on every visible GPU.

    Must run before TensorFlow initialises the GPUs, that is before any model
    is built or any tensor is placed on a GPU. On a machine without GPUs it
    does nothing.

    Args:
        growth: allocate GPU memory as it is needed instead of reserving
            almost all of it at start-up. Ignored where `limit_mb` is given
            (TensorFlow refuses memory growth on a GPU with a memory limit).
        limit_mb: if given, a hard limit on the memory TensorFlow may use on
            each GPU, in MiB. Useful to share one card between processes.

    Returns:
        The names of the GPUs that were configured (empty without GPUs).

    Raises:
        ValueError: `limit_mb` is not a positive number.
        RuntimeError: the GPUs were already initialised; the message says to
            call this function earlier, or to set `TF_FORCE_GPU_ALLOW_GROWTH=true`
            in the environment instead.

    Example:
        >>> import keras_tone
        >>> from keras_tone.devices import configure_gpu_memory
        >>> configure_gpu_memory(growth=True)  # before building any model
        []
    """
    if limit_mb is not None and not limit_mb > 0:
        raise ValueError(
            f"limit_mb must be a positive number of MiB. Received: limit_mb={limit_mb}"
        )
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    try:
        for gpu in gpus:
            if limit_mb is not None:
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=int(limit_mb))]
                )
            elif growth:
                tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError as error:
        raise RuntimeError(
            "configure_gpu_memory() ran after TensorFlow had initialised the GPUs "
            f"({error}). Call it at the start of the program, before any model is "
            f"built, or set {ALLOW_GROWTH_ENV}=true in the environment before Python "
            "starts."
        ) from error
    return [gpu.name for gpu in gpus]


def gpu_report() -> list[dict[str, Any]]:
    """Describe each GPU that TensorFlow sees, without initialising it.

    Returns:
        One dict per GPU with `name`, `device_name` and `compute_capability`
        (from `tf.config.experimental.get_device_details`; `None` when
        unknown), `memory_growth` (`True`, `False`, or `None` when it cannot be
        read) and `memory_limit_mb` (the configured limit, or `None`).
    """
    import tensorflow as tf

    report = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except Exception:  # noqa: BLE001 - best effort, for a report
            details = {}
        try:
            growth: bool | None = bool(tf.config.experimental.get_memory_growth(gpu))
        except Exception:  # noqa: BLE001
            growth = None
        limit = None
        try:
            logical = tf.config.get_logical_device_configuration(gpu) or []
            limits = [c.memory_limit for c in logical if c.memory_limit is not None]
            limit = limits[0] if limits else None
        except Exception:  # noqa: BLE001
            pass
        capability = details.get("compute_capability")
        report.append(
            {
                "name": gpu.name,
                "device_name": details.get("device_name"),
                "compute_capability": ".".join(map(str, capability)) if capability else None,
                "memory_growth": growth,
                "memory_limit_mb": limit,
            }
        )
    return report


def allow_growth_env() -> str | None:
    """The value of `TF_FORCE_GPU_ALLOW_GROWTH` in the environment, or `None`."""
    return os.environ.get(ALLOW_GROWTH_ENV)


def native_bfloat16() -> bool:
    """Whether this machine computes bfloat16 natively, so mixed precision pays off.

    True with a visible GPU of compute capability 8.0 or newer (Ampere and
    later), or a CPU that reports AVX512-BF16 or AMX-BF16 (read from
    `/proc/cpuinfo` on Linux); False otherwise. On a CPU without them,
    TensorFlow emulates bfloat16, far slower than float32
    (`benchmarks/bench_training.py` measures both; its README has the figures).

    Example:
        >>> from keras_tone.devices import native_bfloat16
        >>> isinstance(native_bfloat16(), bool)
        True
    """
    gpus = gpu_report()
    if gpus:
        return all(
            gpu["compute_capability"] is not None
            and float(gpu["compute_capability"].split(".")[0]) >= 8
            for gpu in gpus
        )
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_flags() -> set[str]:
    """The CPU feature flags in `/proc/cpuinfo` (an empty set where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


__all__ = [
    "ALLOW_GROWTH_ENV",
    "allow_growth_env",
    "configure_gpu_memory",
    "cpu_flags",
    "gpu_report",
    "native_bfloat16",
]
