"""`Recipe`: every setting of a training run, stored in its `report.json`."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Recipe:
    """Every setting of a training run (stored in `report.json`).

    Attributes:
        epochs: passes over the training clips (one augmented version of each).
        batch_size: global batch size.
        learning_rate: peak learning rate of Adam's cosine schedule.
        label_smoothing: label smoothing of the cross-entropy.
        copies: augmented versions made of each clip (plus the clean one).
        pitch_semitones: pitch (and speed) shift range, +- semitones.
        noise_probability: share of augmented versions that get white noise.
        snr_db: range of the noise's signal-to-noise ratio, in dB.
        tempo: range of a tempo change that keeps the pitch (phase vocoder,
            `librosa.effects.time_stretch`), drawn log-uniformly; a rate above
            1 is faster. `(1.0, 1.0)` disables it. It makes the model less
            sensitive to speaking rate (slow, careful speech in particular).
        max_lead_seconds: range of the random leading silence (it matters
            only under noise: clean silence is trimmed by the front end).
        class_weighting: `"balanced"` weighs each class by the inverse of its
            frequency in the training clips; `"none"` does not; `"auto"`
            (the default) is `"balanced"` for 5 classes and `"none"` for 4,
            resolved by `resolve_recipe`.
        mixed_precision: train in `mixed_bfloat16` (twice as fast on CPUs with
            AVX512-BF16; variables stay float32 and the saved weights are
            float32).

    Example:
        >>> from dataclasses import replace
        >>> from keras_tone.recipe import Recipe
        >>> replace(Recipe(), epochs=3).copies
        4
    """

    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 2e-3
    label_smoothing: float = 0.05
    copies: int = 4
    pitch_semitones: float = 6.0
    noise_probability: float = 0.5
    snr_db: tuple[float, float] = (15.0, 45.0)
    tempo: tuple[float, float] = (0.67, 1.5)
    max_lead_seconds: float = 0.3
    class_weighting: str = "auto"
    mixed_precision: bool = True


def resolve_recipe(
    recipe: Recipe | None,
    classes: int,
    epochs: int | None = None,
    batch_size: int | None = None,
    class_weighting: str | None = None,
) -> Recipe:
    """The recipe of a run: `recipe` (default `Recipe()`) with the overrides given.

    `None` keeps the recipe's value; the class weighting is made explicit
    (this is the one place of the `"auto"` default).

    Example:
        >>> from keras_tone.recipe import Recipe, resolve_recipe
        >>> resolve_recipe(Recipe(epochs=3), classes=5).class_weighting
        'balanced'
    """
    recipe = recipe or Recipe()
    recipe = replace(
        recipe,
        epochs=int(recipe.epochs if epochs is None else epochs),
        batch_size=int(recipe.batch_size if batch_size is None else batch_size),
    )
    weighting = recipe.class_weighting if class_weighting is None else class_weighting
    if weighting == "auto":
        weighting = "balanced" if classes == 5 else "none"
    if weighting not in ("none", "balanced"):
        raise ValueError(
            f"class_weighting must be 'none', 'balanced' or 'auto'. "
            f"Received: class_weighting={weighting!r}"
        )
    return replace(recipe, class_weighting=weighting)


__all__ = ["Recipe", "resolve_recipe"]
