"""ToneNet: a compact CNN over the log-mel and relative pitch images of one Mandarin syllable."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from keras_tone._keras import keras
from keras_tone.config import ToneNetConfig
from keras_tone.frontend import FrontEnd
from keras_tone.layers import PropagateNonFinite, RelativePitch
from keras_tone.weights import ResolvedWeights, resolve_weights

#: The handle types that `ToneNet(weights=...)` and `load_model` accept.
WeightsHandle = str | os.PathLike


@keras.utils.register_keras_serializable(package="keras_tone")
class ToneNetModel(keras.Model):
    """The functional model that `ToneNet` returns.

    A `keras.Model` like any other; it checks what `predict` receives, so
    that a mistake gets a clear error instead of a TensorFlow one: a file
    name instead of audio, an array of the wrong rank (one waveform
    `[samples]` without its batch axis would be read as a batch of single
    samples), or clips without samples. A batch holding NaN or Inf samples
    gets NaN probabilities for those clips (as the exports do) and a warning.
    """

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        first = x.get(self.input_names[0]) if isinstance(x, dict) else x
        if isinstance(first, (list, tuple)) and len(self.inputs) > 1:
            first = first[0]
        self._check_input(first)
        return super().predict(x, *args, **kwargs)

    def _check_input(self, x: Any) -> None:
        rank = len(self.inputs[0].shape)
        expected = "[batch, samples]" if rank == 2 else "[batch, frames, n_mels]"
        if isinstance(x, (str, bytes, os.PathLike)) or (
            isinstance(x, (list, tuple)) and x and isinstance(x[0], (str, bytes, os.PathLike))
        ):
            raise ValueError(
                f"{self.name} takes audio as numbers {expected}, not file names. Read the "
                "files first (`keras_tone.load_audio(path)` and `keras_tone.prepare_batch`), "
                f"or classify them with `keras_tone.predict_files(model, paths)`. Received: x={x!r}"
            )
        shape = getattr(x, "shape", None)
        if shape is None:
            return  # a dataset or a generator: Keras checks it
        shape = tuple(shape)
        if len(shape) == rank - 1:
            raise ValueError(
                f"{self.name} takes a batch of shape {expected}; this input has no batch "
                "axis. For one clip pass `x[None]`, or `keras_tone.prepare_batch([clip])`. "
                f"Received: x.shape={shape}"
            )
        if len(shape) != rank:
            hint = " Average the channels to mono first: `x.mean(axis=-1)`." if rank == 2 else ""
            raise ValueError(
                f"{self.name} takes a batch of shape {expected}.{hint} Received: x.shape={shape}"
            )
        if rank == 2 and shape[1] == 0:
            raise ValueError(
                f"{self.name} received clips without samples; every clip needs at least one "
                "(`keras_tone.prepare_batch` refuses empty clips with the clip's number). "
                f"Received: x.shape={shape}"
            )
        values = np.asarray(x)
        if values.dtype.kind not in "fiub":
            raise ValueError(f"{self.name} takes float waveforms. Received: x.dtype={values.dtype}")
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            bad = int(np.sum(~np.all(np.isfinite(values.reshape(shape[0], -1)), axis=1)))
            warnings.warn(
                f"{bad} of {shape[0]} clips hold NaN or Inf samples: their probabilities are "
                "NaN. Clean the audio first, e.g. `np.nan_to_num(x, nan=0.0, posinf=0.0, "
                "neginf=0.0)`; `keras_tone.prepare_batch` refuses such clips.",
                stacklevel=3,
            )

    @property
    def input_names(self) -> list[str]:
        """The names of the model's inputs, in order."""
        return [tensor.name.split(":")[0] for tensor in self.inputs]


def ToneNet(  # noqa: N802 - named like keras.applications models
    weights: WeightsHandle | None = "blcu",
    include_top: bool = True,
    include_preprocessing: bool = True,
    input_tensor: Any = None,
    input_shape: tuple[int | None, ...] | None = None,
    sample_rate: int | None = None,
    classes: int | None = None,
    classifier_activation: str | None = "softmax",
    pooling: str | None = None,
    name: str = "tonenet",
    config: ToneNetConfig | None = None,
    speaker_context: bool = False,
) -> keras.Model:
    """Instantiate ToneNet, a Mandarin tone classifier over raw waveforms.

    ToneNet classifies the lexical tone of one spoken Mandarin syllable. It
    takes mono float waveforms `[batch, samples]` of any length, zero-padded
    at the end (`keras_tone.prepare_batch` makes such a batch), and returns
    the probability of each tone. The whole front end runs inside the model
    (`keras_tone.frontend.FrontEnd`): a high-pass against DC offset and
    rumble, silence trimming, loudness normalisation, and two images of the
    syllable over the same frames, its log-mel spectrogram and its pitch
    salience. Three blocks of two 3x3 convolutions read the log-mel image
    (the maximum over the mel axis keeps the shape of what they find, not its
    pitch); a second, smaller stack reads the pitch salience re-centred on
    the speaker's median pitch (`keras_tone.layers.RelativePitch`); a dense
    layer with dropout and the classifier join them. After Gao, Sun and Yang,
    "ToneNet: A CNN Model of Tone Classification of Mandarin Chinese"
    (Interspeech 2019), smaller; the documentation's design page says where
    it departs from the paper and why. Every setting is in its
    `keras_tone.config.ToneNetConfig`, which a pretrained preset brings
    along (`config.json`).

    **Speaker context.** A syllable alone does not say where it lies in its
    speaker's pitch range: a half third tone and a fourth tone are both
    falls, one low, the other high. With `speaker_context=True` the model
    takes a second input, `"speaker_context"` `[batch, candidates]`: the
    summed pitch histograms of other clips of the same speaker, made with
    `keras_tone.speaker_context` (no labels needed). The median pitch of the
    speaker then anchors the pitch image. Without it (the default, one input)
    the clip anchors itself; this is exactly the two-input model with a
    context of zeros, and both use the same weights.

    **Not a number in, not an answer out.** `model.predict` runs a graph,
    where the input's values cannot be checked: an example whose waveform
    (or image, or context) holds NaN or Inf gets NaN probabilities
    (`keras_tone.layers.PropagateNonFinite`, before the classifier), also in
    the exports; the other examples of the batch are untouched. An eager call
    `model(x)` raises a `ValueError` instead.

    Args:
        weights: `None` (random initialisation); the name of a pretrained
            preset (`keras_tone.list_presets()`; `"blcu"` by default);
            `"hf://owner/repo[@revision]"` for a preset of your own on the
            Hugging Face Hub; or the path of a preset folder or of a
            `.weights.h5` file. A preset brings its config: the classes,
            sampling rate, front end and architecture are the preset's.
        include_top: whether to include the classifier (and the pitch stack).
        include_preprocessing: whether the model takes raw waveforms (`True`)
            or the images of `FrontEnd(config)` that you computed yourself
            (`False`: inputs `"log_mel"` `[batch, frames, n_mels]` and, with
            the top, `"salience"` `[batch, frames, candidates]`).
        input_tensor: optional Keras tensor to use as the model's first input
            (the waveform, or the log-mel image).
        input_shape: shape of the first input without the batch axis:
            `(samples,)` (default `(None,)`, any length) with preprocessing,
            `config.feature_shape()` without.
        sample_rate: sampling rate of the input waveforms in Hz; `None` for
            the config's (16000 by default). A preset's rate cannot be changed.
        classes: number of classes; `None` for the preset's (4 without
            weights). With a preset and `include_top=True` it must be the
            preset's; `include_top=False` reuses the backbone.
        classifier_activation: activation of the classifier (`None` for logits).
        pooling: with `include_top=False`: `None` (4-D feature map), `"avg"`
            or `"max"` (`[batch, filters]` embeddings).
        name: the model's name.
        config: a `ToneNetConfig` to build from (default `ToneNetConfig()`);
            with a preset, the preset's config is used and `config` must be
            `None` or equal to it.
        speaker_context: add the `"speaker_context"` input (with the top).

    Returns:
        A `keras.Model` (a `ToneNetModel`).

    Input shape:
        `[batch, samples]` float waveforms in [-1, 1] at `sample_rate`; with
        `speaker_context=True`, a dict (or list) of it and the
        `[batch, candidates]` context.

    Output shape:
        `[batch, classes]` probabilities with `include_top=True`; else
        `[batch, 8, 10, 64]` feature maps, or `[batch, 64]` with `pooling`.

    Example:
        >>> import numpy as np
        >>> import keras_tone
        >>> model = keras_tone.ToneNet(weights=None)
        >>> clips = np.random.default_rng(0).normal(0, 0.1, (2, 12000)).astype("float32")
        >>> model.predict(clips, verbose=0).shape
        (2, 4)
        >>> with_context = keras_tone.ToneNet(weights=None, speaker_context=True)
        >>> context = keras_tone.speaker_context(clips)  # the speaker's other clips
        >>> with_context.predict({"waveform": clips, "speaker_context": np.stack([context] * 2)},
        ...                      verbose=0).shape
        (2, 4)
        >>> keras_tone.ToneNet(weights=None, include_top=False, pooling="avg").output_shape
        (None, 64)
    """
    resolved = resolve_weights(weights) if weights is not None else None
    config = _model_config(
        resolved,
        weights,
        config=config,
        classes=classes,
        sample_rate=sample_rate,
        include_top=include_top,
    )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if speaker_context and not include_top:
        raise ValueError(
            "The speaker context feeds the pitch stack of the top: it needs include_top=True. "
            f"Received: speaker_context={speaker_context}, include_top={include_top}"
        )
    frames, n_mels = config.feature_shape()
    default_shape = (None,) if include_preprocessing else (frames, n_mels)
    input_shape = default_shape if input_shape is None else tuple(input_shape)
    _check_input_shape(input_shape, include_preprocessing, (frames, n_mels))

    if input_tensor is None:
        first = keras.Input(
            shape=input_shape, name="waveform" if include_preprocessing else "log_mel"
        )
    else:
        first = input_tensor
    inputs = [first]
    if include_preprocessing:
        log_mel, salience = FrontEnd(config, name="front_end")(first)
    else:
        log_mel, salience = first, None
        if include_top:
            salience = keras.Input(shape=config.pitch_shape(), name="salience")
            inputs.append(salience)
    context = None
    if speaker_context:
        context = keras.Input(shape=(config.pitch_shape()[1],), name="speaker_context")
        inputs.append(context)

    members = config.architecture.members
    if include_top:
        outputs = [
            _network(log_mel, salience, context, inputs, config, classifier_activation, prefix)
            for prefix in _member_prefixes(members)
        ]
        x = outputs[0] if members == 1 else keras.layers.Average(name="ensemble")(outputs)
    else:  # the first member's backbone
        x = _backbone(log_mel, config, _member_prefixes(members)[0])
        if pooling == "avg":
            x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
        x = PropagateNonFinite(name="nonfinite")([*inputs, x])

    if input_tensor is not None:
        inputs[0] = keras.utils.get_source_inputs(input_tensor)[0]
    model = ToneNetModel(inputs if len(inputs) > 1 else inputs[0], x, name=name)
    if resolved is not None:
        if include_top:
            model.load_weights(resolved.path)
        else:
            _load_backbone(model, resolved, config, include_preprocessing)
    return model


def _member_prefixes(members: int) -> list[str]:
    """The layer-name prefix of each member: none for a single network."""
    return [""] if members == 1 else [f"member{k}_" for k in range(members)]


def _backbone(log_mel: Any, config: ToneNetConfig, prefix: str) -> Any:
    """The convolution blocks over the log-mel image: `[batch, frames', mels', filters]`."""
    frames, n_mels = config.feature_shape()
    x = keras.layers.Reshape((frames, n_mels, 1), name=f"{prefix}image")(log_mel)
    x = keras.layers.Rescaling(1.0 / 40.0, offset=0.5, name=f"{prefix}db_scale")(x)
    architecture = config.architecture
    blocks = zip(architecture.block_filters, architecture.block_pools, strict=True)
    for block, (filters, pool) in enumerate(blocks, start=1):
        x = _conv_block(x, filters, pool, name=f"{prefix}block{block}")
    return x


def _network(
    log_mel: Any,
    salience: Any,
    context: Any,
    inputs: list[Any],
    config: ToneNetConfig,
    classifier_activation: str | None,
    prefix: str,
) -> Any:
    """One member from the front end's images to the class probabilities."""
    architecture = config.architecture
    x = _backbone(log_mel, config, prefix)
    x = keras.layers.MaxPooling2D(pool_size=(1, x.shape[2]), name=f"{prefix}mel_max")(x)
    x = keras.layers.Flatten(name=f"{prefix}flatten")(x)
    pitch = _pitch_stack(salience, context, config, prefix)
    x = keras.layers.Concatenate(name=f"{prefix}join")([x, *pitch])
    x = keras.layers.Dense(architecture.dense_units, activation="relu", name=f"{prefix}fc")(x)
    x = keras.layers.Dropout(architecture.dropout, name=f"{prefix}dropout")(x)
    x = PropagateNonFinite(name=f"{prefix}nonfinite")([*inputs, x])
    return keras.layers.Dense(
        config.classes, activation=classifier_activation, name=f"{prefix}predictions"
    )(x)


def _pitch_stack(salience: Any, context: Any, config: ToneNetConfig, prefix: str) -> list[Any]:
    """The relative pitch image through its convolution blocks: `[features, confidence]`."""
    architecture = config.architecture
    relative, confidence = RelativePitch(
        window=architecture.pitch_window,
        floor=config.front_end.pitch.floor,
        name=f"{prefix}relative_pitch",
    )(salience, context)
    y = keras.layers.Reshape(
        (config.frames(), 2 * architecture.pitch_window, 1), name=f"{prefix}pitch_image"
    )(relative)
    for block, filters in enumerate(architecture.pitch_filters, start=1):
        y = _conv_block(y, filters, (2, 2), name=f"{prefix}pitch{block}")
    y = keras.layers.Flatten(name=f"{prefix}pitch_flatten")(y)
    y = keras.layers.Dense(architecture.pitch_units, activation="relu", name=f"{prefix}pitch_fc")(y)
    return [y, confidence]


def ensemble(models: Sequence[keras.Model], *, speaker_context: bool = False) -> keras.Model:
    """One ToneNet whose probabilities are the mean of those of `models`.

    The members share the front end (computed once); member `k` gets the
    weights of `models[k]`. All models must be single networks built from
    one config (e.g. trained with other seeds); the result's config is theirs
    with `architecture.members = len(models)`, so it saves and loads as a
    preset like any ToneNet.

    Args:
        models: waveform ToneNets of one config, `members == 1`.
        speaker_context: build the result with the `"speaker_context"` input.

    Returns:
        A waveform ToneNet.

    Raises:
        ValueError: fewer than two models, models of different configs, or
            a model that is an ensemble already.

    Example:
        >>> from keras_tone import ToneNet
        >>> from keras_tone.tonenet import ensemble
        >>> members = [ToneNet(weights=None), ToneNet(weights=None)]
        >>> ensemble(members).get_layer("member1_fc").output.shape
        (None, 128)
    """
    from keras_tone.frontend import front_end_of

    if len(models) < 2:
        raise ValueError(f"An ensemble needs two models or more. Received: {len(models)} model(s)")
    configs = [front_end_of(model).config for model in models]
    if any(config != configs[0] for config in configs[1:]) or configs[0].architecture.members != 1:
        raise ValueError(
            "The members of an ensemble must be single networks (members=1) of one config. "
            f"Received: configs differing in {[configs[0].differences(c) for c in configs[1:]]}"
        )
    architecture = replace(configs[0].architecture, members=len(models))
    config = replace(configs[0], architecture=architecture)
    target = ToneNet(weights=None, config=config, speaker_context=speaker_context)
    for layer in target.layers:
        if layer.weights and layer.name.startswith("member"):
            member, name = layer.name.split("_", 1)
            source = models[int(member[len("member") :])].get_layer(name)
            layer.set_weights(source.get_weights())
    return target


def load_model(
    handle: WeightsHandle | keras.Model, *, speaker_context: bool = False
) -> keras.Model:
    """The ToneNet that a handle names, built from the handle's own config.

    The one way keras_tone's command line and evaluation turn a `--weights`
    value into a model.

    Args:
        handle: a preset name (`keras_tone.list_presets()`),
            `"hf://owner/repo[@revision]"`, a preset folder, a `.weights.h5`
            file (with the `config.json` beside it, if any), a `.keras` file
            saved with `model.save`, or a `keras.Model` (returned as is).
        speaker_context: build the model with the `"speaker_context"` input.

    Returns:
        A waveform `keras.Model` with its classifier.

    Raises:
        ValueError: a `keras.Model` or `.keras` file whose inputs do not match
            `speaker_context`.

    Example:
        >>> from keras_tone import load_model
        >>> load_model("blcu-5tone").output_shape
        (None, 5)
        >>> tuple(t.name for t in load_model("blcu", speaker_context=True).inputs)
        ('waveform', 'speaker_context')
    """
    if isinstance(handle, keras.Model) or str(handle).endswith(".keras"):
        model = handle if isinstance(handle, keras.Model) else keras.models.load_model(handle)
        if (len(model.inputs) == 2) != speaker_context:
            raise ValueError(
                f"The model {model.name!r} takes {len(model.inputs)} input(s); with "
                "speaker_context=True it must take two (waveform, speaker_context), "
                "without it one (waveform). "
                f"Received: speaker_context={speaker_context}"
            )
        return model
    return ToneNet(weights=handle, speaker_context=speaker_context)


def model_sample_rate(model: keras.Model) -> int:
    """The sampling rate that a waveform model's front end expects, in Hz.

    Example:
        >>> from keras_tone import ToneNet
        >>> from keras_tone.tonenet import model_sample_rate
        >>> model_sample_rate(ToneNet(weights=None, sample_rate=22050))
        22050
    """
    for layer in model.layers:
        rate = getattr(layer, "sample_rate", None)
        if rate is not None:
            return int(rate)
    raise ValueError(
        f"The model {model.name!r} has no front end, so it does not take waveforms "
        "(a ToneNet built with include_preprocessing=False?). "
        f"Received: model.input_shape={model.input_shape}"
    )


def _model_config(
    resolved: ResolvedWeights | None,
    weights: Any,
    *,
    config: ToneNetConfig | None,
    classes: int | None,
    sample_rate: int | None,
    include_top: bool,
) -> ToneNetConfig:
    """The config to build: the preset's, or `config`, with the arguments applied."""
    trained = resolved.config if resolved is not None else None
    if trained is None:
        config = ToneNetConfig() if config is None else config
        if classes is not None and classes != config.classes:
            config = replace(config, classes=classes, class_names=None)
        if sample_rate is not None:
            config = replace(config, sample_rate=sample_rate)
        return config
    if config is not None and config != trained:
        raise ValueError(
            f"The weights {str(weights)!r} come with their own config; pass config=None to "
            f"use it. It differs in: {'; '.join(trained.differences(config))}. "
            f"Received: config={config!r}"
        )
    if include_top and classes is not None and classes != trained.classes:
        raise ValueError(
            f"The weights {str(weights)!r} have a {trained.classes}-class head "
            f"({', '.join(trained.class_names)}). Use classes=None (the preset's), or "
            "include_top=False to reuse the backbone under a head of your own. "
            f"Received: classes={classes}"
        )
    if sample_rate is not None and sample_rate != trained.sample_rate:
        raise ValueError(
            f"The weights {str(weights)!r} were trained on {trained.sample_rate} Hz audio. "
            f"Resample your audio to {trained.sample_rate} Hz instead "
            f"(keras_tone.load_audio(path, sample_rate={trained.sample_rate})). "
            f"Received: sample_rate={sample_rate}"
        )
    return trained


def _conv_block(x: Any, filters: int, pool: tuple[int, int], *, name: str) -> Any:
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(
            x
        )
        x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return keras.layers.MaxPooling2D(pool, name=f"{name}_pool")(x)


def transfer_weights(source: keras.Model, target: keras.Model) -> keras.Model:
    """Give each layer of `target` that has weights those of `source`'s layer of the same name.

    ToneNets built from one config name their layers alike whatever their
    inputs: the training model (images in), the waveform model, with or
    without the speaker context, and the headless backbone.

    Returns:
        `target`.

    Raises:
        ValueError: `source` has no layer of that name.

    Example:
        >>> from keras_tone import ToneNet
        >>> from keras_tone.tonenet import transfer_weights
        >>> trained = ToneNet(weights=None, include_preprocessing=False)
        >>> waveform_model = transfer_weights(trained, ToneNet(weights=None))
        >>> import numpy as np
        >>> layer = waveform_model.get_layer("fc")
        >>> np.array_equal(layer.get_weights()[0], trained.get_layer("fc").get_weights()[0])
        True
    """
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
    return target


def _load_backbone(
    model: keras.Model,
    resolved: ResolvedWeights,
    config: ToneNetConfig,
    include_preprocessing: bool,
) -> None:
    """Load full-model weights into a headless model, layer by layer by name."""
    full = ToneNet(weights=None, include_preprocessing=include_preprocessing, config=config)
    full.load_weights(resolved.path)
    transfer_weights(full, model)


def _check_input_shape(
    shape: tuple, include_preprocessing: bool, feature_shape: tuple[int, int]
) -> None:
    if include_preprocessing:
        if len(shape) != 1 or (shape[0] is not None and shape[0] < 1):
            raise ValueError(
                "With include_preprocessing=True the input is a mono waveform: "
                f"input_shape must be (samples,) or (None,). Received: input_shape={shape}"
            )
    elif shape != feature_shape:
        raise ValueError(
            "With include_preprocessing=False the input is the log-mel image: input_shape "
            f"must be {feature_shape}. Received: input_shape={shape}"
        )


__all__ = [
    "ToneNet",
    "ToneNetModel",
    "ensemble",
    "load_model",
    "model_sample_rate",
    "transfer_weights",
]
