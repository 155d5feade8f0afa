"""Tone classes and their names; `decode_predictions`."""

from __future__ import annotations

import numpy as np

#: Human-readable name of each tone, in class order (class i is tone i + 1).
TONE_NAMES = (
    "tone 1 (high level)",
    "tone 2 (rising)",
    "tone 3 (dipping)",
    "tone 4 (falling)",
    "tone 5 (neutral)",
)

#: Numbers of classes that a ToneNet head can have: tones 1-4, or 1-4 plus neutral.
SUPPORTED_CLASSES = (4, 5)


def class_names(classes: int) -> list[str]:
    """Names of the `classes` tone classes (4: tones 1-4; 5: with the neutral tone)."""
    if classes not in SUPPORTED_CLASSES:
        raise ValueError(
            f"keras_tone knows tone models with {SUPPORTED_CLASSES} classes. "
            f"Received: classes={classes}"
        )
    return list(TONE_NAMES[:classes])


def decode_predictions(preds: np.ndarray, top: int = 4) -> list[list[tuple[int, str, float]]]:
    """Name the tone probabilities that a ToneNet model predicts.

    Args:
        preds: array of shape `[batch, classes]` from `model.predict`, with
            `classes` 4 (tones 1-4) or 5 (tones 1-4 and the neutral tone).
        top: how many of the most probable tones to return per clip.

    Returns:
        For each clip, a list of `(tone, name, probability)` tuples, most
        probable first; `tone` is the tone number (1-5). Empty for a clip
        whose probabilities are NaN (its waveform held NaN or Inf samples):
        no tone is better than the first one.

    Raises:
        ValueError: `preds` is not a 2-D array whose width is 4 or 5, or `top`
            is not positive.

    Example:
        >>> import numpy as np
        >>> from keras_tone import decode_predictions
        >>> decode_predictions(np.array([[0.1, 0.7, 0.15, 0.05]]), top=2)
        [[(2, 'tone 2 (rising)', 0.7), (3, 'tone 3 (dipping)', 0.15)]]
        >>> decode_predictions(np.full((1, 4), np.nan))
        [[]]
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] not in SUPPORTED_CLASSES:
        raise ValueError(
            "decode_predictions expects a batch of predictions of shape "
            f"[batch, classes] with classes in {SUPPORTED_CLASSES} (tones 1-4, "
            "or 1-4 and the neutral tone). Pass the output of `model.predict` of a "
            f"ToneNet model with include_top=True. Received: preds.shape={preds.shape}"
        )
    if top < 1:
        raise ValueError(f"top must be >= 1. Received: top={top}")
    names = class_names(preds.shape[1])
    results = []
    for row in preds:
        if not np.all(np.isfinite(row)):
            results.append([])
            continue
        order = np.argsort(-row, kind="stable")[:top]
        results.append([(int(i) + 1, names[i], float(row[i])) for i in order])
    return results
