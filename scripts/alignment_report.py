"""How well `keras_tone.alignment.align` finds the syllables of sentences (AISHELL sample).

    python scripts/alignment_report.py [--shared ../shared] [--out runs/alignment]
                                       [--write-detector keras_tone/boundary_detector.json]

Every number of `docs/sentences.md` comes from this script (printed as
Markdown and written to `OUT/report.json`):

1. **The reference times' bias.** The sample's syllable times come from a
   monophone aligner and are early. At every boundary between two touching
   syllables where the second begins with a strong fricative (s, sh, x, f),
   the frication's onset is found as the steepest rise of the level above
   2.5 kHz relative to 300-2500 Hz (16 ms windows every 2.5 ms, slope over
   +-10 ms) within 100 ms of the given boundary. The median of (onset -
   given) per speaker, rounded to 5 ms, is the shift added to every given
   time ("corrected" times).
2. **The boundary detector**, trained speaker-held-out: on one speaker's
   full sentences (corrected times), with or without pseudo-sentences of
   four isolated-syllable voices of `SHARED/data` (syllables joined, true
   spans known), tested on the other speaker's sentences and on
   pseudo-sentences of three other voices. Boundaries are
   the start of every syllable but the first (after a pause: the end of the
   pause); errors per speaker and per kind of onset, with the pinyin given,
   with only the number of syllables given, and for the word segmenter
   (`keras_tone.segmentation.segment`, number given) as the baseline. The
   first syllable's start and the last one's end are reported apart.
3. **Counting** (`keras_tone.segmentation.count_syllables`) on the
   sentences it accepts (up to 10 s).
4. **Speed** of `align` per second of audio, and a recording of a minute
   or more (the sentences of one speaker joined) aligned end to end.
5. **Reading characters**: `keras_tone.hanzi.read_hanzi` on each full
   sentence's characters against the sample's pinyin and surface tones,
   as written and with the sample's own word split given as spaces.
6. **Words**: pseudo-words with known boundaries (as in
   `scripts/segmentation_report.py`: clips of the isolated-syllable voices
   joined), the test half, of the three voices the fold detectors did not
   hear, by `segment` and by `align` with the number of syllables given.

`--write-detector PATH` then trains the detector on both speakers and the
pseudo-sentences of all seven voices and writes it (the file keras_tone
ships). Takes about ten minutes on two
busy CPU cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SR = 16000
FRICATIVES = ("sh", "s", "x", "f")
# Detector training: inside/pause frames kept (the rest are events), hidden units, epochs.
KEEP_FRAMES = 0.2
HIDDEN = 32
EPOCHS = 8
CONTEXT = 5
DURATION_SIGMA = 0.5
DURATION_WEIGHT = 2.0
# Pseudo-sentences of the isolated-syllable voices: these train the detector of a fold
# (beside the other AISHELL speaker), the others test it; the shipped detector sees all.
PSEUDO_TRAIN_VOICES = ("pffy_f1", "losttheory_m1", "audiocmn_yuetan", "yali_f2")
PSEUDO_TEST_VOICES = ("audiocmn_chenwang", "hantts_m2", "hotoo_f3")
PSEUDO_PER_VOICE = 60


# --- 1. the bias of the given times -----------------------------------------------------


def fricative_onsets(recording: np.ndarray, given: np.ndarray, syllables) -> list[float]:
    """(frication onset - given start) in seconds for each touching fricative-initial syllable."""
    hop, win = int(0.0025 * SR), int(0.016 * SR)
    n_fft = 512
    count = recording.size // hop + 1
    padded = np.pad(recording.astype(np.float64), (win // 2, win // 2 + hop))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:count]
    power = np.abs(np.fft.rfft(frames * np.hanning(win), n=n_fft, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / SR)
    high = 10 * np.log10(power[:, freqs >= 2500].sum(1) + 1e-12)
    mid = 10 * np.log10(power[:, (freqs >= 300) & (freqs < 2500)].sum(1) + 1e-12)
    shape = np.concatenate([[0.0], np.cumsum(high - mid)])
    k = 4  # +-10 ms
    j = np.arange(count)
    after = (shape[np.minimum(j + k, count)] - shape[j]) / k
    before = (shape[j] - shape[np.maximum(j - k, 0)]) / k
    rise = after - before
    found = []
    for i in range(1, len(syllables)):
        if not syllables[i].startswith(FRICATIVES) or abs(given[i, 0] - given[i - 1, 1]) > 1e-6:
            continue
        centre = int(round(given[i, 0] / 0.0025))
        low, top = max(k, centre - 40), min(count - k, centre + 41)
        if top - low > 10:
            found.append((low + int(np.argmax(rise[low:top]))) * 0.0025 - given[i, 0])
    return found


def estimate_shifts(corpus, partial: dict[str, bool]) -> dict:
    by_speaker: dict[str, list[float]] = {}
    for i, row in enumerate(corpus.words):
        mask = corpus.word == i
        onsets = fricative_onsets(corpus.recordings[i], corpus.given[mask], row.syllables)
        by_speaker.setdefault(row.speaker, []).extend(onsets)
    out = {}
    for speaker, values in sorted(by_speaker.items()):
        v = np.array(values) * 1000
        out[speaker] = {
            "boundaries": int(v.size),
            "median_ms": round(float(np.median(v)), 1),
            "iqr_ms": [round(float(q), 1) for q in np.percentile(v, [25, 75])],
            "shift_s": round(float(np.round(np.median(v) / 5) * 5) / 1000, 3),
        }
    return out


# --- 2. the detector --------------------------------------------------------------------


def frame_labels(spans: np.ndarray, syllables, frames: int) -> np.ndarray:
    """Class per frame (keras_tone.alignment.DETECTOR_CLASSES), -1 next to an event."""
    from keras_tone.alignment import DETECTOR_CLASSES, onset_kind

    starts = np.round(spans[:, 0] / 0.01).astype(int)
    ends = np.round(spans[:, 1] / 0.01).astype(int)
    labels = np.full(frames, DETECTOR_CLASSES.index("pause"))
    for s, e in zip(starts, ends, strict=True):
        labels[max(s, 0) : min(e, frames)] = 0
    events = {}
    for i, (s, syllable) in enumerate(zip(starts, syllables, strict=True)):
        if i == 0 or s > ends[i - 1]:
            events[s] = "speech_start"
            if i:
                events[ends[i - 1]] = "speech_end"
        else:
            events[s] = onset_kind(syllable)
    events[ends[-1]] = "speech_end"
    out = labels.copy()
    for frame, name in events.items():
        if 0 <= frame < frames:
            out[frame] = DETECTOR_CLASSES.index(name)
    for frame in events:
        for near in (frame - 1, frame + 1):
            if 0 <= near < frames and near not in events:
                out[near] = -1
    return out


def training_data(sentences, rng):
    from keras_tone.alignment import detector_inputs, measure, stack_context

    xs, ys, ws = [], [], []
    for recording, spans, syllables in sentences:
        inputs = stack_context(detector_inputs(measure(recording, SR)), CONTEXT)
        labels = frame_labels(spans, syllables, inputs.shape[0])
        frame_class = labels <= 1
        keep = (labels >= 0) & (~frame_class | (rng.random(labels.size) < KEEP_FRAMES))
        xs.append(inputs[keep])
        ys.append(labels[keep])
        ws.append(np.where(frame_class[keep], 1 / KEEP_FRAMES, 1.0))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def train_detector(sentences, offsets: dict[str, float], trained_on: str, seed: int = 0):
    """A BoundaryDetector fitted with Keras on (recording, spans, syllables) triples."""
    from keras_tone._keras import keras
    from keras_tone.alignment import DETECTOR_CLASSES, BoundaryDetector

    rng = np.random.default_rng(seed)
    x, y, w = training_data(sentences, rng)
    mean, scale = x.mean(0), x.std(0) + 1e-6
    counts = np.bincount(y, weights=w, minlength=len(DETECTOR_CLASSES))
    weights = w / counts[y] * len(y) / len(DETECTOR_CLASSES)  # every class weighs the same
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(len(DETECTOR_CLASSES)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(
        ((x - mean) / scale).astype("float32"),
        y,
        sample_weight=weights.astype("float32"),
        batch_size=512,
        epochs=EPOCHS,
        verbose=0,
    )
    (kernel, bias), (out_kernel, out_bias) = (layer.get_weights() for layer in model.layers)
    return BoundaryDetector(
        context=CONTEXT,
        mean=mean,
        scale=scale,
        hidden_kernel=kernel.astype(np.float64),
        hidden_bias=bias.astype(np.float64),
        output_kernel=out_kernel.astype(np.float64),
        output_bias=out_bias.astype(np.float64),
        log_prior=np.zeros(len(DETECTOR_CLASSES)),
        duration_offsets=offsets,
        duration_sigma=DURATION_SIGMA,
        duration_weight=DURATION_WEIGHT,
        trained_on=trained_on,
    )


def duration_offsets(sentences) -> dict[str, float]:
    """Mean log-duration relative to the sentence's mean, by onset kind, neutral, last."""
    from keras_tone.alignment import ONSET_KINDS, onset_kind

    rows = []
    for _, spans, syllables, tones in sentences:
        logs = np.log(spans[:, 1] - spans[:, 0])
        logs -= logs.mean()
        for i, (value, syllable, tone) in enumerate(zip(logs, syllables, tones, strict=True)):
            rows.append((onset_kind(syllable), tone == 5, i == len(logs) - 1, value))
    kinds = np.array([r[0] for r in rows])
    neutral = np.array([r[1] for r in rows])
    last = np.array([r[2] for r in rows])
    value = np.array([r[3] for r in rows])
    offsets = {
        kind: float(value[(kinds == kind) & ~neutral & ~last].mean()) for kind in ONSET_KINDS
    }
    base = np.array([offsets[k] for k in kinds])
    offsets["neutral"] = float((value - base)[neutral & ~last].mean())
    offsets["last"] = float((value - base)[last & ~neutral].mean())
    return {k: round(v, 3) for k, v in offsets.items()}


def boundary_errors(found: np.ndarray, reference: np.ndarray, syllables) -> dict[str, list]:
    from keras_tone.alignment import onset_kind

    out: dict[str, list] = {"first": [abs(found[0, 0] - reference[0, 0])]}
    out["last"] = [abs(found[-1, 1] - reference[-1, 1])]
    for i in range(1, len(syllables)):
        paused = reference[i, 0] - reference[i - 1, 1] > 1e-6
        syllable = getattr(syllables[i], "syllable", syllables[i])  # a Syllable or its pinyin
        kind = "after a pause" if paused else onset_kind(syllable)
        out.setdefault(kind, []).append(abs(found[i, 0] - reference[i, 0]))
    return out


def summary(errors: Sequence[float]) -> dict:
    e = np.asarray(errors) * 1000
    return {
        "boundaries": int(e.size),
        "median_ms": round(float(np.median(e)), 1),
        "p90_ms": round(float(np.percentile(e, 90)), 1),
        "within_20ms": round(float(np.mean(e <= 20 + 1e-6)), 3),
        "within_50ms": round(float(np.mean(e <= 50 + 1e-6)), 3),
    }


def evaluate(method, sentences) -> dict:
    pooled: dict[str, list] = {}
    seconds = 0.0
    audio = 0.0
    for recording, reference, syllables in sentences:
        began = time.perf_counter()
        found = np.asarray(method(recording, syllables), dtype=np.float64)
        seconds += time.perf_counter() - began
        audio += recording.size / SR
        for kind, values in boundary_errors(found, reference, syllables).items():
            pooled.setdefault(kind, []).extend(values)
    inner = [v for k, vs in pooled.items() if k not in ("first", "last") for v in vs]
    return {
        "all": summary(inner),
        "by_kind": {k: summary(v) for k, v in sorted(pooled.items())},
        "seconds_per_audio_second": round(seconds / audio, 4),
    }


def hanzi_agreement(folder: Path, partial: dict[str, bool]) -> dict:
    """read_hanzi against the sample's pinyin and surface, per syllable and per sentence."""
    import csv

    from keras_tone.hanzi import read_hanzi

    words: dict[str, list[str]] = {}
    with (folder / "syllables.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            split = words.setdefault(row["path"], [])
            if not split or split[-1] != row["word"] or row["hanzi"] == row["word"][:1]:
                split.append(row["word"])
    out = {}
    with (folder / "sentences.csv").open(newline="", encoding="utf-8") as handle:
        rows = [
            r for r in csv.DictReader(handle) if not partial[str((folder / r["path"]).resolve())]
        ]
    for name, text_of in (
        ("as written", lambda r: r["hanzi"]),
        ("words given as spaces", lambda r: " ".join(words[r["path"]])),
    ):
        syllables = sentences = pinyin_right = surface_right = 0
        surface_sentences = 0
        for r in rows:
            read = read_hanzi(text_of(r))
            pinyin, surface = r["pinyin"].split(), [int(t) for t in r["surface"]]
            if len(read) != len(pinyin):
                continue
            sentences += 1
            syllables += len(pinyin)
            pinyin_right += sum(s.pinyin == p for s, p in zip(read, pinyin, strict=True))
            same = [s.surface == t for s, t in zip(read, surface, strict=True)]
            surface_right += sum(same)
            surface_sentences += all(same)
        out[name] = {
            "sentences": len(rows),
            "same_count": sentences,
            "pinyin_right": round(pinyin_right / syllables, 4),
            "surface_right": round(surface_right / syllables, 4),
            "sentences_all_surface_right": round(surface_sentences / sentences, 3),
        }
    return out


def pseudo_word_boundaries(data: Path, detector, per_speaker: int = 100) -> dict:
    """Words of joined isolated syllables (segmentation_report.py), test half, unseen voices."""
    from segmentation_report import pseudo_words

    from keras_tone.alignment import align
    from keras_tone.segmentation import segment

    words = [
        word
        for word in pseudo_words(data, faster=False, per_speaker=per_speaker)[1::2]
        if word["speaker"] in PSEUDO_TEST_VOICES  # voices the fold detectors never heard
    ]
    out = {}
    methods = {
        "segment": lambda w: segment(w["wave"], SR, w["n"]),
        "align, number given": lambda w: align(w["wave"], SR, w["n"], detector=detector),
    }
    for name, method in methods.items():
        errors = []
        for word in words:
            spans = method(word)
            found = [(a.end + b.start) / 2 for a, b in itertools.pairwise(spans)]
            errors.extend(np.abs(np.array(found) - word["bounds"]))
        out[name] = summary(errors)
    return out


def pseudo_sentences(data: Path, voice: str, count: int, seed: int) -> list[tuple]:
    """Sentences of 5-12 isolated syllables of one voice, joined, with their true spans.

    Each syllable is trimmed (`segmentation_report.trim`) and scaled by +-4 dB; in 70% of
    the sentences all but the last are played 1.2-2x faster (pitch kept). Joins: end to
    end (half), a 10-40 ms crossfade or a 50-300 ms pause (a quarter each); 150-300 ms of
    silence around, a noise floor 45-65 dB below. Returns `(wave, spans, syllables,
    pinyin)` tuples, spans rounded to the 10 ms grid.
    """
    import csv

    import librosa
    from segmentation_report import trim

    from keras_tone import load_audio
    from keras_tone.pinyin import Syllable

    rng = np.random.default_rng(seed)
    with (data / voice / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for _ in range(count):
        n = int(rng.integers(5, 13))
        clips, names = [], []
        for pick in rng.choice(len(rows), n, replace=False):
            clip = trim(load_audio(data / voice / rows[pick]["path"], sample_rate=SR))
            clips.append(clip / (np.abs(clip).max() + 1e-9) * 10 ** (rng.uniform(-4, 4) / 20) / 2)
            names.append(Syllable(rows[pick]["syllable"].replace("_", ""), int(rows[pick]["tone"])))
        if rng.random() < 0.7:
            rates = [rng.uniform(1.2, 2.0) for _ in range(n - 1)] + [rng.uniform(1.0, 1.3)]
            clips = [
                librosa.effects.time_stretch(c, rate=r, n_fft=512)
                for c, r in zip(clips, rates, strict=True)
            ]
        parts = [np.zeros(int(rng.uniform(0.15, 0.3) * SR))]
        position, spans = parts[0].size, []
        for k, clip in enumerate(clips):
            clip, start = clip.copy(), position
            join = str(rng.choice(["pause", "join", "join", "crossfade"])) if k else "first"
            if join == "pause":
                gap = int(rng.uniform(0.05, 0.3) * SR)
                parts.append(np.zeros(gap))
                position += gap
                start = position
            elif join == "crossfade":
                overlap = min(
                    int(rng.uniform(0.01, 0.04) * SR), clip.size // 3, parts[-1].size // 3
                )
                fade = np.sin(np.linspace(0, np.pi / 2, overlap)) ** 2
                parts[-1][-overlap:] = parts[-1][-overlap:] * (1 - fade) + clip[:overlap] * fade
                clip = clip[overlap:]
                start = position - overlap // 2
                spans[-1][1] = start
            parts.append(clip)
            position += clip.size
            spans.append([start, position])
        parts.append(np.zeros(int(rng.uniform(0.15, 0.3) * SR)))
        wave = np.concatenate(parts)
        wave += 10 ** (rng.uniform(-65, -45) / 20) * rng.standard_normal(wave.size)
        spans = np.round(np.array(spans) / SR / 0.01) * 0.01
        out.append((wave.astype(np.float32), spans, tuple(s.syllable for s in names), names))
    return out


# --- the report -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/alignment"))
    parser.add_argument("--write-detector", type=Path, default=None)
    args = parser.parse_args(argv)
    folder = args.shared / "connected" / "aishell1_sample"
    if not (folder / "sentences.csv").is_file():
        print(f"No AISHELL sample at {folder}.", file=sys.stderr)
        return 2
    from keras_tone.alignment import BoundaryDetector, align
    from keras_tone.segmentation import MAX_COUNT_SECONDS, count_syllables, segment
    from keras_tone.sentences import load_sentence_corpus, read_sentence_manifest

    args.out.mkdir(parents=True, exist_ok=True)
    manifest = folder / "sentences.csv"
    partial = {str(s.row.path): s.partial for s in read_sentence_manifest(manifest)}
    corpus = load_sentence_corpus(manifest, spans="given", progress=False)
    report: dict = {"sentences": len(corpus.words), "shift": estimate_shifts(corpus, partial)}
    print("shift", json.dumps(report["shift"]), file=sys.stderr, flush=True)

    # Full sentences (every syllable labelled) with corrected times, per speaker.
    full: dict[str, list] = {}
    for i, row in enumerate(corpus.words):
        if partial[str(row.path)]:
            continue
        shift = report["shift"][row.speaker]["shift_s"]
        spans = corpus.given[corpus.word == i] + shift
        full.setdefault(row.speaker, []).append(
            (corpus.recordings[i], spans, row.syllables, row.surface, row.pinyin)
        )
    report["full_sentences"] = {k: len(v) for k, v in full.items()}
    speakers = sorted(full)
    data = args.shared / "data"
    pseudo = {
        voice: pseudo_sentences(data, voice, PSEUDO_PER_VOICE, seed)
        for seed, voice in enumerate(PSEUDO_TRAIN_VOICES + PSEUDO_TEST_VOICES)
    }
    pseudo_train = [(w, sp, syl) for v in PSEUDO_TRAIN_VOICES for w, sp, syl, _ in pseudo[v]]
    pseudo_test = [(w, sp, names) for v in PSEUDO_TEST_VOICES for w, sp, _, names in pseudo[v]]
    print("pseudo-sentences built", file=sys.stderr, flush=True)
    report["held_out"], report["unseen_voices"] = {}, {}
    for test in speakers:
        train = [s for speaker in speakers if speaker != test for s in full[speaker]]
        offsets = duration_offsets([(None, sp, syl, tones) for _, sp, syl, tones, _ in train])
        aishell = [(rec, sp, syl) for rec, sp, syl, _, _ in train]
        detectors = {
            "AISHELL only": train_detector(aishell, offsets, f"all but {test}"),
            "+ pseudo-sentences": train_detector(
                aishell + pseudo_train, offsets, f"all but {test}, pseudo-sentences"
            ),
        }
        tests = [(rec, sp, pin) for rec, sp, _, _, pin in full[test]]
        results = {}
        for trained, detector in detectors.items():
            results[f"align, pinyin given ({trained})"] = evaluate(
                lambda x, p, d=detector: align(x, SR, list(p), detector=d), tests
            )
        detector = detectors["+ pseudo-sentences"]
        results["align, number given"] = evaluate(
            lambda x, p, d=detector: align(x, SR, len(p), detector=d), tests
        )
        results["segment (words), number given"] = evaluate(
            lambda x, p: segment(x, SR, len(p)), tests
        )
        report["held_out"][test] = results
        report["unseen_voices"][test] = {
            f"{given} given ({trained})": evaluate(
                lambda x, p, d=d, g=given: align(
                    x, SR, list(p) if g == "pinyin" else len(p), detector=d
                ),
                pseudo_test,
            )["all"]
            for trained, d in detectors.items()
            for given in ("pinyin", "number")
        }
        print(f"held out {test} done", file=sys.stderr, flush=True)

    counts = {}
    for speaker in speakers:
        right, near, total = 0, 0, 0
        for recording, _, syllables, _, _ in full[speaker]:
            if recording.size / SR > MAX_COUNT_SECONDS:
                continue
            estimate = count_syllables(recording, SR)
            total += 1
            right += estimate == len(syllables)
            near += abs(estimate - len(syllables)) <= 1
        counts[speaker] = {
            "sentences": total,
            "right": round(right / total, 3),
            "within_one": round(near / total, 3),
        }
    report["count_syllables"] = counts

    # A recording of a minute or more: one speaker's sentences joined, aligned end to end.
    joined, pinyin = [], []
    for recording, _, _, _, pin in full[speakers[0]]:
        joined.append(recording)
        pinyin.extend(pin)
        if sum(r.size for r in joined) >= 60 * SR:
            break
    long = np.concatenate(joined)
    shipped = BoundaryDetector.load() if args.write_detector is None else detector
    began = time.perf_counter()
    spans = align(long, SR, pinyin, detector=shipped)
    report["long_recording"] = {
        "audio_seconds": round(long.size / SR, 1),
        "syllables": len(spans),
        "seconds": round(time.perf_counter() - began, 2),
    }

    report["read_hanzi"] = hanzi_agreement(folder, partial)
    print("read_hanzi done", file=sys.stderr, flush=True)
    report["pseudo_words"] = pseudo_word_boundaries(args.shared / "data", shipped)
    print("pseudo-words done", file=sys.stderr, flush=True)

    if args.write_detector is not None:
        everyone = [s for speaker in speakers for s in full[speaker]]
        offsets = duration_offsets([(None, sp, syl, tones) for _, sp, syl, tones, _ in everyone])
        shifts = ", ".join(f"{k} +{v['shift_s'] * 1000:.0f} ms" for k, v in report["shift"].items())
        every_voice = [(w, sp, syl) for sentences in pseudo.values() for w, sp, syl, _ in sentences]
        detector = train_detector(
            [(rec, sp, syl) for rec, sp, syl, _, _ in everyone] + every_voice,
            offsets,
            f"AISHELL-1 sample (kaldi-asr-aishell-sample @ 4e69bf1), {len(everyone)} full "
            f"sentences of 2 speakers, given syllable times shifted ({shifts}); "
            f"{len(every_voice)} pseudo-sentences of the isolated syllables of "
            f"{', '.join(pseudo)} (scripts/alignment_report.py)",
        )
        detector.save(args.write_detector)
        report["detector"] = {"path": str(args.write_detector), "duration_offsets": offsets}

    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = ["| speaker | fricative onsets | median (IQR) after the given start | shift |"]
    lines.append("|---|---|---|---|")
    for speaker, r in report["shift"].items():
        lines.append(
            f"| {speaker} | {r['boundaries']} | {r['median_ms']:.1f} ms "
            f"({r['iqr_ms'][0]:.0f} to {r['iqr_ms'][1]:.0f}) | +{r['shift_s'] * 1000:.0f} ms |"
        )
    lines += [
        "",
        "| held out | method | boundary | boundaries | median | p90 | <= 20 ms | <= 50 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for speaker, methods in report["held_out"].items():
        for name, r in methods.items():
            for kind, s in [("all but first/last", r["all"]), *r["by_kind"].items()]:
                lines.append(
                    f"| {speaker} | {name} | {kind} | {s['boundaries']} | {s['median_ms']:.0f} ms "
                    f"| {s['p90_ms']:.0f} ms | {s['within_20ms']:.1%} | {s['within_50ms']:.1%} |"
                )
    lines += [
        "",
        "| fold (held out) | unseen voices | boundaries | median | p90 | <= 20 ms | <= 50 ms |",
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for speaker, methods in report["unseen_voices"].items():
        for name, s in methods.items():
            lines.append(
                f"| {speaker} | {name} | {s['boundaries']} | {s['median_ms']:.0f} ms "
                f"| {s['p90_ms']:.0f} ms | {s['within_20ms']:.1%} | {s['within_50ms']:.1%} |"
            )
    lines += ["", "| speaker | sentences <= 10 s | count right | within one |", "|---|---|---|---|"]
    for speaker, r in report["count_syllables"].items():
        lines.append(f"| {speaker} | {r['sentences']} | {r['right']:.1%} | {r['within_one']:.1%} |")
    lines += ["", "| read_hanzi | sentences | pinyin right | surface right | sentences all right |"]
    lines.append("|---|---|---|---|---|")
    for name, r in report["read_hanzi"].items():
        lines.append(
            f"| {name} | {r['same_count']} of {r['sentences']} | {r['pinyin_right']:.1%} | "
            f"{r['surface_right']:.1%} | {r['sentences_all_surface_right']:.1%} |"
        )
    lines += ["", "| pseudo-words | boundaries | median | p90 | <= 20 ms | <= 50 ms |"]
    lines.append("|---|---|---|---|---|---|")
    for name, s in report["pseudo_words"].items():
        lines.append(
            f"| {name} | {s['boundaries']} | {s['median_ms']:.0f} ms | {s['p90_ms']:.0f} ms | "
            f"{s['within_20ms']:.1%} | {s['within_50ms']:.1%} |"
        )
    r = report["long_recording"]
    lines += [
        "",
        f"{r['audio_seconds']:.0f} s recording: {r['syllables']} syllables aligned in "
        f"{r['seconds']:.2f} s.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
