"""Run every benchmark, print the results and refresh benchmarks/README.md.

Each benchmark runs in its own fresh process. The figures between the
`<!-- results:start -->` and `<!-- results:end -->` markers of
benchmarks/README.md (and those of the folder job, between the `folder`
markers) are replaced with this run's (pass `--no-readme` to keep the file
as it is).

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
        folder = _run(
            "bench_folder.py",
            Path(tmp) / "folder.json",
            ["--rounds", "2" if args.quick else "5", "--startup-runs", "1" if args.quick else "3"],
        )
    import bench_folder
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
    folder_section = bench_folder.section(folder, "python benchmarks/run_all.py", machine)
    print("\n" + section + "\n\n" + folder_section)
    if not args.no_readme:
        _common.update_readme(section)
        _common.update_readme(folder_section, "folder")
        print(f"\nUpdated {HERE / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
