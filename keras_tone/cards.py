"""Model cards: the `README.md` of a preset, written from its `report.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from keras_tone.config import ToneNetConfig
from keras_tone.presets import CARD_NAME, CONFIG_NAME, REPORT_NAME
from keras_tone.reports import format_report, percent, validation_tables


def model_card(
    report: dict,
    *,
    name: str,
    config: ToneNetConfig,
    data_licences: dict[str, str] | None = None,
    notes: str | None = None,
) -> str:
    """A Hugging Face model card for a trained preset, with its measured numbers.

    Args:
        report: the preset's `report.json` (`keras_tone.training.train`).
        name: the preset name.
        config: the preset's `ToneNetConfig`.
        data_licences: `{manifest folder name: licence text}`.
        notes: Markdown that goes in as a section of its own before the
            limitations (findings, caveats, what was tried).

    Returns:
        The card: Markdown with the Hub's YAML header.
    """
    classes = report["classes"]
    recipe = report["recipe"]
    loso = report.get("loso")
    metrics_yaml = ""
    if loso:
        results = "\n".join(
            f"      - type: accuracy\n        name: held-out {speaker} accuracy ({mode})"
            f"\n        value: {stats[key]['mean']:.4f}"
            for speaker, stats in loso["summary"].items()
            for key, mode in (("alone", "alone"), ("all", "with speaker context"))
        )
        metrics_yaml = (
            "model-index:\n"
            f"  - name: keras-tone-{name}\n"
            "    results:\n"
            "      - task:\n          type: audio-classification\n"
            "          name: Mandarin tone classification (leave-one-speaker-out)\n"
            "        metrics:\n"
            + results.replace("      - type", "          - type")
            .replace("        name", "            name")
            .replace("        value", "            value")
            + "\n"
        )
    folders = [Path(m).parent.name for m in report["manifests"]]
    licence_lines = []
    for folder in folders:
        licence = (data_licences or {}).get(folder, "licence: see the corpus's own terms")
        licence_lines.append(f"- `{folder}`: {licence}")
    texts = " ".join((data_licences or {}).get(f, "") for f in folders)
    conditions = []
    if "GPL" in texts:
        conditions.append("GPL-3.0-or-later (copyleft)")
    if "CC BY-SA" in texts:
        conditions.append("CC BY-SA (attribution, share-alike)")
    licence_note = [
        "",
        "**Licence of these weights.** The weights are learned from the recordings above. "
        "Whether trained weights are a derivative work of their training data is not "
        "settled; the recordings' licences may apply to them.",
    ]
    if conditions:
        licence_note[-1] += (
            " Some of the recordings come with redistribution conditions: "
            + " and ".join(conditions)
            + ". Redistribute these weights only with this model card (it credits every "
            "source) and on terms compatible with those licences; if you cannot, retrain "
            "without those folders (command below) - the other folders' licences "
            "(public domain, MIT, unstated) carry no such condition."
        )
    header = (
        "---\n"
        "library_name: keras\n"
        "license: other\n"
        "language:\n  - zh\n"
        "pipeline_tag: audio-classification\n"
        "tags:\n  - keras\n  - keras-tone\n  - audio-classification\n  - mandarin\n"
        "  - lexical-tone\n  - tonenet\n"
        "datasets:\n"
        + "".join(f"  - {f}\n" for f in folders)
        + "metrics:\n  - accuracy\n"
        + metrics_yaml
        + "---\n\n"
    )
    per_speaker = ", ".join(
        f"{k}: {v}" for k, v in report.get("clips_per_speaker", {}).items()
    ) or ", ".join(report["speakers"])
    body = [
        f"# ToneNet `{name}`: Mandarin lexical tone of one syllable ({classes} classes)",
        "",
        "Classifies the tone of one spoken Mandarin syllable from its raw waveform "
        f"(mono float32, {config.sample_rate} Hz, any length): "
        + ", ".join(config.class_names)
        + ".",
        "",
        "```python",
        "import numpy as np",
        "import keras_tone",
        f'model = keras_tone.ToneNet(weights="{name}")',
        "clips = [keras_tone.load_audio(path) for path in paths]",
        "probs = model.predict(keras_tone.prepare_batch(clips))",
        "print(keras_tone.decode_predictions(probs))",
        "",
        "# With the speaker's other clips as context (no labels needed):",
        f'model = keras_tone.ToneNet(weights="{name}", speaker_context=True)',
        "context = keras_tone.speaker_context(clips)",
        "batch = keras_tone.prepare_batch(clips)",
        'probs = model.predict({"waveform": batch,',
        '                       "speaker_context": np.repeat(context[None], len(batch), 0)})',
        "```",
        "",
        f"{report['parameters']:,} parameters. Silence trimming, loudness normalisation, "
        "the log-mel and the pitch salience run inside the model.",
        "",
        "## Training data",
        "",
        f"{report['clips']} clips of {len(report['speakers'])} speakers ({per_speaker}); "
        "clips per class: "
        + ", ".join(
            f"{n} {c}" for n, c in zip(config.class_names, report["clips_per_class"], strict=True)
        )
        + ".",
        "",
        *licence_lines,
        *licence_note,
        "",
        "## Training recipe",
        "",
        recipe_text(recipe, seeds=report["seeds"]),
        f"Training took {report['train_seconds'] / 60:.1f} min on the CPU it ran on, in "
        f"{'mixed bfloat16' if recipe['mixed_precision'] else 'float32'} "
        "(final accuracy on the augmented training clips "
        + ", ".join(percent(m["final_train_accuracy"]) + "%" for m in report["members"])
        + ").",
        "",
    ]
    if loso:
        body += [
            "## Evaluation: leave-one-speaker-out",
            "",
            "Each row is a model trained by the same recipe on the other speakers and "
            "tested on the held-out one (no clip or speaker of the test is seen in "
            "training). These numbers, not accuracy on the training speakers, are what "
            "to expect on a new voice of similar recording quality.",
            "",
            format_report(loso, markdown=True),
            "",
        ]
    if "validation" in report:
        body += [
            "## Evaluation: voices from other collections",
            "",
            "Voices recorded elsewhere than any training voice, used to choose between "
            "designs and never trained on (their recordings are not redistributed: "
            + ", ".join(f"`{Path(m).parent.name}`" for m in report["validation_manifests"])
            + ").",
            "",
            validation_tables(report, markdown=True),
            "",
        ]
    if loso and "validation" in report:
        body += [_precision_section(loso, report["validation"]), ""]
    if "conditions" in report:
        body += [_conditions_section(report["conditions"]), ""]
    if notes:
        body += [notes.strip(), ""]
    body += [
        "## Limitations",
        "",
        "- Isolated syllables, mostly read in citation form. Tones in connected speech "
        "(sandhi, coarticulation) are not measured.",
        f"- {len(report['speakers'])} speakers only; few low voices. Accuracy on children, "
        "very low or very high voices, whispered or creaky speech is not measured.",
        "- One syllable per clip: split longer recordings first. Noise robustness beyond the "
        "augmentation's SNR range is not measured.",
        "",
        "## Retrain",
        "",
        "The numbers above come from these commands (`scripts/train_blcu.sh` in the "
        "keras_tone repository, with the recordings its README names):",
        "",
        "```bash",
        *[command for command in (loso or {}).get("command", [])],
        *report.get("command", []),
        "```",
        "",
        "On another corpus (e.g. BLCU-SAIT, which is not openly available), give the same "
        "commands your manifests (CSV `path,syllable,tone,speaker,sex`, one per speaker "
        "folder).",
        "",
    ]
    return header + "\n".join(body)


def write_card(
    preset_dir: str | os.PathLike,
    *,
    name: str | None = None,
    data_licences: dict[str, str] | None = None,
    notes: str | None = None,
) -> Path:
    """Rewrite a preset's model card (`README.md`) from its `report.json` and `config.json`.

    Args:
        preset_dir: a preset folder written by `keras_tone.training.train`.
        name: preset name for the card (default: the folder name).
        data_licences: `{manifest folder name: licence text}` for the card.
        notes: Markdown added to the card (findings, caveats).

    Returns:
        The path of the card written.
    """
    from keras_tone.weights import read_config

    preset_dir = Path(preset_dir)
    report = json.loads((preset_dir / REPORT_NAME).read_text())
    card = model_card(
        report,
        name=name or preset_dir.name,
        config=read_config(preset_dir / CONFIG_NAME),
        data_licences=data_licences,
        notes=notes,
    )
    path = preset_dir / CARD_NAME
    path.write_text(card)
    return path


def _precision_section(loso: dict, validation: dict) -> str:
    """Per-tone precision pooled over the LOSO folds (every seed) and the validation voices."""
    from keras_tone.evaluation import metrics_from_confusion

    classes = int(loso["classes"])
    rows = []
    for mode, title in (("alone", "alone"), ("context", "with context")):
        pick = (
            (lambda f: f["overall"]) if mode == "alone" else (lambda f: f["speaker_context"]["all"])
        )
        folds = [pick(fold) for runs in loso["folds"].values() for fold in runs.values()]
        loso_confusion = np.sum([fold["confusion"] for fold in folds], axis=0)
        both = loso_confusion + np.asarray(validation[mode]["overall"]["confusion"])
        for name, confusion in (("leave-one-speaker-out", loso_confusion), ("both", both)):
            precision = metrics_from_confusion(confusion, classes)["precision"]
            rows.append([f"{name}, {title}", *(percent(p) + "%" for p in precision)])
    names = list(loso["class_names"])
    header = "| pooled over | " + " | ".join(names) + " |"
    lines = [header, "|---" * (len(names) + 1) + "|"] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(
        [
            "### Per-tone precision (does one tone attract the others?)",
            "",
            "The share of the clips read as each tone that are that tone, pooled over every "
            "fold and seed of leave-one-speaker-out, and with the validation voices added.",
            "",
            *lines,
        ]
    )


def _conditions_section(conditions: list[dict]) -> str:
    """Accuracy under noise, rooms and a telephone line (`scripts/conditions_report.py`)."""
    out = [
        "## Recording conditions",
        "",
        "Every clip re-recorded under each condition (`scripts/conditions_report.py`: "
        "noise at an SNR relative to the active speech level, simulated rooms of a measured "
        "RT60, the 300-3400 Hz telephone band), classified alone and with the speaker context "
        "of the other clips under the same condition; accuracy %.",
    ]
    for entry in conditions:
        names = list(entry["conditions"])
        voices = list(entry["conditions"][names[0]]["alone"]["per_speaker"])
        header = ["condition"] + [f"{v} {m}" for v in voices for m in ("alone", "context")]
        rows = [
            [name]
            + [
                percent(entry["conditions"][name][m]["per_speaker"][v])
                for v in voices
                for m in ("alone", "context")
            ]
            for name in names
        ]
        out += [
            "",
            f"Model `{entry['weights']}`:",
            "",
            "| " + " | ".join(header) + " |",
            "|---" * len(header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows),
        ]
    return "\n".join(out)


def recipe_text(recipe: dict, *, seeds: list[int]) -> str:
    """The training recipe of a report, as one paragraph of a model card."""
    text = (
        f"{recipe['epochs']} epochs, batch {recipe['batch_size']}, Adam with a cosine schedule "
        f"from {recipe['learning_rate']}"
        + (" and an exponential moving average of the weights" if recipe["ema"] else "")
        + f", label smoothing {recipe['label_smoothing']}, class weighting "
        f"`{recipe['class_weighting']}`, seed{'s' * (len(seeds) > 1)} "
        f"{', '.join(map(str, seeds))}"
        + (" (one network each, averaged in one model)" if len(seeds) > 1 else "")
        + f". Each clip has {recipe['copies']} "
        "augmented versions besides the clean one; version v of a speaker's clips is one "
        "virtual speaker: "
    )
    text += (
        f"pitch, formants and speed shifted together by resampling, by up to "
        f"+-{recipe['pitch_semitones']} semitones"
    )
    text += f", plus +-{recipe['pitch_jitter']} semitones per clip"
    if tuple(recipe["tempo"]) != (1.0, 1.0):
        text += f"; tempo changed by x{recipe['tempo'][0]}-x{recipe['tempo'][1]}, pitch kept"
    if recipe.get("truncate"):
        text += (
            f"; {recipe['truncate']:.0%} of the versions, of every tone, cut off at 60-95% "
            "of their voice"
        )
    if recipe["half_third"]:
        text += (
            f"; {recipe['half_third']:.0%} of the tone-3 versions cut at 45-70% of their "
            "length, before the rise (the half third tone)"
        )
    if "noise_types" not in recipe:  # a report written before recording conditions
        text += (
            f"; white noise at {recipe['snr_db'][0]:g}-{recipe['snr_db'][1]:g} dB SNR with up "
            f"to {recipe['max_lead_seconds']} s leading silence on "
            f"{recipe['noise_probability']:.0%} of the versions"
        )
    else:
        text += f"; up to {recipe['max_lead_seconds']} s of silence put in front"
        text += ". Each virtual speaker is recorded under one condition: "
        text += _conditions_text(recipe)
    return text + (
        f". Each training example's speaker context is made of K other clips of the same "
        f"virtual speaker: none for {recipe['context_none']:.0%} of the examples, else K "
        f"log-uniform in 1-{recipe['context_max']}."
    )


def _conditions_text(recipe: dict) -> str:
    """The recording conditions of a recipe, as a clause of `recipe_text`."""
    parts = []
    noises = recipe["noise_types"]
    if recipe["noise_probability"]:
        parts.append(
            f"noise ({', '.join(noises)}) at {recipe['snr_db'][0]:g}-{recipe['snr_db'][1]:g} dB "
            f"SNR for {recipe['noise_probability']:.0%}"
        )
    if recipe.get("room_probability"):
        parts.append(
            f"a simulated room (one of {recipe['rooms']}, RT60 {recipe['rt60'][0]:g}-"
            f"{recipe['rt60'][1]:g} s) for {recipe['room_probability']:.0%}"
        )
    if recipe.get("telephone_probability"):
        parts.append(f"the telephone band for {recipe['telephone_probability']:.0%}")
    return ("; ".join(parts) or "none") + " (independently)"


__all__ = ["REPORT_NAME", "model_card", "recipe_text", "write_card"]
