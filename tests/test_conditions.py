"""Recording conditions (keras_tone.conditions) and how the recipe draws them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from keras_tone import conditions
from keras_tone.datasets import Corpus
from keras_tone.features import _Augmenter, condition_draw
from keras_tone.recipe import Recipe

RATE = 16000


def _slope(noise: np.ndarray) -> float:
    """The log-log slope of the power spectrum between 100 Hz and 4 kHz."""
    power = np.abs(np.fft.rfft(noise)) ** 2
    frequencies = np.fft.rfftfreq(noise.size, 1 / RATE)
    band = (frequencies > 100) & (frequencies < 4000)
    return float(np.polyfit(np.log10(frequencies[band]), np.log10(power[band]), 1)[0])


@pytest.mark.parametrize(("colour", "alpha"), [("white", 0), ("pink", 1), ("brown", 2)])
def test_coloured_noise_has_its_spectral_slope_and_unit_rms(colour, alpha):
    noise = conditions.coloured_noise(4 * RATE, colour, np.random.default_rng(0))
    assert noise.dtype == np.float32 and noise.shape == (4 * RATE,)
    assert np.sqrt(np.mean(noise.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-4)
    assert _slope(noise) == pytest.approx(-alpha, abs=0.1)


def test_unknown_colour_is_refused():
    with pytest.raises(ValueError, match="Received: colour='blue'"):
        conditions.coloured_noise(10, "blue", np.random.default_rng(0))


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_add_noise_sets_the_snr_against_the_active_speech_level(snr):
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(RATE // 2) / RATE)
    clip = np.concatenate([np.zeros(RATE), tone, np.zeros(RATE)]).astype(np.float32)
    noise = conditions.coloured_noise(clip.size, "white", np.random.default_rng(1))
    noisy = conditions.add_noise(clip, noise, snr)
    measured = 20 * np.log10(conditions.speech_level(tone) / np.std(noisy - clip))
    # The silence around the syllable does not lower the level the SNR refers to.
    assert measured == pytest.approx(snr, abs=0.05)


def test_babble_sums_several_talkers_from_the_sources():
    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    sources = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in (200, 500)]
    out = conditions.babble(RATE, sources, rng, talkers=(4, 4))
    assert out.shape == (RATE,)
    assert np.sqrt(np.mean(out.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-4)
    power = np.abs(np.fft.rfft(out)) ** 2
    assert power[[200, 500]].sum() / power.sum() > 0.99  # the talkers, and nothing else
    with pytest.raises(ValueError, match="at least one source"):
        conditions.babble(10, [], rng)


def test_telephone_keeps_the_voice_band_only():
    t = np.arange(RATE) / RATE

    def kept(frequency: float) -> float:
        x = np.sin(2 * np.pi * frequency * t).astype(np.float32)
        return float(np.std(conditions.telephone(x)[2000:-2000]) / np.std(x))

    assert kept(1000) > 0.9
    assert kept(100) < 0.1 and kept(5000) < 0.05


def test_rooms_are_repeatable_and_reverberate_for_about_their_rt60():
    first = conditions.room_impulse_responses(2, rt60=(0.5, 0.5), seed=3)
    again = conditions.room_impulse_responses(2, rt60=(0.5, 0.5), seed=3)
    other = conditions.room_impulse_responses(2, rt60=(0.5, 0.5), seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])
    for response in first:
        assert np.abs(response).max() == pytest.approx(1.0)
        assert 0.35 < conditions.measured_rt60(response) < 0.7
    clip = np.zeros(1000, np.float32)
    clip[0] = 1.0
    heard = conditions.reverberate(clip, first[0])
    assert heard.size == 1000 + first[0].size - 1
    assert np.allclose(heard[: first[0].size], first[0], atol=1e-6)


def test_calibrated_room_measures_what_it_says():
    response = conditions.calibrated_room(0.6)
    assert conditions.measured_rt60(response) == pytest.approx(0.6, rel=0.05)


def test_every_report_condition_builds():
    for name in conditions.REPORT_CONDITIONS:
        condition = conditions.report_condition(name)
        assert isinstance(condition, conditions.Condition)
    with pytest.raises(ValueError, match="Received: name='rain'"):
        conditions.report_condition("rain")


def test_apply_records_in_the_order_room_noise_channel():
    rng = np.random.default_rng(0)
    clip = np.sin(np.arange(4000) * 0.2).astype(np.float32)
    room = np.array([1.0, 0.0, 0.5], np.float32)
    heard = conditions.apply(clip, conditions.Condition(room=room), rng)
    assert heard.size == 4002 and np.allclose(heard[2:4000], clip[2:] + 0.5 * clip[:-2], atol=1e-6)
    with pytest.raises(ValueError, match="channel must be one of"):
        conditions.apply(clip, conditions.Condition(channel="radio"), rng)


def _corpus(speakers: list[str]) -> Corpus:
    rng = np.random.default_rng(0)
    n = len(speakers)
    tones = np.array([1 + i % 4 for i in range(n)])
    return Corpus(
        waveforms=[0.1 * rng.standard_normal(3000).astype(np.float32) for _ in range(n)],
        labels=tones - 1,
        tones=tones,
        speakers=np.array(speakers),
        sexes=np.array(["F"] * n),
        syllables=np.array(["ma"] * n),
        paths=np.array([f"{i}.wav" for i in range(n)]),
        sample_rate=RATE,
        classes=4,
    )


def test_a_virtual_speaker_has_one_condition_for_all_its_clips():
    recipe = replace(Recipe(), room_probability=1.0, noise_probability=1.0, rooms=3)
    rooms = conditions.room_impulse_responses(3, rt60=(0.3, 0.3), seed=0)
    a = condition_draw(recipe, "spk", 2, 0, rooms)
    b = condition_draw(recipe, "spk", 2, 0, rooms)
    assert a.noise == b.noise and a.snr_db == b.snr_db and a.room is b.room
    draws = {(condition_draw(recipe, "spk", v, 0, rooms).snr_db) for v in range(1, 6)}
    assert len(draws) == 5  # each version is another recording


def test_babble_never_holds_the_clips_own_or_a_held_out_voice():
    recipe = replace(
        Recipe(),
        copies=3,
        noise_probability=1.0,
        noise_types=("babble",),
        tempo=(1.0, 1.0),
        pitch_jitter=0.0,
        pitch_semitones=0.0,
    )
    corpus = _corpus(["a", "a", "b", "b", "c", "c"])
    # Mark each clip so the babble's sources can be told apart by their level.
    corpus.waveforms = [np.full(3000, level, np.float32) for level in (1, 1, 2, 2, 3, 3)]
    augment = _Augmenter(corpus, recipe, seed=0, babble_speakers=["b", "c"])
    picked = []
    original = conditions.babble

    def spy(samples, sources, rng, **kwargs):
        picked.append({float(s[0]) for s in sources})
        return original(samples, sources, rng, **kwargs)

    conditions.babble = spy
    try:
        for index in range(6):
            augment.versions(index)
    finally:
        conditions.babble = original
    assert picked and all(1.0 not in p for p in picked)  # "a" is never overheard
    own = [
        p
        for p, speaker in zip(picked, np.repeat(corpus.speakers, 3), strict=True)
        if speaker == "b"
    ]
    assert all(2.0 not in p for p in own)


def test_the_conditions_script_runs_on_the_test_clips(tmp_path, espeak_clips, capsys):
    """scripts/conditions_report.py: every condition, both modes, as the runner scores them."""
    import importlib.util
    import json
    import shutil

    from keras_tone import conditions as recording
    from keras_tone import load_model
    from keras_tone.runner import Runner

    rows = ["path,syllable,tone,speaker,sex"]
    for tone, path in espeak_clips.items():
        shutil.copy(path, tmp_path / path.name)
        rows.append(f"{path.name},ma,{tone},{'a' if tone < 3 else 'b'},m")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    script = Path(__file__).resolve().parents[1] / "scripts" / "conditions_report.py"
    spec = importlib.util.spec_from_file_location("conditions_report", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    out = tmp_path / "report.json"
    assert module.main(["--weights", "blcu", str(manifest), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert list(report["conditions"]) == list(recording.REPORT_CONDITIONS)
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| condition | a alone | a context | b alone | b context |"
    assert len(table) == 2 + len(recording.REPORT_CONDITIONS)

    runner = Runner(load_model("blcu"))
    predicted = runner.predict([np.asarray(c) for c in _test_clips(espeak_clips)])
    right = predicted.probabilities.argmax(axis=1) == np.arange(4)
    clean = report["conditions"]["clean"]["alone"]
    assert clean["per_speaker"] == {"a": right[:2].mean(), "b": right[2:].mean()}
    for entry in report["conditions"].values():
        for mode in ("alone", "context"):
            assert np.sum(entry[mode]["overall"]["confusion"]) == 4


def _test_clips(paths):
    from keras_tone.audio import load_audio

    return [load_audio(path, 16000) for path in paths.values()]
