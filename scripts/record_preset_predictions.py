"""Record what the shipped presets predict on generated clips (tests/data/preset_predictions.json).

Run once after publishing new weights; `tests/test_presets.py` then checks that
code changes do not move the shipped models' probabilities or embeddings.

    python scripts/record_preset_predictions.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_presets import SHIPPED, reference_clips  # noqa: E402

import keras_tone  # noqa: E402


def main() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    batch = keras_tone.prepare_batch(reference_clips())
    record: dict = {"computed_with": f"keras_tone {keras_tone.__version__} at commit {commit}"}
    for name in sorted(SHIPPED):
        model = keras_tone.ToneNet(weights=name)
        record[name] = model.predict(batch, verbose=0).round(7).tolist()
        backbone = keras_tone.ToneNet(weights=name, include_top=False, pooling="avg")
        record[f"{name}/backbone-avg"] = (
            backbone.predict(batch[:2], verbose=0)[:, :8].round(7).tolist()
        )
    path = ROOT / "tests" / "data" / "preset_predictions.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)} ({record['computed_with']})")


if __name__ == "__main__":
    main()
