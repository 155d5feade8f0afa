"""The speaker context (issue #13): pitch histograms, leave-one-out, the second input.

The mechanism is tested with small random-weight models and the voiced
syllables of `signals.voiced_syllable` (whose F0 is known); the claim that the
context helps a pitch-shifted speaker is tested against the shipped preset.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import signals

from keras_tone import ToneNet, ToneNetConfig, dsp, prepare_batch, speaker_context
from keras_tone._keras import keras
from keras_tone.context import context_encoder, leave_one_out, pitch_histograms
from keras_tone.frontend import FrontEnd
from keras_tone.layers import RelativePitch
from keras_tone.runner import Runner

CONFIG = ToneNetConfig()
PITCH = CONFIG.front_end.pitch
#: The F0 candidates of the histogram bins, in Hz.
CANDIDATES = dsp.pitch_candidates(PITCH.fmin, PITCH.fmax, PITCH.step)
#: Bins per semitone.
PER_SEMITONE = 1.0 / PITCH.step


def semitones(f: float, reference: float) -> float:
    return float(12.0 * np.log2(f / reference))


def voice(scale: float) -> list[np.ndarray]:
    """One speaker: tones 1-4 at `scale` times the mid-range contours, two lengths each."""
    return [
        signals.voiced_syllable(tone, pitch_scale=scale, seconds=seconds, lead_silence=lead)
        for tone in (1, 2, 3, 4)
        for seconds, lead in ((0.45, 0.1), (0.35, 0.05))
    ]


@pytest.fixture(scope="module")
def context_model():
    keras.utils.set_random_seed(7)
    return ToneNet(weights=None, speaker_context=True)


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    """Tones 1-4 and a noise clip, all 0.6 s: one batch without padding."""
    voiced = [signals.voiced_syllable(tone) for tone in (1, 2, 3, 4)]
    noise = signals.white_noise(16000, seconds=voiced[0].size / 16000)
    return prepare_batch([*voiced, noise])


# --------------------------------------------------------------------------- the model


def test_zero_context_is_the_model_without_context(context_model, clips, tmp_path):
    """Both models load one weights file, and a zero context gives the one-input model."""
    path = tmp_path / "context.weights.h5"
    context_model.save_weights(path)
    alone = ToneNet(weights=None)
    alone.load_weights(path)
    zeros = np.zeros((len(clips), CANDIDATES.size), np.float32)
    with_zeros = context_model.predict([clips, zeros], verbose=0)
    expected = alone.predict(clips, verbose=0)
    assert np.ptp(expected, axis=0).max() > 1e-3  # the clips get different answers
    np.testing.assert_allclose(with_zeros, expected, atol=1e-6)

    # and the other way: weights saved by the one-input model load into the two-input one
    keras.utils.set_random_seed(8)
    other = ToneNet(weights=None)
    other.save_weights(path)
    twin = ToneNet(weights=None, speaker_context=True)
    twin.load_weights(path)
    np.testing.assert_allclose(
        twin.predict({"waveform": clips, "speaker_context": zeros}, verbose=0),
        other.predict(clips, verbose=0),
        atol=1e-6,
    )


def test_context_enters_only_through_its_input_clip_by_clip(context_model, clips):
    """Per clip: its context changes its answer, nothing else in the batch does."""
    low, high = speaker_context(voice(0.6)), speaker_context(voice(1.3))
    n = len(clips)

    def run(batch: np.ndarray, contexts: list[np.ndarray]) -> np.ndarray:
        return context_model.predict([batch, np.stack(contexts)], verbose=0)

    with_low, with_high = run(clips, [low] * n), run(clips, [high] * n)
    assert np.abs(with_low - with_high).max(axis=1).min() > 1e-5  # every clip's answer moves
    np.testing.assert_array_equal(run(clips, [low] * n), with_low)  # deterministic

    mixed = run(clips, [low, high] * (n // 2) + [low] * (n % 2))
    np.testing.assert_allclose(mixed[0::2], with_low[0::2], atol=1e-6)
    np.testing.assert_allclose(mixed[1::2], with_high[1::2], atol=1e-6)

    # other clips (same length: no padding change) with other contexts: clip 0 is untouched
    others = np.stack([clips[0], *prepare_batch(voice(0.8)[: n - 1])[:, : clips.shape[1]]])
    assert others.shape == clips.shape
    changed = run(others, [low, *[high] * (n - 1)])
    np.testing.assert_allclose(changed[0], with_low[0], atol=1e-6)
    np.testing.assert_allclose(run(clips[:1], [low])[0], with_low[0], atol=1e-6)


# --------------------------------------------------------------------------- histograms


@pytest.mark.parametrize("scale", [0.5, 0.8, 1.0, 1.5])
def test_histogram_peaks_at_the_f0(scale):
    """Tone 1 (240 to 238 Hz) puts its histogram's peak within a semitone of its F0."""
    (histogram,) = pitch_histograms([signals.voiced_syllable(1, pitch_scale=scale)])
    assert histogram.sum() == pytest.approx(1.0, abs=1e-4)
    assert abs(semitones(CANDIDATES[histogram.argmax()], 239.0 * scale)) <= 1.0


def _median(histogram: np.ndarray) -> float:
    return float(CANDIDATES[np.searchsorted(np.cumsum(histogram), 0.5 * histogram.sum())])


@pytest.mark.parametrize("tone", [1, 2, 3, 4])
def test_histogram_spans_the_contour_and_moves_with_the_pitch(tone):
    """Every vote lies within the tone's F0 range; an octave down moves it 12 semitones.

    (A contour's histogram is flat-ish over its range: its median moves with
    the pitch, its argmax need not.)
    """
    high, low = pitch_histograms([signals.voiced_syllable(tone, pitch_scale=s) for s in (1, 0.5)])
    for histogram, scale in ((high, 1.0), (low, 0.5)):
        lowest, highest = (scale * f for f in sorted(signals.TONE_CONTOURS[tone])[::2])
        voted = CANDIDATES[histogram > 0]
        assert semitones(voted.min(), lowest) >= -1.0 and semitones(voted.max(), highest) <= 1.0
    assert semitones(_median(high), _median(low)) == pytest.approx(12.0, abs=1.0)
    log_f0 = np.log2(CANDIDATES)
    mean_shift = 12.0 * (high @ log_f0 - low @ log_f0)  # weighted mean pitch, in semitones
    assert mean_shift == pytest.approx(12.0, abs=0.5)


def test_silence_adds_nothing_to_a_context():
    """A clip of digital silence has no voiced frame: its histogram is zeros."""
    voiced = signals.voiced_syllable(2)
    silence = np.zeros(8000, np.float32)
    histograms = pitch_histograms([silence, voiced, np.zeros_like(voiced)])
    np.testing.assert_array_equal(histograms[[0, 2]], 0.0)
    np.testing.assert_allclose(speaker_context([voiced, silence]), histograms[1], atol=1e-6)
    encoder = context_encoder()  # the exportable model agrees
    np.testing.assert_array_equal(encoder.predict(silence[None], verbose=0), 0.0)


def test_speaker_context_is_the_sum_of_the_histograms():
    clips = [*voice(1.0), signals.white_noise(16000, seconds=0.7)]
    histograms = pitch_histograms(clips)
    assert histograms.shape == (len(clips), CANDIDATES.size) and histograms.dtype == np.float32
    np.testing.assert_allclose(histograms.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(speaker_context(clips), histograms.sum(axis=0), atol=1e-5)
    # batched by length, in any batch size: the same histograms, in the clips' order
    in_twos = Runner(ToneNetConfig(), batch_size=2).features(clips[::-1]).histograms
    np.testing.assert_allclose(in_twos, histograms[::-1])
    np.testing.assert_allclose(pitch_histograms(clips[:1]), histograms[:1])


def test_leave_one_out_is_the_context_of_the_other_clips():
    """Row i + clip i's histogram is its speaker's total; speakers may be interleaved."""
    rng = np.random.default_rng(0)
    histograms = rng.dirichlet(np.ones(CANDIDATES.size), size=7).astype(np.float32)
    speakers = [3, "b", 3, "b", 3, 7, "b"]  # any hashable labels; 7 is alone
    out = leave_one_out(histograms, speakers)
    assert out.shape == histograms.shape and out.dtype == histograms.dtype
    for i, speaker in enumerate(speakers):
        others = [j for j, s in enumerate(speakers) if s == speaker and j != i]
        expected = histograms[others].sum(axis=0) if others else np.zeros(CANDIDATES.size)
        np.testing.assert_allclose(out[i], expected, atol=1e-6)
    np.testing.assert_array_equal(out[5], 0.0)  # a speaker with one clip has no context

    # on real clips: row i is the speaker_context of the speaker's other clips
    clips = voice(0.7)[:4]
    loo = leave_one_out(pitch_histograms(clips), ["me"] * len(clips))
    for i in range(len(clips)):
        np.testing.assert_allclose(loo[i], speaker_context(clips[:i] + clips[i + 1 :]), atol=1e-5)


def test_context_size_follows_the_config():
    """A config with coarser candidates: the encoder and the model's input agree on the size."""
    pitch = dataclasses.replace(PITCH, step=1.0, fmax=400.0)
    config = dataclasses.replace(
        CONFIG, front_end=dataclasses.replace(CONFIG.front_end, pitch=pitch)
    )
    size = dsp.pitch_candidates(50.0, 400.0, 1.0).size
    model = ToneNet(weights=None, config=config, speaker_context=True)
    assert model.input_shape[1] == (None, size)
    assert context_encoder(config).output_shape == (None, size)
    clip = signals.voiced_syllable(1)
    histogram = pitch_histograms([clip], model=model)
    np.testing.assert_array_equal(histogram, pitch_histograms([clip], config=config))
    assert histogram.shape == (1, size)
    with pytest.raises(ValueError, match="Pass model= or config=, not both. Received: model="):
        pitch_histograms([clip], model=model, config=config)


# --------------------------------------------------------------------------- relative pitch


def _relative_peak(clip: np.ndarray, context: np.ndarray | None) -> tuple[float, float]:
    """`(mean position, confidence)`: where the voiced frames peak in RelativePitch's window."""
    _, salience = FrontEnd(CONFIG)(clip[None])
    layer = RelativePitch(window=CONFIG.architecture.pitch_window, floor=PITCH.floor)
    relative, confidence = layer(salience, None if context is None else context[None])
    relative = np.asarray(relative)[0]
    voiced = relative.max(axis=-1) > 0.5
    assert voiced.sum() >= 5
    return float(relative[voiced].argmax(axis=-1).mean()), float(np.asarray(confidence)[0, 0])


@pytest.mark.parametrize("tone", [1, 2, 3, 4])
def test_relative_pitch_is_relative_to_the_context(tone):
    """Shifted with its speaker's context a clip stays put in the relative image; alone it moves."""
    scale = 0.6
    move = semitones(scale, 1.0) * PER_SEMITONE  # about 17.7 bins down
    reference = [c for i, c in enumerate(voice(1.0)) if i // 2 != tone - 1]
    shifted = [c for i, c in enumerate(voice(scale)) if i // 2 != tone - 1]
    context, shifted_context = speaker_context(reference), speaker_context(shifted)
    clip = signals.voiced_syllable(tone)
    shifted_clip = signals.voiced_syllable(tone, pitch_scale=scale)

    position, confidence = _relative_peak(clip, context)
    both, _ = _relative_peak(shifted_clip, shifted_context)
    alone, _ = _relative_peak(shifted_clip, context)
    assert abs(both - position) <= 1.5  # bins
    # shifted alone it moves down by most of the shift (its own histogram moves the
    # reference a little: the median is that of the context plus the clip)
    assert move - 1.5 <= alone - position <= 0.7 * move
    assert confidence == pytest.approx(np.log(1.0 + len(reference)), abs=1e-3)

    # without context the clip anchors itself: its register is lost, shifted or not
    no_context, zero_confidence = _relative_peak(clip, None)
    assert abs(_relative_peak(shifted_clip, None)[0] - no_context) <= 1.5
    assert zero_confidence == 0.0
    assert _relative_peak(clip, np.zeros_like(context)) == (no_context, 0.0)


def test_the_context_gives_the_register():
    """With its speaker's context a high tone 1 lies above a low tone 3; alone both are centred."""
    context = speaker_context(voice(1.0))
    high, low = signals.voiced_syllable(1), signals.voiced_syllable(3)  # 239 Hz; 180-140-190 Hz

    def apart(context: np.ndarray | None) -> float:
        """Semitones from tone 3's mean peak up to tone 1's, in the relative image."""
        return (_relative_peak(high, context)[0] - _relative_peak(low, context)[0]) / PER_SEMITONE

    # with the context: apart (less than their 6-7 semitones, as each clip's own
    # histogram moves its reference a little towards itself)
    assert apart(context) >= 3.0
    assert abs(apart(None)) <= 1.0  # each clip anchors itself
    window = CONFIG.architecture.pitch_window
    for clip in (high, low):
        assert abs(_relative_peak(clip, None)[0] - window) <= 2.0 * PER_SEMITONE


# --------------------------------------------------------------------------- the shipped preset


@pytest.fixture(scope="module")
def preset():
    """The shipped preset with its context input, and its answers on a mid-range speaker.

    Tones 1-4, two clips each, each clip with the leave-one-out context of
    the others.
    """
    model = ToneNet(weights="blcu", speaker_context=True)
    clips = voice(1.0)
    context = leave_one_out(pitch_histograms(clips, model=model), ["a"] * len(clips))
    reference = model.predict([prepare_batch(clips), context], verbose=0)
    return model, context, reference


@pytest.mark.parametrize("scale", [0.5, 0.6, 0.75, 1.3])
def test_shipped_preset_keeps_its_answers_for_a_shifted_speaker_with_its_context(preset, scale):
    """Issue #13: a speaker pitch-shifted with their context keeps their answers.

    The speaker of `preset` shifted (x0.5 to x1.3: 12 semitones down to 4.5
    up) is classified with their own (shifted) leave-one-out context, with no
    context, and with the context of the unshifted speaker. Their own context
    must keep the unshifted answers on every clip but one at most, as many as
    either other context does, and be clearly the closest to them in total
    variation; a model that ignored its context would fail.
    """
    model, unshifted, reference = preset
    tones = np.repeat([1, 2, 3, 4], 2)
    assert (reference.argmax(axis=1) + 1 == tones).mean() >= 0.75  # the test clips are tones
    clips = voice(scale)
    contexts = {
        "shifted": leave_one_out(pitch_histograms(clips, model=model), ["b"] * len(clips)),
        "none": np.zeros_like(unshifted),
        "unshifted": unshifted,
    }
    distance, kept = {}, {}
    for name, context in contexts.items():
        probabilities = model.predict([prepare_batch(clips), context], verbose=0)
        distance[name] = round(float(0.5 * np.abs(probabilities - reference).sum(axis=1).mean()), 3)
        kept[name] = int((probabilities.argmax(axis=1) == reference.argmax(axis=1)).sum())
    print(f"x{scale}: total variation to the unshifted answers {distance}; answers kept {kept}")
    assert kept["shifted"] >= len(clips) - 1
    assert kept["shifted"] >= max(kept["none"], kept["unshifted"])
    assert distance["shifted"] < 0.75 * min(distance["none"], distance["unshifted"])
