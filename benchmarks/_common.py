"""Shared helpers of the benchmarks: timing, memory, test clips, machine info.

Importing this module puts the repository root on `sys.path`, so the
benchmarks run from a checkout without installing keras_tone
(`python benchmarks/bench_layers.py`).

Example:
    >>> from _common import measure
    >>> measure(lambda: sum(range(1000)), repeats=5)["median_ms"] > 0
    True
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SAMPLE_RATE = 16000


def log_mel_settings() -> dict[str, Any]:
    """The log-mel settings of ToneNet's front end (`ToneNetConfig().front_end.log_mel`)."""
    from dataclasses import asdict

    from keras_tone.config import ToneNetConfig

    return asdict(ToneNetConfig().front_end.log_mel)


def replace_section(path: Path, start: str, end: str, section: str) -> None:
    """Replace what lies between the `start` and `end` marker lines of `path` with `section`."""
    text = path.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{path} lacks the {start} / {end} markers.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{section}\n{end}{tail}")


def measure(fn: Callable[[], Any], *, repeats: int = 20, warmup: int = 2) -> dict[str, float]:
    """Time `fn()`: median and 10th/90th percentiles in milliseconds over `repeats` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p10_ms": times[int(0.1 * (len(times) - 1))],
        "p90_ms": times[int(0.9 * (len(times) - 1))],
        "repeats": repeats,
    }


def interleaved(
    fns: dict[str, Callable[[], Any]], *, rounds: int = 5, repeats: int = 4, warmup: int = 2
) -> dict[str, dict[str, float]]:
    """Time several functions in alternating rounds, so load from other processes hits all alike.

    Returns `{name: measure-style dict}` over `rounds * repeats` runs each.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - start) * 1e3)
    result = {}
    for name, times in samples.items():
        times.sort()
        result[name] = {
            "median_ms": statistics.median(times),
            "p10_ms": times[int(0.1 * (len(times) - 1))],
            "p90_ms": times[int(0.9 * (len(times) - 1))],
            "repeats": len(times),
        }
    return result


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Read from `VmHWM` in /proc/self/status: on Linux `ru_maxrss` carries the
    parent's peak across `exec`, so a fresh subprocess would report its parent's.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def clips(batch: int = 64, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """`batch` syllable-like clips: harmonic tone contours with silence, noise and gain spread."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros((batch, n), "float32")
    for i in range(batch):
        length = int(rng.uniform(0.3, 0.6) * SAMPLE_RATE)
        start = int(rng.uniform(0.0, 0.3) * SAMPLE_RATE)
        t = np.linspace(0.0, 1.0, length)
        f0 = rng.uniform(100, 300) * (1 + rng.uniform(-0.4, 0.4) * t)
        phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
        voice = sum(np.sin(k * phase) / k for k in range(1, 12))
        ramp = np.minimum(1.0, np.minimum(t, 1.0 - t) * 20.0)
        out[i, start : start + length] = rng.uniform(0.02, 0.5) * voice * ramp / 3
        out[i] += rng.normal(0.0, 1e-3, n)
    return out


def machine() -> str:
    """One line about the CPU, core count, load and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name in ("tensorflow", "librosa", "numpy", "onnxruntime"):
        try:
            module = __import__(name)
            versions.append(f"{name} {module.__version__}")
        except ImportError:
            pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, load average {load} at start; Python "
        f"{platform.python_version()}; {'; '.join(versions)}"
    )


def seed_network() -> Any:
    """The network of the seed (keras_tone 0.1.0): ToneNet's log-mel CNN and its dense top.

    ToneNet's log-mel backbone (`include_preprocessing=False, include_top=False`)
    under 0.1.0's top (max over the mel axis, dense 128, dropout, classifier):
    no pitch stack, which the seed did not have. Random weights: only its
    speed is measured.
    """
    from keras_tone import ToneNet, ToneNetConfig
    from keras_tone._keras import keras

    config = ToneNetConfig()
    backbone = ToneNet(weights=None, include_top=False, include_preprocessing=False)
    x = keras.layers.MaxPooling2D(pool_size=(1, backbone.output_shape[2]))(backbone.output)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(config.architecture.dense_units, activation="relu")(x)
    x = keras.layers.Dropout(config.architecture.dropout)(x)
    x = keras.layers.Dense(config.classes, activation="softmax")(x)
    return keras.Model(backbone.input, x, name="seed_tonenet")


def load_tonenet(**kwargs: Any) -> tuple[Any, str]:
    """ToneNet with the pretrained `"blcu"` preset when it resolves, else random weights."""
    from keras_tone import ToneNet

    try:
        return ToneNet(weights="blcu", **kwargs), "blcu"
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return ToneNet(weights=None, **kwargs), "random (preset 'blcu' not available)"
