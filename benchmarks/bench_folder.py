"""The folder job: files per second of predict_files, the seed pipeline and decoding alone.

Over the same real recordings (every 10th file of every folder of
`../shared/data`: MP3 and FLAC at 16-48 kHz, 0.15-2.5 s; about 1,330 files),
in one process, in alternating rounds, medians over rounds:

* **predict_files**: `keras_tone.predict_files(model, paths)` with the
  `blcu` ToneNet: decoding on a thread pool, clips batched by length,
  the voicing layer in the same graph call.
* **seed pipeline** (what the original ToneNet code does):
  `librosa.load(path, sr=16000)` per file, the librosa log-mel of the first
  1 s of each clip (zero-padded), and the seed's network (ToneNet's log-mel
  CNN under keras_tone 0.1.0's top, without the pitch stack that front end
  version 2 added) by `predict_on_batch` on batches of 64.
* **predict_files, speaker context**: the same with `speakers=` (one speaker
  per folder, as `keras-tone predict --speaker-context`): every file decoded
  first, the pitch histograms of the clips, then the model with its
  context input.
* **keras-tone predict 0.1.0 loop**, for reference: `librosa.load` per
  file, `prepare_batch` on each clip (its check) and on each chunk of 64,
  `model.predict`.
* **decode only** (the limit): `keras_tone.load_audio` of every file and
  nothing else, on all cores: a thread pool (what predict_files uses) and a
  process pool; the faster is the limit.

Start-up is timed apart, in a fresh process: `import keras_tone`, building
the model, and the first `predict_files` call on one file (tracing its
graph). Skips with a message when `../shared/data` is absent.

Example:
    $ python benchmarks/bench_folder.py            # --readme: refresh its figures in README.md
    $ python benchmarks/bench_folder.py --rounds 3 --every 20 --json out.json
"""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: the seed pipeline's librosa log-mel does small
# matrix products, which a multi-threaded OpenBLAS on a busy 2-core machine
# turned from 1 ms into 15-30 ms per clip (measured). One thread is the seed's
# best case; predict_files and decoding use no BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import _common  # noqa: E402
import numpy as np  # noqa: E402

DATA = _common.ROOT.parent / "shared" / "data"
README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- folder:start -->", "<!-- folder:end -->"
BATCH = 64
SEED = "seed pipeline"
OURS = "predict_files"
CLI = "keras-tone predict 0.1.0 loop"
CONTEXT = "predict_files, speaker context"


def files(every: int, data: Path = DATA) -> list[Path]:
    """Every `every`-th audio file of the shared recordings, in sorted order."""
    found = sorted(p for p in data.rglob("*") if p.suffix in (".mp3", ".flac", ".wav"))
    return found[::every]


def _seed_pipeline(features_model: Any, paths: list[Path]) -> np.ndarray:
    import librosa

    settings = _common.log_mel_settings()
    top_db = settings.pop("top_db")
    out = []
    for start in range(0, len(paths), BATCH):
        features = []
        for path in paths[start : start + BATCH]:
            y, _ = librosa.load(path, sr=_common.SAMPLE_RATE)
            y = np.pad(y[: _common.SAMPLE_RATE], (0, max(0, _common.SAMPLE_RATE - y.size)))
            mel = librosa.feature.melspectrogram(y=y, sr=_common.SAMPLE_RATE, **settings)
            features.append(librosa.power_to_db(mel, top_db=top_db).T)
        out.append(features_model.predict_on_batch(np.stack(features).astype("float32")))
    return np.concatenate(out)


def _cli_0_1_0(model: Any, paths: list[Path]) -> np.ndarray:
    """The loop of `keras-tone predict` 0.1.0: librosa.load, prepare_batch twice, model.predict."""
    import librosa

    from keras_tone import prepare_batch

    out = []
    for start in range(0, len(paths), BATCH):
        clips = []
        for path in paths[start : start + BATCH]:
            clip, _ = librosa.load(path, sr=_common.SAMPLE_RATE)
            prepare_batch([clip])  # its per-file check
            clips.append(clip)
        out.append(model.predict(prepare_batch(clips), verbose=0))
    return np.concatenate(out)


def _decode_chunk(paths: list[str]) -> int:
    from keras_tone import load_audio

    return sum(load_audio(p).size for p in paths)


def _decode_threads(paths: list[Path], workers: int) -> None:
    from keras_tone import load_audio

    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(load_audio, paths):
            pass


def _decode_processes(pool: ProcessPoolExecutor, paths: list[Path], workers: int) -> None:
    chunks = [[str(p) for p in paths[i::workers]] for i in range(workers)]
    sum(pool.map(_decode_chunk, chunks))


def run(
    rounds: int = 5, every: int = 10, startup_runs: int = 3, data: Path = DATA
) -> dict[str, Any]:
    if not (data / "README.md").is_file():
        return {"skipped": f"no shared recordings at {data}"}
    import keras_tone

    paths = files(every, data)
    model, weights = _common.load_tonenet()
    context_model, _ = _common.load_tonenet(speaker_context=True)
    speakers = keras_tone.inference.speakers_by_folder(paths)
    features_model = _common.seed_network()
    workers = os.cpu_count() or 1
    process_pool = ProcessPoolExecutor(workers)
    pipelines = {
        OURS: lambda: keras_tone.predict_files(model, paths),
        CONTEXT: lambda: keras_tone.predict_files(context_model, paths, speakers=speakers),
        SEED: lambda: _seed_pipeline(features_model, paths),
        CLI: lambda: _cli_0_1_0(model, paths),
        "decode only, threads": lambda: _decode_threads(paths, workers),
        "decode only, processes": lambda: _decode_processes(process_pool, paths, workers),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa's, in the seed pipeline only
        for fn in pipelines.values():  # warm-up: page cache, graph tracing, worker start
            fn()
        seconds: dict[str, list[float]] = {name: [] for name in pipelines}
        for _ in range(rounds):
            for name, fn in pipelines.items():
                start = time.perf_counter()
                fn()
                seconds[name].append(time.perf_counter() - start)
    process_pool.shutdown()
    results: dict[str, Any] = {
        "files": len(paths),
        "every": every,
        "rounds": rounds,
        "workers": workers,
        "weights": weights,
        "pipelines": {
            name: {
                "files_per_s": len(paths) / statistics.median(times),
                "files_per_s_range": [len(paths) / max(times), len(paths) / min(times)],
                "median_s": statistics.median(times),
            }
            for name, times in seconds.items()
        },
        "startup": _startup(startup_runs, paths[0]),
    }
    rate = {k: v["files_per_s"] for k, v in results["pipelines"].items()}
    limit = max(rate["decode only, threads"], rate["decode only, processes"])
    results["speedup_vs_seed"] = rate[OURS] / rate[SEED]
    results["speedup_vs_cli"] = rate[OURS] / rate[CLI]
    results["decode_limit_files_per_s"] = limit
    results["limit_over_ours"] = limit / rate[OURS]
    return results


def _startup(runs: int, path: Path) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        command = [sys.executable, __file__, "--child", str(path)]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    summary = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    return {**summary, "runs": runs}


def _child_main(path: str) -> dict[str, float]:
    """Runs in a fresh interpreter: from nothing to the first file classified."""
    t0 = time.perf_counter()
    import keras_tone

    t1 = time.perf_counter()
    model, _ = _common.load_tonenet()
    t2 = time.perf_counter()
    keras_tone.predict_files(model, [path])
    t3 = time.perf_counter()
    return {
        "import_keras_tone_s": t1 - t0,
        "build_model_s": t2 - t1,
        "first_file_s": t3 - t2,
        "total_s": t3 - t0,
    }


def report(results: dict[str, Any]) -> str:
    if "skipped" in results:
        return f"Skipped: {results['skipped']}."
    rows = [
        "| pipeline | files/s (median) | range over rounds | vs seed |",
        "|---|---:|---:|---:|",
    ]
    seed = results["pipelines"][SEED]["files_per_s"]
    for name, r in results["pipelines"].items():
        low, high = r["files_per_s_range"]
        rows.append(
            f"| {name} | {r['files_per_s']:.0f} | {low:.0f}-{high:.0f} | "
            f"{r['files_per_s'] / seed:.2f}x |"
        )
    s = results["startup"]
    return "\n".join(
        [
            f"{results['files']} files (every {results['every']}th of `../shared/data`), "
            f"weights {results['weights']}, {results['workers']} workers, "
            f"median of {results['rounds']} rounds.",
            "",
            *rows,
            "",
            f"predict_files: **{results['speedup_vs_seed']:.2f}x** the seed pipeline's files/s "
            f"(goal 2.5x); the decode-only limit ({results['decode_limit_files_per_s']:.0f} "
            f"files/s) is **{results['limit_over_ours']:.2f}x** predict_files' (goal within 1.5x); "
            f"predict_files is {results['speedup_vs_cli']:.2f}x keras-tone predict 0.1.0's loop.",
            "",
            f"Start-up (fresh process, median of {s['runs']:.0f}): {s['total_s']:.2f} s to the "
            f"first file classified: import keras_tone {s['import_keras_tone_s']:.2f} s, "
            f"build ToneNet {s['build_model_s']:.2f} s, first predict_files call "
            f"{s['first_file_s']:.2f} s.",
        ]
    )


def section(results: dict[str, Any], command: str, machine: str) -> str:
    """The README block: when, how and where it ran, then `report`."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Run {stamp} with `{command}`.\n\nMachine: {machine}.\n\n{report(results)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every", type=int, default=10, help="take every N-th file")
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument(
        "--data", type=Path, default=DATA, help=f"the shared recordings (default {DATA})"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--readme", action="store_true", help="refresh the figures in README.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child_main(args.child)))
        return 0
    machine = _common.machine()
    print(machine)
    results = run(
        rounds=args.rounds, every=args.every, startup_runs=args.startup_runs, data=args.data
    )
    print(report(results))
    if args.readme:
        command = "python benchmarks/bench_folder.py"
        _common.replace_section(README, START, END, section(results, command, machine))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
