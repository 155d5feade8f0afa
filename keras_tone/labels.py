"""Class names and `decode_predictions`.

A model's class names are its config's (`keras_tone.config.ToneNetConfig.class_names`);
`class_names(classes)` gives the default ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Human-readable name of each tone, in class order (class i is tone i + 1).
TONE_NAMES = (
    "tone 1 (high level)",
    "tone 2 (rising)",
    "tone 3 (dipping)",
    "tone 4 (falling)",
    "tone 5 (neutral)",
)

#: Numbers of classes whose default names are tone names: tones 1-4, or 1-4 plus neutral.
SUPPORTED_CLASSES = (4, 5)


def class_names(classes: int) -> list[str]:
    """The default names of `classes` classes: tone names for 4 or 5, else `"class 1"`, ...

    Example:
        >>> from keras_tone.labels import class_names
        >>> class_names(5)[-1], class_names(2)
        ('tone 5 (neutral)', ['class 1', 'class 2'])
    """
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes must be a positive integer. Received: classes={classes!r}")
    if classes in SUPPORTED_CLASSES:
        return list(TONE_NAMES[:classes])
    return [f"class {i + 1}" for i in range(classes)]


def decode_predictions(
    preds: np.ndarray, top: int = 4, *, names: Sequence[str] | None = None
) -> list[list[tuple[int, str, float]]]:
    """Name the class probabilities that a ToneNet model predicts.

    Args:
        preds: array of shape `[batch, classes]` from `model.predict`.
        top: how many of the most probable classes to return per clip.
        names: the name of each class, from the model's config
            (`ToneNetConfig.class_names`); `None` for the defaults of
            `class_names(classes)` (tones 1-4, or 1-4 and the neutral tone).

    Returns:
        For each clip, a list of `(number, name, probability)` tuples, most
        probable first; `number` is the class index + 1, the tone number for
        tone classes. Empty for a clip whose probabilities are NaN (its
        waveform held NaN or Inf samples): no tone is better than the first one.

    Raises:
        ValueError: `preds` is not a 2-D array, `names` does not name each
            of its classes, or `top` is not positive.

    Example:
        >>> import numpy as np
        >>> from keras_tone import decode_predictions
        >>> decode_predictions(np.array([[0.1, 0.7, 0.15, 0.05]]), top=2)
        [[(2, 'tone 2 (rising)', 0.7), (3, 'tone 3 (dipping)', 0.15)]]
        >>> decode_predictions(np.full((1, 4), np.nan))
        [[]]
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] < 1:
        raise ValueError(
            "decode_predictions expects a batch of predictions of shape [batch, classes]. "
            "Pass the output of `model.predict` of a ToneNet model with include_top=True. "
            f"Received: preds.shape={preds.shape}"
        )
    if top < 1:
        raise ValueError(f"top must be >= 1. Received: top={top}")
    names = class_names(preds.shape[1]) if names is None else list(names)
    if len(names) != preds.shape[1]:
        raise ValueError(
            f"names must name each of the {preds.shape[1]} classes of preds. "
            f"Received: names={names!r}"
        )
    results = []
    for row in preds:
        if not np.all(np.isfinite(row)):
            results.append([])
            continue
        order = np.argsort(-row, kind="stable")[:top]
        results.append([(int(i) + 1, names[i], float(row[i])) for i in order])
    return results
