"""ToneNet: a compact CNN over the log-mel image of one Mandarin syllable."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from keras_tone._keras import keras
from keras_tone.config import ToneNetConfig
from keras_tone.frontend import FrontEnd
from keras_tone.weights import ResolvedWeights, resolve_weights

#: The handle types that `ToneNet(weights=...)` and `load_model` accept.
WeightsHandle = str | os.PathLike


@keras.utils.register_keras_serializable(package="keras_tone")
class ToneNetModel(keras.Model):
    """The functional model that `ToneNet` returns.

    A `keras.Model` like any other; it only checks the rank of what
    `predict` receives, so that one waveform `[samples]` passed where a batch
    `[batch, samples]` is expected gets a clear error instead of being read
    as a batch of single samples.
    """

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        rank = len(self.input_shape)
        if len(getattr(x, "shape", (None,) * rank)) == rank - 1:
            expected = "[batch, samples]" if rank == 2 else "[batch, frames, n_mels]"
            raise ValueError(
                f"{self.name} takes a batch of shape {expected}; this input has no batch "
                "axis. For one clip pass `x[None]`, or `keras_tone.prepare_batch([clip])`. "
                f"Received: x.shape={tuple(x.shape)}"
            )
        return super().predict(x, *args, **kwargs)


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
) -> keras.Model:
    """Instantiate ToneNet, a Mandarin tone classifier over raw waveforms.

    ToneNet classifies the lexical tone of one spoken Mandarin syllable. It
    takes mono float waveforms `[batch, samples]` of any length, zero-padded
    at the end (`keras_tone.prepare_batch` makes such a batch), and returns
    the probability of each tone. The whole front end runs inside the model
    (`keras_tone.frontend.FrontEnd`): a high-pass against DC offset and
    rumble, silence trimming, loudness normalisation, a fixed duration, and a
    log-mel image. Three blocks of two 3x3 convolutions (batch normalisation
    and ReLU after each, then max pooling) follow, and a top that takes the
    maximum over the mel axis, then a dense layer with dropout and the
    classifier. After Gao, Sun and Yang, "ToneNet: A CNN Model of Tone
    Classification of Mandarin Chinese" (Interspeech 2019), smaller; the
    documentation's design page says where it departs from the paper and
    why. Every setting is in its `keras_tone.config.ToneNetConfig`, which a
    pretrained preset brings along (`config.json`).

    Args:
        weights: `None` (random initialisation); the name of a pretrained
            preset (`keras_tone.list_presets()`; `"blcu"` by default);
            `"hf://owner/repo[@revision]"` for a preset of your own on the
            Hugging Face Hub; or the path of a preset folder or of a
            `.weights.h5` file. A preset brings its config: the classes,
            sampling rate, front end and architecture are the preset's.
        include_top: whether to include the classifier.
        include_preprocessing: whether the model takes raw waveforms (`True`)
            or the log-mel images `[batch, frames, n_mels]` of
            `FrontEnd(config)` that you computed yourself (`False`).
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: shape of one example without the batch axis:
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

    Returns:
        A `keras.Model` (a `ToneNetModel`).

    Input shape:
        `[batch, samples]` float waveforms in [-1, 1] at `sample_rate`
        (`[batch, frames, n_mels]` with `include_preprocessing=False`).

    Output shape:
        `[batch, classes]` probabilities with `include_top=True`; else
        `[batch, 8, 10, 64]` feature maps, or `[batch, 64]` with `pooling`.

    Example:
        >>> import numpy as np
        >>> from keras_tone import ToneNet
        >>> model = ToneNet(weights=None)
        >>> clips = np.random.default_rng(0).normal(0, 0.1, (2, 12000)).astype("float32")
        >>> model.predict(clips, verbose=0).shape
        (2, 4)
        >>> ToneNet(weights=None, include_top=False, pooling="avg").output_shape
        (None, 64)
        >>> ToneNet(weights="blcu-5tone").output_shape
        (None, 5)
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
    frames, n_mels = config.feature_shape()
    default_shape = (None,) if include_preprocessing else (frames, n_mels)
    input_shape = default_shape if input_shape is None else tuple(input_shape)
    _check_input_shape(input_shape, include_preprocessing, (frames, n_mels))

    if input_tensor is None:
        inputs = keras.Input(
            shape=input_shape, name="waveform" if include_preprocessing else "log_mel"
        )
    else:
        inputs = input_tensor
    x = inputs
    if include_preprocessing:
        x = FrontEnd(config, name="front_end")(x)
    x = keras.layers.Reshape((frames, n_mels, 1), name="image")(x)
    x = keras.layers.Rescaling(1.0 / 40.0, offset=0.5, name="db_scale")(x)
    architecture = config.architecture
    blocks = zip(architecture.block_filters, architecture.block_pools, strict=True)
    for block, (filters, pool) in enumerate(blocks, start=1):
        x = _conv_block(x, filters, pool, name=f"block{block}")

    if include_top:
        x = keras.layers.MaxPooling2D(pool_size=(1, x.shape[2]), name="mel_max")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(architecture.dense_units, activation="relu", name="fc")(x)
        x = keras.layers.Dropout(architecture.dropout, name="dropout")(x)
        x = keras.layers.Dense(
            config.classes, activation=classifier_activation, name="predictions"
        )(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)

    if input_tensor is not None:
        inputs = keras.utils.get_source_inputs(input_tensor)
    model = ToneNetModel(inputs, x, name=name)
    if resolved is not None:
        if include_top:
            model.load_weights(resolved.path)
        else:
            _load_backbone(model, resolved, config, include_preprocessing)
    return model


def load_model(handle: WeightsHandle | keras.Model) -> keras.Model:
    """The ToneNet that a handle names, built from the handle's own config.

    The one way keras_tone's command line and evaluation turn a `--weights`
    value into a model.

    Args:
        handle: a preset name (`keras_tone.list_presets()`),
            `"hf://owner/repo[@revision]"`, a preset folder, a `.weights.h5`
            file (with the `config.json` beside it, if any), a `.keras` file
            saved with `model.save`, or a `keras.Model` (returned as is).

    Returns:
        A waveform `keras.Model` with its classifier.

    Example:
        >>> from keras_tone import load_model
        >>> load_model("blcu-5tone").output_shape
        (None, 5)
    """
    if isinstance(handle, keras.Model):
        return handle
    if str(handle).endswith(".keras"):
        return keras.models.load_model(handle)
    return ToneNet(weights=handle)


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


def _load_backbone(
    model: keras.Model,
    resolved: ResolvedWeights,
    config: ToneNetConfig,
    include_preprocessing: bool,
) -> None:
    """Load full-model weights into a headless model, layer by layer by name."""
    full = ToneNet(weights=None, include_preprocessing=include_preprocessing, config=config)
    full.load_weights(resolved.path)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())


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


__all__ = ["ToneNet", "ToneNetModel", "load_model", "model_sample_rate"]
