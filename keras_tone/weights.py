"""Pretrained ToneNet weights: preset folders and where they come from.

A preset is a folder laid out as it is published on the Hugging Face Hub:

* `model.weights.h5`: the Keras weights;
* `config.json`: everything needed to rebuild the model (see `model_config`);
* `README.md`: the model card.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keras_tone import __version__, labels
from keras_tone._keras import keras

WEIGHTS_NAME = "model.weights.h5"
CONFIG_NAME = "config.json"
CARD_NAME = "README.md"


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file found on disk, with the preset config that describes it."""

    path: Path
    config: dict | None
    source: str


def model_config(*, classes: int, sample_rate: int) -> dict[str, Any]:
    """The `config.json` of a ToneNet preset: architecture, front end and classes."""
    from keras_tone import tonenet

    return {
        "model": "ToneNet",
        "classes": int(classes),
        "class_names": labels.class_names(classes),
        "sample_rate": int(sample_rate),
        "front_end": {"syllable": dict(tonenet.SYLLABLE), "log_mel": dict(tonenet.LOG_MEL)},
        "architecture": {
            "block_filters": list(tonenet.BLOCK_FILTERS),
            "block_pools": [list(p) for p in tonenet.BLOCK_POOLS],
            "dense_units": tonenet.DENSE_UNITS,
            "dropout": tonenet.DROPOUT,
        },
        "keras_tone_version": __version__,
        "keras_version": keras.__version__,
    }


def save_preset(
    model: keras.Model, directory: str | os.PathLike, *, classes: int, card: str
) -> Path:
    """Write `model` as a preset folder: weights, `config.json` and model card.

    Args:
        model: a ToneNet with `include_top=True` and `include_preprocessing=True`.
        directory: the folder to write (created if needed).
        classes: number of tone classes of the model's head.
        card: the model card, Markdown with the Hub's YAML header.

    Returns:
        The folder's path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_weights(directory / WEIGHTS_NAME)
    sample_rate = model.get_layer("log_mel").sample_rate
    config = model_config(classes=classes, sample_rate=sample_rate)
    (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    (directory / CARD_NAME).write_text(card)
    return directory


def resolve_weights(handle: str | os.PathLike) -> ResolvedWeights:
    """Find the weights file that `handle` names (only local paths so far)."""
    path = Path(handle)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {str(path)!r}.")
    config_path = path.parent / CONFIG_NAME
    config = json.loads(config_path.read_text()) if config_path.is_file() else None
    return ResolvedWeights(path=path, config=config, source="local")
