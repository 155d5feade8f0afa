"""Where ToneNet's weights come from (placeholder until the registry lands)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    config: dict | None
    source: str


def resolve_weights(handle: str | os.PathLike) -> ResolvedWeights:
    path = Path(handle)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {str(path)!r}.")
    config_path = path.parent / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else None
    return ResolvedWeights(path=path, config=config, source="local")
