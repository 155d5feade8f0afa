"""`Recipe`: every setting of a training run, stored in its `report.json`."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Recipe:
    """Every setting of a training run (stored in `report.json`).

    Augmentation makes *virtual speakers*: version `v` of every clip of a
    speaker has that speaker's voice moved by the same pitch shift, drawn
    once per speaker and version, plus a small per-clip
    jitter; noise, leading silence and tempo are drawn per clip. Training
    draws one version of each clip per epoch and, as its speaker context, the
    pitch histograms of K other clips of the same speaker *at the same
    version*, so a syllable's place in its speaker's range survives the
    augmentation.

    Attributes:
        epochs: passes over the training clips (one version of each).
        batch_size: global batch size.
        learning_rate: peak learning rate of Adam's cosine schedule.
        label_smoothing: label smoothing of the cross-entropy.
        copies: augmented versions of each clip (virtual speakers per speaker),
            besides the clean one.
        pitch_semitones: range of the per-speaker pitch shift, +- semitones.
        pitch_jitter: range of the extra per-clip pitch shift, +- semitones.
        half_third: share of the augmented tone-3 versions cut at 45-70% of
            their length, before the final rise (a stand-in for the "half
            third tone" of connected speech).
        contour: share of the augmented versions whose pitch contour is
            reshaped within the tone's natural variation (Praat's PSOLA:
            duration and formants kept): a tilt of up to +-1.5 semitones
            across the voice and a bump of up to +-1.5 semitones somewhere in
            it; tone 2 gets its bump early and downwards instead, 0.5-3
            semitones (the initial dip of tone 2 in natural speech, turning
            point at 10-40% of the voice, which the training voices rarely
            show).
        truncate: share of the augmented versions, of every tone, whose end
            is cut off: the syllable's voice stops at 60-95% of its length,
            as in recordings cut short by a recorder or a segmenter. (Cutting
            tone 3s alone, as `half_third` does, makes a cut-off end a tone-3
            cue.)
        noise_probability: share of virtual speakers recorded with noise.
        noise_types: the noises they are drawn from: `"white"`, `"pink"`,
            `"brown"` (`keras_tone.conditions.coloured_noise`) and
            `"babble"` (several other training speakers at once).
        snr_db: range of a virtual speaker's signal-to-noise ratio, in dB,
            relative to the active speech level; each clip varies it by
            +-3 dB.
        room_probability: share of virtual speakers recorded in a simulated
            room (`keras_tone.conditions.room_impulse_responses`).
        rt60: range of the rooms' reverberation times, in seconds.
        rooms: rooms simulated per training run (drawn from by the virtual
            speakers).
        telephone_probability: share of virtual speakers heard through a
            telephone band (300-3400 Hz at 8 kHz).
        tempo: range of a tempo change that keeps the pitch (phase vocoder,
            `librosa.effects.time_stretch`), drawn log-uniformly; a rate above
            1 is faster. `(1.0, 1.0)` disables it.
        max_lead_seconds: range of the random leading silence of an
            augmented version (clean silence is trimmed by the front end, to
            its analysis frame: the rest shifts the syllable against the
            frames; under noise the silence is noise).
        context_none: share of training examples that get no speaker context.
        context_max: the most clips a training example's context is made of
            (their number is log-uniform in 1 .. `context_max` otherwise).
        ema: keep an exponential moving average of the weights (momentum
            0.999) and save it, which makes runs steadier from seed to seed.
        class_weighting: `"balanced"` weighs each class by the inverse of its
            frequency in the training clips; `"none"` does not; `"auto"`
            (the default) is `"balanced"` for 5 classes and `"none"` for 4,
            resolved by `resolve_recipe`.
        mixed_precision: train in `mixed_bfloat16` (`True`) or float32
            (`False`); `None` (the default) chooses from the hardware
            (`keras_tone.devices.native_bfloat16`), resolved by
            `resolve_recipe`: bfloat16 is several times slower than float32
            on CPUs that emulate it.

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
    pitch_jitter: float = 1.0
    half_third: float = 0.5
    truncate: float = 0.0
    contour: float = 0.0
    noise_probability: float = 0.5
    noise_types: tuple[str, ...] = ("white",)
    snr_db: tuple[float, float] = (15.0, 45.0)
    room_probability: float = 0.0
    rt60: tuple[float, float] = (0.2, 1.0)
    rooms: int = 64
    telephone_probability: float = 0.0
    tempo: tuple[float, float] = (0.67, 1.5)
    max_lead_seconds: float = 0.3
    context_none: float = 0.25
    context_max: int = 64
    ema: bool = False
    class_weighting: str = "auto"
    mixed_precision: bool | None = None


def resolve_recipe(
    recipe: Recipe | None,
    classes: int,
    epochs: int | None = None,
    batch_size: int | None = None,
    class_weighting: str | None = None,
) -> Recipe:
    """The recipe of a run: `recipe` (default `Recipe()`) with the overrides given.

    `None` keeps the recipe's value; the class weighting and the precision
    are made explicit (this is the one place of their `"auto"` defaults).

    Example:
        >>> from keras_tone.recipe import Recipe, resolve_recipe
        >>> resolve_recipe(Recipe(epochs=3), classes=5).class_weighting
        'balanced'
        >>> resolve_recipe(Recipe(mixed_precision=False), classes=4).mixed_precision
        False
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
    mixed = recipe.mixed_precision
    if mixed is None:
        from keras_tone.devices import native_bfloat16

        mixed = native_bfloat16()
    return replace(recipe, class_weighting=weighting, mixed_precision=bool(mixed))


__all__ = ["Recipe", "resolve_recipe"]
