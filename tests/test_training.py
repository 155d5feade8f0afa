"""Training: augmentation, features, metrics, reports, cards, and (slow) tiny training runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from signals import voiced_syllable

from keras_tone import ToneNetConfig, crossval, evaluation, features, recipe, reports, training
from keras_tone._keras import keras
from keras_tone.audio import pad_batch
from keras_tone.recipe import Recipe
from keras_tone.weights import read_config

REPO = Path(__file__).resolve().parents[1]

TINY = Recipe(epochs=1, batch_size=8, copies=1, noise_probability=0.5, mixed_precision=False)


def _write_speaker(folder: Path, speaker: str, pitch_scale: float, per_tone: int = 3) -> Path:
    (folder / "wav").mkdir(parents=True, exist_ok=True)
    lines = ["path,syllable,tone,speaker,sex"]
    for tone in (1, 2, 3, 4):
        for k in range(per_tone):
            clip = voiced_syllable(tone, pitch_scale=pitch_scale * (1 + 0.03 * k), seconds=0.3)
            name = f"wav/ma{tone}_{k}.wav"
            sf.write(folder / name, clip, 16000)
            lines.append(f"{name},ma,{tone},{speaker},F")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder / "manifest.csv"


@pytest.fixture
def tiny_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return [
        _write_speaker(tmp_path / "s1", "s1", 1.0),
        _write_speaker(tmp_path / "s2", "s2", 0.6),
    ]


def test_augment_is_seeded_and_shifts_pitch():
    clip = voiced_syllable(1, seconds=0.5)
    quiet = Recipe(tempo=(1.0, 1.0), max_lead_seconds=0.0)
    a = features.augment_waveform(clip, np.random.default_rng(3), quiet, 16000, voice=12.0)
    b = features.augment_waveform(clip, np.random.default_rng(3), quiet, 16000, voice=12.0)
    np.testing.assert_array_equal(a, b)
    # Resampling an octave up (+-1 semitone of jitter) halves the length.
    assert abs(len(a) / len(clip) - 0.5) < 0.04


def test_virtual_speakers_share_their_voice_change():
    recipe_ = Recipe(pitch_semitones=6.0)
    draws = {features.voice_draw(recipe_, "spk", version, seed=0) for version in (1, 1, 1)}
    assert len(draws) == 1  # one virtual speaker, one voice change
    others = [features.voice_draw(recipe_, "spk", version, seed=0) for version in range(1, 9)]
    assert len(set(others)) == 8 and all(abs(shift) <= 6.0 for shift in others)


def test_half_third_cuts_tone_3_only():
    clip = voiced_syllable(3, seconds=0.5)
    cut = Recipe(half_third=1.0, pitch_jitter=0.0, tempo=(1.0, 1.0), max_lead_seconds=0.0)
    rng = np.random.default_rng
    third = features.augment_waveform(clip, rng(0), cut, 16000, tone=3)
    assert 0.45 * len(clip) - 1 <= len(third) <= 0.7 * len(clip) + 1
    assert len(features.augment_waveform(clip, rng(0), cut, 16000, tone=4)) == len(clip)


def test_augment_records_under_the_condition_after_a_lead():
    from keras_tone.conditions import Condition, speech_level

    clip = voiced_syllable(2, seconds=0.3, lead_silence=0.0)
    still = Recipe(pitch_jitter=0.0, tempo=(1.0, 1.0))
    noise = Condition(noise="white", snr_db=20.0)
    out = features.augment_waveform(clip, np.random.default_rng(0), still, 16000, condition=noise)
    lead = len(out) - len(clip)
    assert 0 <= lead <= 0.3 * 16000
    snr = 20 * np.log10(speech_level(clip) / (out[lead:] - clip).std())
    assert abs(snr - 20.0) <= 3.05  # the virtual speaker's SNR, +-3 dB per clip
    clean = features.augment_waveform(clip, np.random.default_rng(0), still, 16000)
    np.testing.assert_array_equal(clean[len(clean) - len(clip) :], clip)


def test_truncate_cuts_every_tone_within_its_voice():
    cut = Recipe(
        truncate=1.0, half_third=0.0, pitch_jitter=0.0, tempo=(1.0, 1.0), max_lead_seconds=0.0
    )
    t = np.arange(8000) / 16000
    voice = len(t)
    for tone in (1, 2, 3, 4):  # a steady vowel of 0.5 s after 0.1 s of silence
        vowel = sum(np.sin(2 * np.pi * (150 + 20 * tone) * k * t) / k for k in range(1, 6))
        clip = np.concatenate([np.zeros(1600), 0.1 * vowel]).astype(np.float32)
        out = features.augment_waveform(clip, np.random.default_rng(tone), cut, 16000, tone=tone)
        kept = (len(out) - int(0.1 * 16000)) / voice
        assert 0.55 <= kept <= 0.96, (tone, kept)
        np.testing.assert_array_equal(out, clip[: len(out)])


def test_augment_tempo_changes_length_not_pitch():
    t = np.arange(8000) / 16000
    clip = (0.3 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)
    slower = Recipe(pitch_jitter=0.0, tempo=(0.5, 0.5), max_lead_seconds=0.0)
    out = features.augment_waveform(clip, np.random.default_rng(0), slower, 16000)
    assert abs(len(out) - 2 * len(clip)) <= 1024
    spectrum = np.abs(np.fft.rfft(out[2048:-2048] * np.hanning(len(out) - 4096)))
    peak_hz = np.argmax(spectrum) * 16000 / (len(out) - 4096)
    assert abs(peak_hz - 200.0) < 5.0, peak_hz
    off = Recipe(pitch_jitter=0.0, tempo=(1.0, 1.0), max_lead_seconds=0.0)
    np.testing.assert_array_equal(
        features.augment_waveform(clip, np.random.default_rng(0), off, 16000), clip
    )


def test_metrics():
    y_true = np.array([0, 0, 1, 1, 2, 3])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    m = evaluation.metrics(y_true, y_pred, 4)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion"][0] == [1, 1, 0, 0]
    assert m["recall"] == [0.5, 1.0, 1.0, 0.0]
    assert m["precision"][1] == pytest.approx(2 / 3)
    assert m["precision"][3] is None  # never predicted


def test_format_report_evaluate_and_cv():
    m = evaluation.metrics(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 2]), 4)
    report = {"kind": "evaluate", "classes": 4, "overall": m, "per_speaker": {"spk": m}}
    text = reports.format_report(report)
    assert "spk" in text and "75.0%" in text and "true\\pred" in text
    fold = {"overall": m, "speaker_context": {mode: m for mode in evaluation.CONTEXT_SIZES}}
    cv = {
        "kind": "cross_validate",
        "classes": 4,
        "seeds": [0, 1],
        "sexes": {"spk": "F"},
        "folds": {"spk": {"0": fold, "1": fold}},
    }
    cv.update(crossval.summarize_folds(cv))
    text = reports.format_report(cv)
    assert "75.0 (75.0-75.0)" in text and "mean (F)" not in text  # one fold: no means
    three = {
        **cv,
        "sexes": {s: "F" for s in "abc"},
        "folds": {s: cv["folds"]["spk"] for s in "abc"},
    }
    three.update(crossval.summarize_folds(three))
    assert "mean (F)" in reports.format_report(three) and "mean (all)" in reports.format_report(
        three
    )
    assert "| T1 |" in reports.format_report(cv, markdown=True)
    with pytest.raises(ValueError, match="kind"):
        reports.format_report({"kind": "other", "classes": 4})


def test_confusion_table_is_aligned():
    """Every row of the text table has its cells under the header's columns."""
    m = evaluation.metrics(np.array([0, 1, 2, 3] * 30), np.array([0, 1, 2, 3] * 30), 4)
    table = reports._confusion_table(m, 4)
    lines = table.splitlines()
    assert lines[-1].split() == ["precision", "100.0%", "100.0%", "100.0%", "100.0%"]
    header = lines[0].split()
    assert header == ["true\\pred", "T1", "T2", "T3", "T4", "recall"]
    column_ends = [lines[0].index(name) + len(name) for name in header[1:5]]
    for line in lines[1:]:  # numbers end where their column's name ends
        for end in column_ends:
            assert line[end - 1] != " " and (end == len(line) or line[end] == " "), line


def test_foreign_optimizer_is_refused(tiny_corpus, tmp_path):
    class Adam:  # looks like an optimizer of another Keras install
        pass

    Adam.__module__ = "tf_keras.src.optimizers.adam"
    with pytest.raises(TypeError, match="tf_keras"):
        training.train(tiny_corpus, tmp_path / "out", optimizer=Adam())


def test_unknown_excluded_speaker(tiny_corpus, tmp_path):
    with pytest.raises(ValueError, match="nobody"):
        training.train(tiny_corpus, tmp_path / "out", exclude_speakers=["nobody"], recipe=TINY)


@pytest.mark.slow
def test_train_writes_preset_and_evaluates(tiny_corpus, tmp_path):
    from keras_tone import ToneNet

    out = tmp_path / "preset"
    report = training.train(
        tiny_corpus,
        out,
        recipe=TINY,
        epochs=1,
        batch_size=8,
        optimizer=keras.optimizers.Adam(1e-3),
        exclude_speakers=["s2"],
        validation_manifests=[tiny_corpus[1]],
        verbose=0,
    )
    for name in ("model.weights.h5", "config.json", "README.md", "report.json"):
        assert (out / name).is_file()
    assert report["speakers"] == ["s1"] and report["clips"] == 12
    assert report["validation"]["alone"]["overall"]["clips"] == 12
    assert report["validation"]["context"]["speaker_context"] is True
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: keras\n") and "12 clips" in card
    assert "## Evaluation: voices from other collections" in card
    saved = json.loads((out / "report.json").read_text())
    assert saved["recipe"]["epochs"] == 1

    # The preset is the waveform model; evaluate() reads it from the folder.
    model = ToneNet(weights=out / "model.weights.h5")
    assert model.get_layer("front_end") is not None
    assert read_config(out / "config.json") == ToneNetConfig()
    again = evaluation.evaluate(out, [tiny_corpus[1]])
    assert again["overall"]["confusion"] == report["validation"]["alone"]["overall"]["confusion"]


def test_several_seeds_make_an_ensemble_preset(tiny_corpus, tmp_path):
    from keras_tone import ToneNet

    report = training.train(
        tiny_corpus,
        tmp_path / "preset",
        recipe=TINY,
        epochs=1,
        batch_size=8,
        seed=[0, 1],
        exclude_speakers=["s2"],
        validation_manifests=[tiny_corpus[1]],
        verbose=0,
    )
    assert report["seeds"] == [0, 1] and [m["seed"] for m in report["members"]] == [0, 1]
    assert all("validation" in member for member in report["members"])
    config = read_config(tmp_path / "preset" / "config.json")
    assert config.architecture.members == 2
    model = ToneNet(weights=tmp_path / "preset")
    assert model.get_layer("ensemble") is not None and model.get_layer("member1_fc") is not None
    card = (tmp_path / "preset" / "README.md").read_text()
    assert "seeds 0, 1 (one network each, averaged in one model)" in card
    assert "one member, alone %" in card
    with pytest.raises(ValueError, match="distinct seeds"):
        training.train(tiny_corpus, tmp_path / "x", recipe=TINY, seed=[1, 1], verbose=0)


@pytest.mark.slow
def test_training_is_repeatable(tiny_corpus, tmp_path):
    a = training.train(tiny_corpus, tmp_path / "a", recipe=TINY, seed=1, verbose=0)
    b = training.train(tiny_corpus, tmp_path / "b", recipe=TINY, seed=1, verbose=0)
    history_a, history_b = a["members"][0]["history"], b["members"][0]["history"]
    assert history_a["loss"] == pytest.approx(history_b["loss"], rel=1e-5)
    # the recipe's own epochs and batch size, not train()'s defaults
    assert len(history_a["loss"]) == TINY.epochs
    assert a["recipe"]["batch_size"] == TINY.batch_size


@pytest.mark.slow
def test_cross_validate_tiny(tiny_corpus, tmp_path):
    report = crossval.cross_validate(
        tiny_corpus, tmp_path / "cv", recipe=TINY, speakers=["s2"], verbose=0
    )
    assert list(report["summary"]) == ["s2"] and report["seeds"] == [0]
    fold = report["folds"]["s2"]["0"]
    assert set(fold["speaker_context"]) == set(evaluation.CONTEXT_SIZES)
    assert fold["overall"]["clips"] == fold["speaker_context"]["all"]["clips"] == 12
    assert (tmp_path / "cv" / "seed-0" / "fold-s2" / "model.weights.h5").is_file()
    assert "Held out s2" in reports.format_report(report)


@pytest.mark.slow
def test_cross_validate_excludes_and_seeds(tiny_corpus, tmp_path):
    with pytest.raises(ValueError, match="both held out and excluded"):
        crossval.cross_validate(
            tiny_corpus, tmp_path / "x", recipe=TINY, speakers=["s2"], exclude_speakers=["s2"]
        )
    report = crossval.cross_validate(
        tiny_corpus, tmp_path / "cv", recipe=TINY, speakers=["s1", "s2"], seeds=(0, 1), verbose=0
    )
    assert set(report["folds"]["s1"]) == {"0", "1"}
    stats = report["summary"]["s1"]["alone"]
    assert stats["min"] <= stats["mean"] <= stats["max"]
    assert set(report["per_sex"]) == {"F"}
    # The same design run as two jobs (seed 0, then seed 1) joins into this report.
    parts = []
    for seed in ("0", "1"):
        part = {**report, "seeds": [int(seed)], "command": [f"run {seed}"]}
        part["folds"] = {s: {seed: runs[seed]} for s, runs in report["folds"].items()}
        parts.append(part)
    merged = crossval.merge_reports(parts)
    assert merged["summary"] == report["summary"] and merged["per_sex"] == report["per_sex"]
    assert merged["seeds"] == [0, 1] and merged["command"] == ["run 0", "run 1"]
    with pytest.raises(ValueError, match="fold of s1 with seed 0"):
        crossval.merge_reports([parts[0], parts[0]])
    with pytest.raises(ValueError, match="differ in recipe"):
        crossval.merge_reports([parts[0], {**parts[1], "recipe": {}}])


@pytest.mark.slow
def test_mirrored_strategy_two_logical_cpus(tiny_corpus, tmp_path):
    """Logical devices must be set before TensorFlow starts: run in a fresh process."""
    script = textwrap.dedent(
        f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from dataclasses import replace
        from keras_tone import training
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
        recipe = replace(training.Recipe(), epochs=1, batch_size=8, copies=1)
        report = training.train({[str(m) for m in tiny_corpus]!r}, {str(tmp_path / "m")!r},
                                recipe=recipe, strategy=strategy, verbose=0)
        assert report["strategy"] == "MirroredStrategy", report["strategy"]
        print("OK", report["members"][0]["history"]["loss"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout


def test_recipe_replace_keeps_defaults():
    assert replace(Recipe(), epochs=3).copies == Recipe().copies


def test_run_recipe_keeps_the_recipes_values_unless_overridden():
    mine = Recipe(epochs=3, batch_size=16)
    kept = recipe.resolve_recipe(mine, classes=4)
    assert (kept.epochs, kept.batch_size, kept.class_weighting) == (3, 16, "none")
    overridden = recipe.resolve_recipe(mine, classes=5, epochs=2)
    assert (overridden.epochs, overridden.batch_size) == (2, 16)
    assert overridden.class_weighting == "balanced"
    resolved = recipe.resolve_recipe(None, classes=4)
    assert resolved == replace(
        Recipe(), class_weighting="none", mixed_precision=resolved.mixed_precision
    )
    assert isinstance(resolved.mixed_precision, bool)
    with pytest.raises(ValueError, match="Received: class_weighting='inverse'"):
        recipe.resolve_recipe(None, classes=4, class_weighting="inverse")


def test_front_end_matches_the_waveform_model():
    """Training features are what the saved waveform model computes."""
    from keras_tone import ToneNet
    from keras_tone.runner import Runner

    clips = [
        voiced_syllable(3, seconds=0.4, pitch_scale=0.5) + 0.01,  # a DC offset, a low voice
        voiced_syllable(1, seconds=0.7, lead_silence=0.3),
    ]
    model = ToneNet(weights=None, include_top=False)
    cut = keras.Model(model.input, model.get_layer("front_end").output)
    expected = [np.asarray(image) for image in cut(pad_batch(clips)[0])]
    images = Runner(ToneNetConfig(), voicing=False).features(clips)
    got = (images.log_mel, images.salience)
    for mine, theirs, atol in zip(got, expected, (0.01, 1e-4), strict=True):  # dB, salience
        np.testing.assert_allclose(mine, theirs, atol=atol)
    for i, clip in enumerate(clips):  # as each clip alone
        log_mel, salience = cut(clip[None])
        np.testing.assert_allclose(got[0][i], np.asarray(log_mel)[0], atol=0.01)
        np.testing.assert_allclose(got[1][i], np.asarray(salience)[0], atol=1e-4)


def test_neutral_tone_kept_only_for_named_speakers(tmp_path, monkeypatch):
    from keras_tone.datasets import load_corpus

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    manifests = []
    for speaker in ("a", "b"):
        folder = tmp_path / speaker
        (folder / "wav").mkdir(parents=True)
        lines = ["path,syllable,tone,speaker,sex"]
        for tone in (1, 5):
            sf.write(folder / "wav" / f"{tone}.wav", voiced_syllable(1, seconds=0.2), 16000)
            lines.append(f"wav/{tone}.wav,ma,{tone},{speaker},F")
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
        manifests.append(folder / "manifest.csv")
    corpus = load_corpus(manifests, classes=5, progress=False)
    kept = training._keep_neutral_of(corpus, ["b"])
    assert sorted(zip(kept.speakers.tolist(), kept.tones.tolist(), strict=True)) == [
        ("a", 1),
        ("b", 1),
        ("b", 5),
    ]
    assert len(training._keep_neutral_of(corpus, None)) == 4
    with pytest.raises(ValueError, match="zed"):
        training._keep_neutral_of(corpus, ["zed"])


def _write_words(folder: Path, speaker: str, scale: float) -> Path:
    """Four two-syllable 'words' (two tone contours with a short pause), as a word manifest."""
    (folder / "words").mkdir(parents=True, exist_ok=True)
    lines = ["path,hanzi,pinyin,surface,speaker,sex"]
    for i, (first, second) in enumerate([(1, 4), (2, 3), (3, 1), (4, 2)]):
        parts = [voiced_syllable(first, seconds=0.3, pitch_scale=scale, lead_silence=0.1)]
        parts.append(np.zeros(1600, "float32"))
        parts.append(voiced_syllable(second, seconds=0.3, pitch_scale=scale, lead_silence=0.0))
        parts.append(np.zeros(1600, "float32"))
        sf.write(folder / "words" / f"{i}.wav", np.concatenate(parts), 16000)
        lines.append(f"words/{i}.wav,,ma{first} ma{second},{first} {second},{speaker},F")
    (folder / "words.csv").write_text("\n".join(lines) + "\n")
    return folder / "words.csv"


@pytest.mark.slow
def test_cross_validate_on_word_recordings(tiny_corpus, tmp_path):
    """Word manifests join the training data; a speaker with words is tested on them."""
    words = _write_words(tmp_path / "s2", "s2", 0.6)
    config, data = training.prepare([*tiny_corpus, words], 5, None, None, None, None)
    assert data.words is not None and (data.word >= 0).sum() == 8  # 4 words x 2 syllables
    assert len(data.corpus) == 24 + 8 and config.classes == 5
    report = crossval.cross_validate(
        [*tiny_corpus, words],
        tmp_path / "cv",
        classes=5,
        recipe=TINY,
        speakers=["s2"],
        verbose=0,
    )
    fold = report["folds"]["s2"]["0"]
    assert fold["overall"]["clips"] == 8 and fold["words"]["words"] == 4
    assert set(fold["per_position"]) == {"1", "2"}
    assert set(report["summary"]["s2"]) == {"alone", "all"}
    text = reports.format_report(report)
    assert "Whole words right" in text and "per position in the word" in text
