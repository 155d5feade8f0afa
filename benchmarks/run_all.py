"""Run every benchmark, print the results and refresh benchmarks/README.md.

Each benchmark runs in its own fresh process. The figures between the
`<!-- results:start -->` and `<!-- results:end -->` markers of
benchmarks/README.md are replaced with this run's; `bench_cli.py`,
`bench_backends.py` and `bench_folder.py` rewrite their own sections (pass `--no-readme` to keep the
file as it is).

Example:
    $ python benchmarks/run_all.py
    $ python benchmarks/run_all.py --quick --no-readme   # a fast smoke run
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import _common

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _run(script: str, json_path: Path, extra: list[str]) -> dict:
    command = [sys.executable, str(HERE / script), "--json", str(json_path), *extra]
    print(f"$ {' '.join(command[1:])}", flush=True)
    subprocess.run(command, check=True)
    return json.loads(json_path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke test)")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    args = parser.parse_args(argv)
    rounds = ["--rounds", "2" if args.quick else "5"]
    machine = _common.machine()
    with tempfile.TemporaryDirectory() as tmp:
        layers = _run("bench_layers.py", Path(tmp) / "layers.json", rounds)
        tonenet = _run(
            "bench_tonenet.py",
            Path(tmp) / "tonenet.json",
            [*rounds, "--cold-runs", "1" if args.quick else "3"],
        )
        cli_rounds = ["--rounds", "5" if args.quick else "21"]
        _run(
            "bench_cli.py",
            Path(tmp) / "cli.json",
            cli_rounds + ([] if args.no_readme else ["--readme"]),
        )
        _run(
            "bench_backends.py",
            Path(tmp) / "backends.json",
            rounds + ([] if args.no_readme else ["--readme"]),
        )
        folder_options = ["--rounds", "2" if args.quick else "5"]
        folder_options += ["--startup-runs", "1" if args.quick else "3"]
        _run(
            "bench_folder.py",
            Path(tmp) / "folder.json",
            folder_options + ([] if args.no_readme else ["--readme"]),
        )
    import bench_layers
    import bench_tonenet

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join(
        [
            f"Run {stamp} with `python benchmarks/run_all.py`"
            + (" --quick" if args.quick else "")
            + ".",
            "",
            f"Machine: {machine}.",
            "",
            "### Layers (`bench_layers.py`)",
            bench_layers.report(layers),
            "",
            "### ToneNet end to end (`bench_tonenet.py`)",
            "",
            bench_tonenet.report(tonenet),
        ]
    )
    print("\n" + section)
    if not args.no_readme:
        _common.replace_section(README, START, END, section)
        print(f"\nUpdated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
