"""Start-up time of `keras-tone --help` and `--version`, against a bare Python.

Each command runs as a fresh process, in alternating rounds with
`python -c pass` (so load from other processes hits all alike); the table
gives the median and the 10th-90th percentile range of the wall time. Also
timed, in fewer rounds: `python -c "import keras_tone"`, the cost the front
door (`keras_tone_cli`, standard library only) avoids for these two commands.

Example:
    $ python benchmarks/bench_cli.py                # print the table
    $ python benchmarks/bench_cli.py --readme       # and rewrite its section of README.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START, END = "<!-- cli-results:start -->", "<!-- cli-results:end -->"

#: The goal of issue 15 for `--help` and `--version`, in seconds.
GOAL_SECONDS = 0.5


def keras_tone_command() -> tuple[list[str], str]:
    """How to run `keras-tone`: the installed script, else `python -m keras_tone_cli`."""
    script = Path(sys.executable).with_name("keras-tone")
    if script.is_file():
        return [str(script)], "the installed `keras-tone` script"
    return [sys.executable, "-m", "keras_tone_cli"], "`python -m keras_tone_cli` (not installed)"


def _seconds(command: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - started


def _summary(times: list[float]) -> dict[str, float]:
    deciles = statistics.quantiles(times, n=10) if len(times) > 1 else times * 9
    return {
        "median_s": statistics.median(times),
        "p10_s": deciles[0],
        "p90_s": deciles[-1],
        "runs": len(times),
    }


def run(rounds: int = 21, import_rounds: int = 3) -> dict[str, Any]:
    """Time every command; return `{"commands": {name: summary}, "how": ...}`."""
    keras_tone, how = keras_tone_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "keras-tone --help": [*keras_tone, "--help"],
        "keras-tone --version": [*keras_tone, "--version"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the file cache once
        _seconds(command)
    for _ in range(rounds):
        for name, command in commands.items():
            times[name].append(_seconds(command))
    importing = [sys.executable, "-c", "import keras_tone"]
    times["python -c 'import keras_tone'"] = [_seconds(importing) for _ in range(import_rounds)]
    return {"how": how, "commands": {name: _summary(t) for name, t in times.items()}}


def report(results: dict[str, Any]) -> str:
    """The results as a Markdown table, with the overhead over `python -c pass`."""
    base = results["commands"]["python -c pass"]["median_s"]
    lines = [
        f"`keras-tone` is {results['how']}; every row a fresh process.",
        "",
        "| command | median | 10th-90th percentile | over `python -c pass` | runs |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in results["commands"].items():
        over = "" if name == "python -c pass" else f"+{m['median_s'] - base:.3f} s"
        lines.append(
            f"| `{name}` | {m['median_s']:.3f} s | {m['p10_s']:.3f}-{m['p90_s']:.3f} s "
            f"| {over} | {m['runs']} |"
        )
    slowest = max(
        results["commands"][k]["median_s"] for k in ("keras-tone --help", "keras-tone --version")
    )
    verdict = "meets" if slowest < GOAL_SECONDS else "misses"
    lines += ["", f"Goal: under {GOAL_SECONDS} s for `--help` and `--version`: {verdict} it."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="runs of each command")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's CLI section")
    args = parser.parse_args(argv)
    results = run(rounds=args.rounds)
    section = report(results)
    print(section)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.readme:
        _common.replace_section(README, START, END, section)
        print(f"\nUpdated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
