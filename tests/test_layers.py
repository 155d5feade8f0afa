"""The in-graph front end against librosa, plus serialization and bad input."""

from __future__ import annotations

import re

import librosa
import numpy as np
import pytest
import signals
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras
from keras_tone.layers import (
    MFCC,
    HighPass,
    LogMelSpectrogram,
    PitchHistogram,
    PitchSalience,
    PowerSpectrogram,
    RelativePitch,
    SyllableNormalization,
)

#: Largest log-mel difference from librosa allowed above the top_db floor, in dB.
#: Measured: 1.9e-3 dB (the 16 kHz chirp at the recipe settings).
LOG_MEL_TOLERANCE_DB = 0.01
#: Largest MFCC difference allowed, relative to the range of librosa's coefficients.
#: Measured: 1.3e-6.
MFCC_TOLERANCE = 1e-3

RECIPE = dict(n_fft=1024, hop_length=512, n_mels=80, fmin=75.0, fmax=3700.0)
SETTINGS = {"librosa-defaults": {}, "recipe": RECIPE}


def _signals(sample_rate: int, espeak_clips) -> dict[str, np.ndarray]:
    spoken, _ = librosa.load(espeak_clips[3], sr=sample_rate)
    return {
        "chirp": signals.chirp(sample_rate),
        "white-noise": signals.white_noise(sample_rate),
        "silence-then-burst": signals.silence_then_burst(sample_rate),
        "voiced-tone-3": signals.voiced_syllable(3, sample_rate),
        "espeak-ma3": spoken.astype(np.float32),
    }


def _librosa_log_mel(y: np.ndarray, sr: int, **kwargs) -> np.ndarray:
    return librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, **kwargs)).T


@pytest.mark.parametrize("sample_rate", [16000, 22050])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_log_mel_matches_librosa(sample_rate, setting, espeak_clips):
    kwargs = SETTINGS[setting]
    layer = LogMelSpectrogram(sample_rate=sample_rate, **kwargs)
    worst = 0.0
    for name, y in _signals(sample_rate, espeak_clips).items():
        expected = _librosa_log_mel(y, sample_rate, **kwargs)
        actual = layer(y[None]).numpy()[0]
        assert actual.shape == expected.shape, name
        above_floor = expected > expected.max() - 80.0 + 1e-3
        error = np.abs(actual - expected)[above_floor].max()
        # at the floor both are clamped to (max - 80 dB), so they agree as the max does
        assert np.abs(actual - expected).max() < 0.05, name
        assert error < LOG_MEL_TOLERANCE_DB, (name, error)
        worst = max(worst, error)
    print(f"max log-mel error vs librosa ({setting}, {sample_rate} Hz): {worst:.2e} dB")


@pytest.mark.parametrize("sample_rate", [16000, 22050])
@pytest.mark.parametrize("lifter", [0.0, 22.0])
def test_mfcc_matches_librosa(sample_rate, lifter, espeak_clips):
    layer = MFCC(sample_rate=sample_rate, n_mfcc=20, lifter=lifter, **RECIPE)
    for name, y in _signals(sample_rate, espeak_clips).items():
        expected = librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=20, lifter=lifter, **RECIPE).T
        actual = layer(y[None]).numpy()[0]
        relative = np.abs(actual - expected).max() / np.ptp(expected)
        assert relative < MFCC_TOLERANCE, (name, relative)


def test_mfcc_librosa_defaults(espeak_clips):
    y = _signals(22050, espeak_clips)["espeak-ma3"]
    expected = librosa.feature.mfcc(y=y, sr=22050).T
    actual = MFCC()(y[None]).numpy()[0]
    assert np.abs(actual - expected).max() / np.ptp(expected) < MFCC_TOLERANCE


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None])
def test_mel_filterbank_matches_librosa(htk, norm):
    ours = dsp.mel_filterbank(
        sample_rate=16000, n_fft=1024, n_mels=80, fmin=75, fmax=3700, htk=htk, norm=norm
    )
    theirs = librosa.filters.mel(
        sr=16000, n_fft=1024, n_mels=80, fmin=75, fmax=3700, htk=htk, norm=norm
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("window", dsp.WINDOWS)
def test_window_matches_librosa(window):
    theirs = librosa.util.pad_center(
        librosa.filters.get_window("boxcar" if window == "ones" else window, 400, fftbins=True),
        size=512,
    )
    np.testing.assert_allclose(dsp.get_window(window, 400, 512), theirs, atol=1e-12)


def test_options_match_librosa():
    y = signals.chirp(16000)
    kwargs = dict(
        n_fft=512,
        hop_length=160,
        win_length=400,
        window="hamming",
        power=1.0,
        n_mels=40,
        htk=True,
        norm=None,
    )
    layer = LogMelSpectrogram(sample_rate=16000, ref="max", top_db=60.0, amin=1e-5, **kwargs)
    expected = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=16000, **kwargs), ref=np.max, amin=1e-5, top_db=60.0
    ).T
    np.testing.assert_allclose(layer(y[None]).numpy()[0], expected, atol=LOG_MEL_TOLERANCE_DB)


def test_center_false_matches_librosa():
    y = signals.white_noise(16000)
    layer = LogMelSpectrogram(sample_rate=16000, center=False, **RECIPE)
    expected = _librosa_log_mel(y, 16000, center=False, **RECIPE)
    np.testing.assert_allclose(layer(y[None]).numpy()[0], expected, atol=LOG_MEL_TOLERANCE_DB)


def test_top_db_is_per_example():
    """A quiet clip's features do not depend on a loud neighbour in the batch."""
    quiet = 0.001 * signals.voiced_syllable(2, seconds=0.5, lead_silence=0.0)
    loud = 0.9 * signals.white_noise(16000, seconds=quiet.size / 16000)
    layer = LogMelSpectrogram(sample_rate=16000, **RECIPE)
    alone = layer(quiet[None]).numpy()[0]
    batched = layer(np.stack([quiet, loud])).numpy()[0]
    np.testing.assert_allclose(batched, alone, atol=1e-4)


def test_batch_and_single_clip_agree():
    batch = np.stack([signals.chirp(16000), signals.white_noise(16000)])
    layer = MFCC(sample_rate=16000, **RECIPE)
    np.testing.assert_allclose(layer(batch).numpy()[1], layer(batch[1]).numpy(), atol=1e-4)


@pytest.mark.parametrize("samples", [1, 100, 1023, 16000, 16001])
def test_output_shape(samples):
    layer = LogMelSpectrogram(sample_rate=16000, **RECIPE)
    out = layer(np.zeros((1, samples), np.float32))
    assert tuple(out.shape) == layer.compute_output_shape((1, samples))
    assert out.shape[1] == 1 + samples // 512


def _model(layer: keras.layers.Layer) -> keras.Model:
    inputs = keras.Input((16000,))
    return keras.Model(inputs, layer(inputs))


@pytest.mark.parametrize(
    "layer",
    [
        LogMelSpectrogram(sample_rate=16000, ref="max", **RECIPE),
        MFCC(sample_rate=16000, n_mfcc=13, lifter=22.0, **RECIPE),
        SyllableNormalization(sample_rate=16000, duration=0.5),
        HighPass(sample_rate=16000, cutoff_hz=80.0, taps=511),
        PitchSalience(sample_rate=16000, fmin=60.0, fmax=500.0, harmonics=8, decay=0.9),
        PowerSpectrogram(sample_rate=16000, n_fft=1024, hop_length=512, first_bin=5, last_bin=40),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_keras_file_roundtrip(layer, tmp_path):
    model = _model(layer)
    voiced = signals.voiced_syllable(4, 16000)
    x = np.stack([np.pad(voiced, (0, 16000 - voiced.size)), signals.white_noise(16000)])
    path = tmp_path / "front_end.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_config_stores_resolved_values():
    config = LogMelSpectrogram(sample_rate=16000, n_fft=400).get_config()
    assert config["hop_length"] == 100 and config["win_length"] == 400
    assert config["fmax"] == 8000.0


@pytest.mark.parametrize("jit_compile", [False, True])
def test_runs_in_tf_function(jit_compile):
    layer = MFCC(sample_rate=16000, **RECIPE)
    x = tf.constant(np.stack([signals.chirp(16000), signals.white_noise(16000)]))
    eager = layer(x).numpy()
    traced = tf.function(lambda t: layer(t), jit_compile=jit_compile)(x).numpy()
    np.testing.assert_allclose(traced, eager, atol=2e-3)


def test_runs_in_tf_data_map():
    layer = LogMelSpectrogram(sample_rate=16000, **RECIPE)
    clips = np.stack([signals.chirp(16000), signals.white_noise(16000)])
    dataset = tf.data.Dataset.from_tensor_slices(clips).batch(2).map(layer)
    (features,) = list(dataset)
    np.testing.assert_allclose(features.numpy(), layer(clips).numpy(), atol=1e-4)


def test_mixed_precision_computes_in_float32():
    x = signals.chirp(16000)[None]
    reference = LogMelSpectrogram(sample_rate=16000, **RECIPE)(x).numpy()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = LogMelSpectrogram(sample_rate=16000, **RECIPE)
        out = layer(x)
    finally:
        keras.config.set_dtype_policy(previous)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), reference, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "mixed_bfloat16"])
def test_low_precision_dtype_refused(dtype):
    with pytest.raises(ValueError, match="computes in float32"):
        LogMelSpectrogram(dtype=dtype)


BAD_INPUTS = {
    "int16 PCM": (np.zeros((1, 16000), np.int16), "dtype int16"),
    "rank 3 stereo": (np.zeros((1, 16000, 2), np.float32), "multichannel"),
    "rank 4": (np.zeros((1, 2, 3, 16000), np.float32), "rank 4"),
    "channel-last": (np.zeros((16000, 2), np.float32), "channel-last"),
    "empty": (np.zeros((2, 0), np.float32), "empty"),
    "NaN": (np.array([[0.0, np.nan] * 800], np.float32), "NaN or Inf"),
    "Inf": (np.array([[0.0, np.inf] * 800], np.float32), "NaN or Inf"),
}


@pytest.mark.parametrize(
    "layer_type", [LogMelSpectrogram, MFCC, SyllableNormalization, HighPass, PitchSalience]
)
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_clearly(layer_type, case):
    x, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        layer_type(sample_rate=16000)(x)


def test_wrong_sample_rate_is_refused():
    layer = LogMelSpectrogram(sample_rate=16000)
    message = "built for sample_rate=16000 Hz but received audio at 44100"
    with pytest.raises(ValueError, match=message):
        layer(np.zeros((1, 44100), np.float32), sample_rate=44100)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_mels=0), "empty"),
        (dict(fmin=4000.0, fmax=3000.0), "fmin < fmax"),
        (dict(window="kaiser"), "window must be one of"),
        (dict(ref="min"), "ref must be"),
        (dict(top_db=-1.0), "top_db"),
        (dict(hop_length=0), "hop_length"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LogMelSpectrogram(sample_rate=16000, **kwargs)


def test_syllable_normalization_trims_levels_and_fits():
    clip = signals.voiced_syllable(1, lead_silence=0.4, gain=0.01)
    layer = SyllableNormalization(sample_rate=16000, duration=1.0, target_rms_db=-20.0)
    out = layer(clip[None]).numpy()[0]
    assert out.shape == (16000,)
    voiced = out[np.abs(out) > 0]
    # the syllable starts within one analysis frame of the output's start
    assert np.flatnonzero(out)[0] < 512
    rms_db = 10 * np.log10(np.mean(voiced**2))
    assert abs(rms_db - (-20.0)) < 0.5
    # the same clip louder, later and padded with zeros gives (nearly) the same output
    shifted = np.concatenate([np.zeros(3000, np.float32), 20 * clip, np.zeros(9000, np.float32)])
    again = layer(shifted[None]).numpy()[0]
    log_mel = LogMelSpectrogram(sample_rate=16000, **RECIPE)
    images = log_mel(np.stack([out, again])).numpy()
    assert np.corrcoef(images[0].ravel(), images[1].ravel())[0, 1] > 0.99


def test_syllable_normalization_ends_with_the_clip():
    """A syllable that runs to its clip's last sample takes none of the batch's padding."""
    clip = signals.voiced_syllable(2, seconds=0.5, lead_silence=0.1)[:-2000]  # ends loud
    layer = SyllableNormalization(sample_rate=16000, max_duration=2.0)
    alone, length = layer.segment(clip[None])
    padded_clip = np.pad(clip, (0, 20000))
    batch = np.stack([padded_clip, signals.white_noise(16000, 2.0)[: padded_clip.size]])
    padded, lengths = layer.segment(batch)
    assert int(lengths[0]) == int(length[0]) and padded.shape[1] > alone.shape[1]
    np.testing.assert_allclose(padded[0, : alone.shape[1]], alone[0], atol=1e-6)
    assert not np.asarray(padded[0, alone.shape[1] :]).any()


def test_syllable_normalization_keeps_silence_silent():
    out = SyllableNormalization(sample_rate=16000)(np.zeros((2, 5000), np.float32)).numpy()
    assert out.shape == (2, 16000) and not out.any()


def test_syllable_normalization_short_and_long_clips():
    layer = SyllableNormalization(sample_rate=16000, duration=0.5)
    short = layer(np.full((1, 10), 0.1, np.float32))
    long = layer(signals.white_noise(16000, seconds=3.0)[None])
    assert short.shape == (1, 8000) and long.shape == (1, 8000)
    assert np.abs(long.numpy()).min() > 0  # cut at the output length, not padded


@pytest.mark.parametrize("samples", [1, 31, 1000, 16001])
def test_high_pass_equals_direct_convolution(samples):
    x = signals.white_noise(16000, seconds=samples / 16000)[None]
    kernel = dsp.highpass_fir(sample_rate=16000, cutoff_hz=60.0, taps=1023)
    expected = np.convolve(x[0], kernel, mode="full")[511 : 511 + samples]
    np.testing.assert_allclose(HighPass(sample_rate=16000)(x).numpy()[0], expected, atol=2e-5)


def test_high_pass_removes_dc_and_rumble_keeps_voice():
    t = np.arange(16000) / 16000
    rumble = 0.3 + 0.2 * np.sin(2 * np.pi * 20 * t)
    voice = 0.1 * np.sin(2 * np.pi * 200 * t)
    out = HighPass(sample_rate=16000)((rumble + voice).astype(np.float32)[None]).numpy()[0]
    middle = slice(2000, 14000)
    np.testing.assert_allclose(out[middle], voice[middle], atol=0.01)


@pytest.mark.parametrize("kwargs", [dict(taps=1024), dict(cutoff_hz=9000.0)])
def test_high_pass_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        HighPass(sample_rate=16000, **kwargs)


# --------------------------------------------------------------------------- pitch layers


@pytest.mark.parametrize("samples", [1, 100, 1023, 16000, 16001])
def test_pitch_salience_output_shape(samples):
    layer = PitchSalience(sample_rate=16000)
    out = layer(np.zeros((1, samples), np.float32))
    assert tuple(out.shape) == layer.compute_output_shape((1, samples))
    assert out.shape == (1, 1 + samples // 512, 87)
    np.testing.assert_array_equal(layer.candidates, dsp.pitch_candidates(50.0, 600.0, 0.5))
    assert layer(np.zeros(samples, np.float32)).shape == (1 + samples // 512, 87)  # one clip


def test_pitch_histogram_and_relative_pitch_output_shapes():
    salience = np.random.default_rng(0).uniform(size=(3, 20, 87)).astype(np.float32)
    context = np.ones((3, 87), np.float32)
    histogram = PitchHistogram()
    assert histogram(salience).shape == (3, 87) == histogram.compute_output_shape((3, 20, 87))
    relative = RelativePitch(window=10)
    expected = ((3, 20, 20), (3, 1))
    for extra in ([], [context]):
        out = relative(salience, *extra)
        assert tuple(tuple(t.shape) for t in out) == expected
        assert relative.compute_output_shape((3, 20, 87), *[c.shape for c in extra]) == expected


def test_relative_pitch_is_zero_beyond_the_candidates():
    """A reference near the lowest candidate: the window's positions below it are zeros."""
    salience = np.zeros((1, 2, 40), np.float32)
    salience[0, :, 0], salience[0, :, 1] = 0.5, 1.0  # peak at candidate 1, some at candidate 0
    relative, _ = RelativePitch(window=4)(salience)
    assert relative.numpy()[0, 0].tolist() == [0.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0]


def _pitch_model(kind: str) -> keras.Model:
    waveforms = keras.Input((16000,), name="waveform")
    salience = PitchSalience(sample_rate=16000, fmax=400.0, name="pitch")(waveforms)
    if kind == "PitchHistogram":
        return keras.Model(waveforms, PitchHistogram(floor=0.3, name="histogram")(salience))
    layer = RelativePitch(window=12, floor=0.2, name="relative")
    if kind == "RelativePitch":
        return keras.Model(waveforms, layer(salience))
    context = keras.Input((salience.shape[-1],), name="context")
    return keras.Model([waveforms, context], layer(salience, context))


@pytest.mark.parametrize("kind", ["PitchHistogram", "RelativePitch", "RelativePitch+context"])
def test_pitch_layers_keras_file_roundtrip(kind, tmp_path):
    model = _pitch_model(kind)
    voiced = signals.voiced_syllable(4, 16000)
    x = np.stack([np.pad(voiced, (0, 16000 - voiced.size)), signals.white_noise(16000)])
    if kind.endswith("+context"):
        context = np.random.default_rng(0).uniform(size=(2, model.inputs[1].shape[-1]))
        x = [x, context.astype(np.float32)]
    path = tmp_path / "pitch.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    for got, expected in zip(
        keras.tree.flatten(reloaded.predict(x, verbose=0)),
        keras.tree.flatten(model.predict(x, verbose=0)),
        strict=True,
    ):
        np.testing.assert_array_equal(got, expected)
    first = keras.tree.flatten(model.predict(x, verbose=0))[0]
    assert np.abs(first).sum() > 1.0  # the histograms or the relative images are not empty
    layer = model.layers[-1]
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    stored = {"floor": 0.3} if kind == "PitchHistogram" else {"window": 12, "floor": 0.2}
    assert stored.items() <= layer.get_config().items()
    pitch = model.get_layer("pitch").get_config()
    assert type(model.get_layer("pitch")).from_config(pitch).get_config() == pitch
    assert pitch["fmax"] == 400.0 and pitch["harmonics"] == 12


@pytest.mark.parametrize(
    "layer_type, kwargs, message",
    [
        (PitchSalience, dict(decay=0.0), "0 < decay <= 1, harmonics >= 1 and compression > 0"),
        (PitchSalience, dict(decay=1.5), "Received: decay=1.5,"),
        (PitchSalience, dict(harmonics=0), "Received: decay=0.84, harmonics=0,"),
        (PitchSalience, dict(compression=0.0), "compression=0.0"),
        (PitchSalience, dict(min_frequency=9000.0), "Received: min_frequency=9000.0,"),
        (PitchSalience, dict(min_frequency=3000.0, max_frequency=3010.0), "leave no DFT bin"),
        (PitchSalience, dict(fmin=600.0, fmax=50.0), "Received: fmin=600.0, fmax=50.0"),
        (PitchSalience, dict(fmin=0.0), "Expected 0 < fmin < fmax. Received: fmin=0.0"),
        (PitchSalience, dict(step=0.0), "Received: step=0.0"),
        (PitchSalience, dict(hop_length=0), "Received: hop_length=0"),
        (PitchSalience, dict(dtype="float16"), "computes in float32"),
        (PitchHistogram, dict(floor=1.0), "floor must be in [0, 1). Received: floor=1.0"),
        (PitchHistogram, dict(floor=-0.1), "Received: floor=-0.1"),
        (RelativePitch, dict(window=0), "window must be a positive integer. Received: window=0"),
        (RelativePitch, dict(floor=1.5), "Received: floor=1.5"),
    ],
)
def test_pitch_layers_refuse_bad_arguments(layer_type, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer_type(**kwargs)


# --------------------------------------------------------------------------- one shared spectrum


def _clips() -> np.ndarray:
    clips = [signals.voiced_syllable(t) for t in (1, 2, 3, 4)]
    clips += [signals.white_noise(16000), signals.chirp(16000), signals.silence_then_burst(16000)]
    return np.stack([np.pad(c, (0, 16000 - c.size)) for c in clips])


@pytest.mark.parametrize(
    "log_mel",
    [RECIPE, dict(RECIPE, fmin=300.0, fmax=2500.0, n_mels=40)],
    ids=["same bins", "log-mel bins inside the pitch bins"],
)
def test_spectral_layers_give_from_a_shared_spectrum_what_they_give_alone(log_mel):
    """One STFT for several layers changes none of their outputs (1e-6, float32 rounding)."""
    x = _clips()
    layers = [
        LogMelSpectrogram(sample_rate=16000, **log_mel),
        MFCC(sample_rate=16000, n_mfcc=13, **log_mel),
        PitchSalience(sample_rate=16000, n_fft=1024, hop_length=512),
    ]
    spectrum = PowerSpectrogram.covering(layers)
    assert (spectrum.first_bin, spectrum.last_bin) == (5, 236)
    power = spectrum(x)
    for layer in layers:
        shared = layer.from_power(spectrum.select(power, layer)).numpy()
        np.testing.assert_allclose(shared, layer(x).numpy(), rtol=0, atol=1e-6)


def test_front_end_images_are_those_of_its_layers_alone():
    """The front end's log-mel and pitch images come from one spectrum, as if each were alone."""
    from keras_tone.frontend import FrontEnd, fit_frames

    front_end = FrontEnd()
    x = _clips()
    log_mel, salience = front_end(x)
    syllables, lengths = front_end.normalize(x)
    frames = 1 + lengths // front_end.log_mel.hop_length
    alone = [
        fit_frames(layer(syllables), frames, front_end.frames)
        for layer in (front_end.log_mel, front_end.pitch)
    ]
    np.testing.assert_allclose(log_mel, alone[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(salience, alone[1], rtol=0, atol=1e-6)


def test_power_spectrogram_matches_librosa():
    y = signals.voiced_syllable(2)
    layer = PowerSpectrogram(
        sample_rate=16000, n_fft=1024, hop_length=512, first_bin=5, last_bin=236
    )
    expected = (np.abs(librosa.stft(y, n_fft=1024, hop_length=512)) ** 2).T[:, 5:237]
    np.testing.assert_allclose(layer(y[None]).numpy()[0], expected, rtol=1e-3, atol=1e-6)


def test_a_shared_spectrum_refuses_layers_of_other_frames():
    log_mel = LogMelSpectrogram(sample_rate=16000, **RECIPE)
    other = PitchSalience(sample_rate=16000, n_fft=1024, hop_length=256)
    with pytest.raises(ValueError, match="must read the same frames"):
        PowerSpectrogram.covering([log_mel, other])
    spectrum = PowerSpectrogram.covering([log_mel])
    with pytest.raises(ValueError, match="reads other frames or bins than this power spectrum"):
        spectrum.select(spectrum(np.zeros((1, 4000), "float32")), other)
    with pytest.raises(ValueError, match=re.escape("Received: first_bin=10, last_bin=5")):
        PowerSpectrogram(first_bin=10, last_bin=5)
