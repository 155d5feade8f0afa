"""ToneNet as a Keras application: arguments, shapes, saving, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import signals

import keras_tone
from keras_tone import ToneNet, ToneNetConfig, prepare_batch
from keras_tone._keras import keras
from keras_tone.weights import UnregisteredWeightsWarning, save_preset

pytestmark = pytest.mark.filterwarnings("ignore::keras_tone.weights.UnregisteredWeightsWarning")


def _clips(count: int, seed: int = 0) -> list[np.ndarray]:
    """Voiced syllables of lengths between 0.2 s and 3 s, at varied pitch and level."""
    rng = np.random.default_rng(seed)
    clips = []
    for i in range(count):
        seconds = rng.uniform(0.2, 2.9)
        clip = signals.voiced_syllable(
            i % 4 + 1,
            seconds=min(seconds, 0.8),
            pitch_scale=rng.uniform(0.5, 1.5),
            lead_silence=max(seconds - 0.85, 0.0) * rng.uniform(0, 1),
            gain=rng.uniform(0.01, 0.9),
        )
        clips.append(clip)
    return clips


@pytest.fixture(scope="module")
def model():
    return ToneNet(weights=None)


COMBINATIONS = list(itertools.product([True, False], [True, False], [None, "avg", "max"], [4, 5]))


@pytest.mark.parametrize("include_top, include_preprocessing, pooling, classes", COMBINATIONS)
def test_builds_for_every_documented_combination(
    include_top, include_preprocessing, pooling, classes
):
    model = ToneNet(
        weights=None,
        include_top=include_top,
        include_preprocessing=include_preprocessing,
        pooling=pooling,
        classes=classes,
    )
    assert isinstance(model, keras.Model)
    assert model.count_params() < 5_000_000
    if include_preprocessing:
        assert model.input_shape == (None, None)
    elif include_top:  # the images of the front end: log-mel and pitch salience
        assert model.input_shape == [(None, 32, 80), (None, 32, 87)]
    else:
        assert model.input_shape == (None, 32, 80)
    if include_top:
        assert model.output_shape == (None, classes)
    elif pooling is None:
        assert model.output_shape == (None, 8, 10, 64)
    else:
        assert model.output_shape == (None, 64)


def test_parameter_count_is_compact(model):
    print(f"ToneNet parameters: {model.count_params():,}")
    assert model.count_params() < 1_000_000


def test_fixed_input_shape_and_input_tensor():
    fixed = ToneNet(weights=None, input_shape=(16000,))
    assert fixed.input_shape == (None, 16000)
    tensor = keras.Input((8000,), name="audio")
    model = ToneNet(weights=None, input_tensor=tensor)
    assert model.input_shape == (None, 8000)


def test_classifier_activation_none_gives_logits():
    model = ToneNet(weights=None, classifier_activation=None)
    out = model.predict(np.stack(_clips(4)[:1] * 2), verbose=0)
    assert not np.allclose(out.sum(axis=1), 1.0)


def test_predict_on_clips_of_any_length(model):
    clips = _clips(32)
    lengths = [c.size / 16000 for c in clips]
    assert min(lengths) < 0.45 and max(lengths) > 2.0
    probs = model.predict(prepare_batch(clips), verbose=0)
    assert probs.shape == (32, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(probs >= 0)


def test_padding_does_not_change_a_prediction(model):
    clip = _clips(1)[0]
    alone = model.predict(clip[None], verbose=0)
    padded = model.predict(prepare_batch([clip, np.ones(48000, np.float32) * 0.1]), verbose=0)
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-5)


def test_keras_file_roundtrip(model, tmp_path):
    batch = prepare_batch(_clips(8, seed=1))
    path = tmp_path / "tonenet.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(batch, verbose=0), model.predict(batch, verbose=0), atol=1e-6
    )


def test_load_model_takes_every_handle(model, tmp_path):
    from keras_tone import load_model

    assert load_model(model) is model
    model.save(tmp_path / "tonenet.keras")
    batch = prepare_batch(_clips(2, seed=3))
    np.testing.assert_allclose(
        load_model(tmp_path / "tonenet.keras").predict(batch, verbose=0),
        model.predict(batch, verbose=0),
        atol=1e-6,
    )
    save_preset(model, tmp_path / "preset", config=ToneNetConfig(), card="# test\n")
    with pytest.warns(UnregisteredWeightsWarning):
        assert load_model(str(tmp_path / "preset")).output_shape == (None, 4)
    assert load_model("blcu-5tone").output_shape == (None, 5)


def test_headless_embeddings(model):
    embed = ToneNet(weights=None, include_top=False, pooling="avg")
    out = embed.predict(prepare_batch(_clips(3)), verbose=0)
    assert out.shape == (3, 64)


def test_local_weights_file_roundtrip(model, tmp_path):
    save_preset(model, tmp_path, config=ToneNetConfig(), card="# test\n")
    batch = prepare_batch(_clips(4, seed=2))
    with pytest.warns(UnregisteredWeightsWarning, match="match no registered preset"):
        loaded = ToneNet(weights=tmp_path / "model.weights.h5")
    np.testing.assert_allclose(
        loaded.predict(batch, verbose=0), model.predict(batch, verbose=0), atol=1e-6
    )
    # the backbone of the same file, without the head
    headless = ToneNet(weights=tmp_path / "model.weights.h5", include_top=False)
    np.testing.assert_array_equal(
        headless.get_layer("block3_conv2").get_weights()[0],
        model.get_layer("block3_conv2").get_weights()[0],
    )


def test_pretrained_head_needs_its_number_of_classes(model, tmp_path):
    save_preset(model, tmp_path, config=ToneNetConfig(), card="# test\n")
    with pytest.raises(ValueError, match="4-class head.*Received: classes=5$"):
        ToneNet(weights=tmp_path / "model.weights.h5", classes=5)
    ToneNet(weights=tmp_path / "model.weights.h5", classes=5, include_top=False)
    assert ToneNet(weights=tmp_path, classes=4).output_shape == (None, 4)


def test_pretrained_weights_need_their_sample_rate(model, tmp_path):
    save_preset(model, tmp_path, config=ToneNetConfig(), card="# test\n")
    with pytest.raises(ValueError, match="trained on 16000 Hz audio.*Received: sample_rate=22050$"):
        ToneNet(weights=tmp_path / "model.weights.h5", sample_rate=22050)


def test_preset_config_builds_the_model(tmp_path):
    """A preset's config.json, not the caller, decides what is built."""
    config = ToneNetConfig(classes=5, sample_rate=22050)
    model = ToneNet(weights=None, config=config)
    assert model.output_shape == (None, 5)
    save_preset(model, tmp_path, config=config, card="# test\n")
    loaded = ToneNet(weights=tmp_path)
    assert loaded.output_shape == (None, 5)
    assert loaded.get_layer("front_end").sample_rate == 22050
    with pytest.raises(ValueError, match="come with their own config.*sample_rate: 22050 -> 16000"):
        ToneNet(weights=tmp_path, config=ToneNetConfig(classes=5))


def test_save_preset_refuses_a_config_of_another_head(model, tmp_path):
    with pytest.raises(ValueError, match=r"Received: model.output_shape=\(None, 4\)"):
        save_preset(model, tmp_path, config=ToneNetConfig(classes=5), card="# test\n")


def test_a_config_without_members_is_one_network():
    """Configs written before ensembles (the 0.2.0 presets) still load."""
    from dataclasses import replace

    plain = ToneNetConfig().to_dict()
    assert "members" not in plain["architecture"]
    assert ToneNetConfig.from_dict(plain).architecture.members == 1
    config = ToneNetConfig()
    config = replace(config, architecture=replace(config.architecture, members=3))
    plain = config.to_dict()
    assert plain["architecture"]["members"] == 3
    assert ToneNetConfig.from_dict(plain) == config
    plain["architecture"].pop("dropout")
    with pytest.raises(ValueError, match=r"missing keys \['dropout'\]"):
        ToneNetConfig.from_dict(plain)


def test_arguments_change_the_default_config():
    model = ToneNet(weights=None, classes=7, sample_rate=22050)
    assert model.output_shape == (None, 7)
    front_end = model.get_layer("front_end")
    assert front_end.config.sample_rate == 22050
    assert front_end.config.class_names[-1] == "class 7"


def test_predict_on_one_waveform_names_the_expected_shape(model):
    clip = _clips(1)[0]
    with pytest.raises(ValueError, match=r"\[batch, samples\].*Received: x.shape=\(\d+,\)"):
        model.predict(clip, verbose=0)
    assert model.predict(clip[None], verbose=0).shape == (1, 4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(pooling="mean"), "pooling must be.*Received: pooling='mean'"),
        (dict(classes=0), "classes must be a positive integer. Received: classes=0"),
        (dict(sample_rate=4000), "sample_rate must be at least.*Received: sample_rate=4000"),
        (dict(input_shape=(16000, 2)), r"input_shape must be \(samples,\)"),
        (
            dict(include_preprocessing=False, input_shape=(40, 80)),
            r"must be \(32, 80\). Received: input_shape=\(40, 80\)",
        ),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ToneNet(weights=None, **kwargs)


def test_missing_weights_file():
    with pytest.raises(FileNotFoundError):
        ToneNet(weights="/nonexistent/model.weights.h5")


# ---- bad input, end to end through prepare_batch and the model -----------------------


def test_int16_pcm_is_scaled(model):
    clip = _clips(1)[0]
    pcm = np.round(clip * 32767).astype(np.int16)
    np.testing.assert_allclose(
        model.predict(prepare_batch([pcm]), verbose=0),
        model.predict(prepare_batch([clip]), verbose=0),
        atol=1e-3,
    )


def test_stereo_is_downmixed(model):
    clip = _clips(1)[0]
    stereo = np.stack([clip, clip], axis=1)
    np.testing.assert_allclose(prepare_batch([stereo]), prepare_batch([clip]))


def test_other_sample_rates_are_resampled(model):
    import librosa

    clip = _clips(1)[0]
    at_44k = librosa.resample(clip, orig_sr=16000, target_sr=44100)
    batch = prepare_batch([at_44k], sample_rate=44100)
    assert abs(batch.shape[1] - clip.size) <= 2
    np.testing.assert_allclose(
        model.predict(batch, verbose=0), model.predict(clip[None], verbose=0), atol=0.02
    )


@pytest.mark.parametrize(
    "clip, message",
    [
        (np.zeros(0, np.float32), "empty"),
        (np.zeros(16000, np.float32), "silent"),
        (np.array([0.1, np.nan] * 800, np.float32), "NaN or Inf"),
        (np.array([0.1, np.inf] * 800, np.float32), "NaN or Inf"),
        (np.zeros((2, 2, 100), np.float32), "expected a waveform"),
        (np.ones(16000 * 3600, np.float32) * 0.1, "3600.0 s long"),
    ],
    ids=["empty", "all-zero", "nan", "inf", "rank-3", "one-hour"],
)
def test_prepare_batch_refuses_clearly(clip, message):
    with pytest.raises(ValueError, match=message):
        prepare_batch([clip])


def test_model_given_int_pcm_directly_gives_the_scaled_result(model):
    """The model's float32 input casts int16; loudness normalisation makes scale irrelevant."""
    clip = _clips(1)[0]
    pcm = np.round(clip * 32767).astype(np.int16)
    np.testing.assert_allclose(model(pcm[None]).numpy(), model(clip[None]).numpy(), atol=1e-3)


def test_model_refuses_stereo_at_the_door(model):
    """Keras's input check names the shape; prepare_batch is the documented way to downmix."""
    with pytest.raises(ValueError, match=r"Expected shape \(None, None\).*\(1, 16000, 2\)"):
        model(np.zeros((1, 16000, 2), np.float32))


def test_all_zero_clip_through_the_model_is_defined(model):
    """Straight into the model (not via prepare_batch), silence gives finite probabilities."""
    probs = model.predict(np.zeros((1, 16000), np.float32), verbose=0)
    assert np.all(np.isfinite(probs)) and abs(probs.sum() - 1) < 1e-5


def test_nan_or_inf_gives_nan_probabilities_not_an_answer(model):
    """model.predict runs as a graph, where check_waveforms cannot raise: NaN out, per example."""
    clips = prepare_batch(_clips(4, seed=2))
    bad = clips.copy()
    bad[0, 500] = np.nan  # one NaN sample in the clip
    bad[2, 7] = -np.inf
    probs = model.predict(bad, verbose=0)
    assert np.isnan(probs[[0, 2]]).all()
    np.testing.assert_allclose(probs[[1, 3]], model.predict(clips, verbose=0)[[1, 3]], atol=1e-6)
    with pytest.raises(ValueError, match="NaN or Inf"):
        model(bad)  # eager calls check the values and refuse


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(include_top=False, pooling="max"),
        dict(include_top=False, pooling=None),
        dict(include_preprocessing=False),
        dict(include_preprocessing=False, include_top=False, pooling="avg"),
        dict(speaker_context=True),
    ],
    ids=["headless max", "feature map", "log-mel input", "log-mel headless", "context"],
)
def test_nan_propagates_in_every_configuration(kwargs):
    model = ToneNet(weights=None, **kwargs)
    rng = np.random.default_rng(0)
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    x = [rng.uniform(0, 0.1, (3, *(d or 16000 for d in s[1:]))).astype("float32") for s in shapes]
    x[0][1].flat[5] = np.nan  # the first input: waveform or log-mel image
    if len(x) > 1:
        x[-1][2].flat[3] = np.inf  # the last: salience image or speaker context
    out = model.predict(x if len(x) > 1 else x[0], verbose=0)
    bad = [1, 2] if len(x) > 1 else [1]
    good = [i for i in range(3) if i not in bad]
    assert np.isnan(out[bad]).all() and np.isfinite(out[good]).all()


def test_public_api():
    for name in keras_tone.__all__:
        assert getattr(keras_tone, name).__doc__, name
