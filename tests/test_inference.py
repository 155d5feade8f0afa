"""predict_files and find_audio_files: the folder job as a library function."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import signals
import soundfile as sf

from keras_tone import FileResult, ToneNet, load_audio, predict_files, prepare_batch
from keras_tone._keras import keras
from keras_tone.gate import MIN_VOICED_SECONDS

RATE = 16000


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return ToneNet(weights=None)


def _syllable(tone: int, lead: float, tail: float, scale: float = 1.0) -> np.ndarray:
    clip = signals.voiced_syllable(tone, pitch_scale=scale, lead_silence=0.0, gain=0.2)
    return np.concatenate([np.zeros(int(lead * RATE)), clip, np.zeros(int(tail * RATE))]).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Good clips (varied lengths and digital silence) and bad files, with what each should give."""
    root = tmp_path_factory.mktemp("folder")
    files = {}
    for i in range(12):
        clip = _syllable(i % 4 + 1, lead=0.02 * i, tail=0.15 * (i % 5), scale=0.6 + 0.1 * i)
        name = f"clip{i:02d}." + ("flac" if i % 3 else "wav")
        sf.write(root / name, clip, RATE)
        files[name] = None
    sf.write(root / "stereo.mp3", np.stack([_syllable(2, 0.1, 0.2)] * 2, 1), RATE)
    files["stereo.mp3"] = None
    (root / "empty.wav").write_bytes(b"")
    files["empty.wav"] = "empty file (0 bytes)"
    (root / "page.mp3").write_text("<!DOCTYPE html><html>gone</html>")
    files["page.mp3"] = "not audio: the file holds text (an HTML page)"
    sf.write(root / "silent.wav", np.zeros(RATE, np.float32), RATE)
    files["silent.wav"] = "the clip is silent (all samples are zero): there is no tone to classify"
    nan = _syllable(1, 0.1, 0.1)
    nan[100] = np.nan
    sf.write(root / "nan.wav", nan, RATE, subtype="FLOAT")
    files["nan.wav"] = "the clip has NaN or Inf samples"
    files["missing.wav"] = "no such file"
    return root, files


def _today(model, clips: list[np.ndarray]) -> np.ndarray:
    """keras-tone predict 0.1.0: one zero-padded batch, model.predict."""
    return model.predict(prepare_batch(clips), verbose=0)


def test_results_in_order_with_a_reason_per_bad_file(model, folder):
    root, files = folder
    names = sorted(files)[::-1]
    results = predict_files(model, [root / n for n in names], batch_size=4)
    assert [r.path for r in results] == [str(root / n) for n in names]
    for name, result in zip(names, results, strict=True):
        expected = files[name]
        if expected is None:
            assert result.error is None and result.probabilities.shape == (4,), name
            assert result.voiced and result.top()[0][0] in (1, 2, 3, 4)
        else:
            assert result.probabilities is None and result.error.startswith(expected), name
            assert result.top() == [] and not result.voiced


def test_predictions_equal_todays_path(model, folder):
    """Cutting digital silence and batching by length change no probability (1e-5)."""
    root, files = folder
    good = [root / n for n in sorted(files) if files[n] is None]
    results = predict_files(model, good, batch_size=3)
    clips = [load_audio(p) for p in good]
    # Every clip but the longest ends with >= 1024 zeros in today's batch: the same answer.
    np.testing.assert_allclose([r.probabilities for r in results], _today(model, clips), atol=1e-5)


def test_a_clip_that_runs_to_its_last_sample(model, tmp_path):
    """Such a clip gets one answer: alone, after any padding, and from predict_files."""
    clip = _syllable(4, 0.1, 0.0)[:-800]  # cut inside the syllable
    sf.write(tmp_path / "cut.wav", clip, RATE, subtype="FLOAT")
    (result,) = predict_files(model, [tmp_path / "cut.wav"])
    for padding in (0, 1023, 5000):
        answer = _today(model, [np.pad(clip, (0, padding))])[0]
        np.testing.assert_allclose(result.probabilities, answer, atol=1e-5)


def test_batch_size_and_workers_change_nothing(model, folder):
    root, files = folder
    paths = [root / n for n in sorted(files)]
    a = predict_files(model, paths, batch_size=64, workers=1)
    b = predict_files(model, paths, batch_size=2, workers=3)
    for x, y in zip(a, b, strict=True):
        assert x.error == y.error and x.voiced_seconds == pytest.approx(y.voiced_seconds)
        if x.probabilities is not None:
            np.testing.assert_allclose(x.probabilities, y.probabilities, atol=1e-5)


def test_progress_counts_files(model, folder, capsys):
    root, files = folder
    paths = [root / n for n in sorted(files)]
    calls = []
    predict_files(
        model, paths, batch_size=4, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (len(paths), len(paths))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    predict_files(model, paths[:3], progress=True)
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, clip",
    [
        ("sine", signals.sine(RATE, 440)),
        ("noise", signals.white_noise(RATE)),
        ("hum", signals.hum(RATE, 50)),
        ("near-silent noise", 1e-3 * signals.white_noise(RATE, seed=3)),
    ],
)
def test_non_speech_gets_no_tone(model, tmp_path, name, clip):
    sf.write(tmp_path / "x.wav", clip, RATE, subtype="FLOAT")
    (result,) = predict_files(model, [tmp_path / "x.wav"])
    assert result.error is None and result.probabilities is not None
    assert result.voiced_seconds < MIN_VOICED_SECONDS and not result.voiced
    assert result.top() == []


def test_no_warnings_reach_the_caller(model, tmp_path):
    sf.write(tmp_path / "a.mp3", _syllable(1, 0.1, 0.1), RATE)
    data = (tmp_path / "a.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok, cut = predict_files(model, [tmp_path / "a.mp3", tmp_path / "cut.mp3"])
    assert ok.error is None and cut.error.startswith("truncated MP3: decoded")


def test_models_without_waveform_input_are_refused():
    with pytest.raises(ValueError, match="take waveforms"):
        predict_files(ToneNet(weights=None, include_preprocessing=False), [])


@pytest.fixture(scope="module")
def context_model():
    keras.utils.set_random_seed(7)
    return ToneNet(weights=None, speaker_context=True)


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory):
    """Three clips each of a low and a high voice, every clip ending in 0.1 s of silence."""
    root = tmp_path_factory.mktemp("voices")
    paths, speakers = [], []
    for speaker, scale in (("low", 0.6), ("high", 1.3)):
        for tone in (1, 3, 4):
            path = root / f"{speaker}{tone}.wav"
            sf.write(path, _syllable(tone, 0.05, 0.1, scale), RATE)
            paths.append(path)
            speakers.append(speaker)
    return paths, speakers


def test_speaker_context_is_leave_one_out(context_model, two_voices):
    """Each clip gets the summed pitch histograms of the other clips of its speaker."""
    from keras_tone.context import leave_one_out, pitch_histograms

    paths, speakers = two_voices
    results = predict_files(context_model, paths, speakers=speakers, batch_size=4)
    clips = [load_audio(p) for p in paths]
    context = leave_one_out(pitch_histograms(clips, model=context_model), speakers)
    assert context.sum(axis=1).min() > 1.0  # two other voiced clips each
    expected = context_model.predict([prepare_batch(clips), context], verbose=0)
    np.testing.assert_allclose([r.probabilities for r in results], expected, atol=1e-5)
    assert all(r.voiced for r in results)


def test_speaker_context_model_without_speakers_is_the_model_alone(context_model, two_voices):
    paths, _ = two_voices
    results = predict_files(context_model, paths)
    clips = prepare_batch([load_audio(p) for p in paths])
    zeros = np.zeros((len(paths), context_model.input_shape[1][-1]), np.float32)
    expected = context_model.predict([clips, zeros], verbose=0)
    np.testing.assert_allclose([r.probabilities for r in results], expected, atol=1e-5)
    with_context = predict_files(context_model, paths, speakers=["one"] * len(paths))
    assert (
        max(
            np.abs(a.probabilities - b.probabilities).max()
            for a, b in zip(results, with_context, strict=True)
        )
        > 1e-4
    )


def test_speaker_context_skips_unreadable_files(context_model, two_voices, tmp_path):
    """A file that cannot be read gets its reason and adds nothing to its speaker's context."""
    paths, speakers = two_voices
    (tmp_path / "empty.wav").write_bytes(b"")
    with_bad = [*paths[:3], tmp_path / "empty.wav"]
    results = predict_files(context_model, with_bad, speakers=[*speakers[:3], "low"])
    alone = predict_files(context_model, paths[:3], speakers=speakers[:3])
    assert results[3].error == "empty file (0 bytes)"
    for a, b in zip(results[:3], alone, strict=True):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)


def test_speakers_need_the_context_input_and_one_per_path(model, context_model):
    with pytest.raises(ValueError, match="speaker_context=True"):
        predict_files(model, ["a.wav"], speakers=["me"])
    with pytest.raises(ValueError, match="one speaker per path"):
        predict_files(context_model, ["a.wav", "b.wav"], speakers=["me"])


def test_file_result_is_a_plain_record():
    result = FileResult("a.wav", np.array([0.1, 0.7, 0.1, 0.1], np.float32), 0.2)
    assert result.voiced and result.top(2)[0][:2] == (2, "tone 2 (rising)")
    assert FileResult("b.wav", error="empty file (0 bytes)").top() == []


@pytest.mark.slow
@pytest.mark.data
def test_real_files_equal_todays_path(shared_data):
    """Over 1,300 shared recordings, against keras-tone predict 0.1.0 (chunks of 64, sorted).

    Today's answer for a clip whose sound reaches its last sample depends on
    how much padding its chunk gives it; for those the reference is the clip
    followed by 1,024 zeros, which any longer padding leaves unchanged.
    """
    keras.utils.set_random_seed(7)  # any weights: the claim is about batching, not accuracy
    model = ToneNet(weights=None)
    files = sorted(p for p in shared_data.rglob("*") if p.suffix in (".mp3", ".flac"))[::10]
    assert len(files) >= 1000
    results = predict_files(model, files)
    worst, margin_dependent = 0.0, 0
    for start in range(0, len(files), 64):
        clips = [load_audio(p) for p in files[start : start + 64]]
        today = _today(model, clips)
        longest = max(c.size for c in clips)
        for clip, answer, result in zip(clips, today, results[start : start + 64], strict=True):
            if longest - 1 - np.flatnonzero(clip)[-1] < 1024:
                margin_dependent += 1
                answer = _today(model, [np.pad(clip, (0, 1024))])[0]
            worst = max(worst, float(np.abs(result.probabilities - answer).max()))
    print(f"{len(files)} files; largest difference {worst:.2e}; {margin_dependent} padded")
    assert worst < 1e-5


def test_the_traced_graph_does_not_keep_the_model_alive(tmp_path):
    import gc
    import weakref

    from keras_tone import runner

    model = ToneNet(weights=None)
    sf.write(tmp_path / "a.wav", _syllable(1, 0.1, 0.1), RATE)
    predict_files(model, [tmp_path / "a.wav"])  # traces the graph
    assert model in runner._GRAPHS
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


# --------------------------------------------------------------------------- the runner


def test_predict_and_evaluate_give_identical_probabilities(model, folder, tmp_path, monkeypatch):
    """`keras-tone predict` and `keras-tone evaluate` run one code path on a clip."""
    from keras_tone.evaluation import evaluate
    from keras_tone.runner import Runner

    root, files = folder
    good = [n for n in sorted(files) if files[n] is None and n != "stereo.mp3"]
    rows = [f"{root / n},ma,{i % 4 + 1},me,F" for i, n in enumerate(good)]
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,syllable,tone,speaker,sex\n" + "\n".join(rows) + "\n")
    seen = []
    classify = Runner.classify

    def spy(self, features, *args, **kwargs):
        seen.append(classify(self, features, *args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(Runner, "classify", spy)
    report = evaluate(model, manifest, cache_dir=tmp_path / "cache", allow_outside_paths=True)
    assert report["overall"]["clips"] == len(good) and len(seen) == 1
    results = predict_files(model, [root / n for n in good], batch_size=3)
    np.testing.assert_array_equal(np.stack([r.probabilities for r in results]), seen[0])


def test_runner_is_the_model(model, context_model, two_voices):
    """The front end and head passes give `model.predict`'s probabilities, and the histograms."""
    from keras_tone.context import pitch_histograms
    from keras_tone.runner import Runner

    paths, speakers = two_voices
    clips = [load_audio(p) for p in paths]
    batch = prepare_batch(clips)
    out = Runner(model, batch_size=4).predict(clips)
    np.testing.assert_allclose(out.probabilities, model.predict(batch, verbose=0), atol=1e-5)
    np.testing.assert_allclose(out.histograms, pitch_histograms(clips), atol=1e-6)
    assert (out.voiced_seconds > MIN_VOICED_SECONDS).all()
    runner = Runner(context_model, batch_size=2)
    features = runner.features(clips)
    contexts = np.random.default_rng(0).uniform(0, 2, (len(clips), runner.context_size))
    expected = context_model.predict([batch, contexts.astype("float32")], verbose=0)
    np.testing.assert_allclose(runner.classify(features, contexts), expected, atol=1e-5)
    zeros = np.zeros_like(contexts, dtype="float32")
    alone = context_model.predict([batch, zeros], verbose=0)
    np.testing.assert_allclose(runner.classify(features), alone, atol=1e-5)


def test_speaker_context_takes_one_front_end_pass(context_model, two_voices, monkeypatch):
    from keras_tone.runner import Runner

    paths, speakers = two_voices
    passes = []
    front_batches = Runner._front_batches

    def count(self, clips):
        passes.append(len(clips))
        return front_batches(self, clips)

    monkeypatch.setattr(Runner, "_front_batches", count)
    predict_files(context_model, paths, speakers=speakers)
    assert passes == [len(paths)]


def test_runner_errors_say_what_to_do(model, context_model):
    from keras_tone import ToneNetConfig
    from keras_tone.runner import Runner

    clip = [_syllable(1, 0.0, 0.1)]
    with pytest.raises(ValueError, match="speaker_context=True"):
        Runner(model).predict(clip, contexts=np.zeros(87, "float32"))
    with pytest.raises(ValueError, match=r"contexts must be \[1, 87\].*Received: contexts.shape"):
        Runner(context_model).predict(clip, contexts=np.zeros((2, 87), "float32"))
    with pytest.raises(ValueError, match="one label per clip"):
        Runner(context_model).predict(clip, groups=["a", "b"])
    with pytest.raises(ValueError, match="front end alone"):
        Runner(ToneNetConfig()).predict(clip)
    with pytest.raises(ValueError, match="NaN or Inf"):
        Runner(model).predict([np.full(100, np.nan, "float32")])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        Runner(model, batch_size=0)
    with pytest.raises(ValueError, match="with their classifier"):
        Runner(ToneNet(weights=None, include_top=False, pooling="avg"))
