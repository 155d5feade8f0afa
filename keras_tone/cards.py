"""Model cards: the `README.md` of a preset, written from its `report.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keras_tone.config import ToneNetConfig
from keras_tone.recipe import Recipe
from keras_tone.reports import format_report, percent

#: The report of a trained preset, beside its weights.
REPORT_NAME = "report.json"


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
            f"      - type: accuracy\n        name: held-out {s} accuracy\n        value: {a:.4f}"
            for s, a in loso["summary"].items()
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
    extra = ""
    # Reports written before Recipe.tempo existed had no tempo change.
    tempo = tuple(recipe.get("tempo") or (1.0, 1.0))
    if tempo != (1.0, 1.0):
        extra += (
            f"; each augmented version then has its tempo changed by x{tempo[0]}-x{tempo[1]} "
            "with the pitch kept (phase vocoder)"
        )
    # The retrain command reproduces this recipe under today's defaults.
    recipe_flags = "" if tempo == Recipe().tempo else f" --tempo {tempo[0]:g} {tempo[1]:g}"
    neutral = ""
    if report.get("neutral_speakers"):
        neutral = " --neutral-from " + " ".join(report["neutral_speakers"])
    body = [
        f"# ToneNet `{name}`: Mandarin lexical tone of one syllable ({classes} classes)",
        "",
        "Classifies the tone of one spoken Mandarin syllable from its raw waveform "
        f"(mono float32, {config.sample_rate} Hz, any length): "
        + ", ".join(config.class_names)
        + ".",
        "",
        "```python",
        "import keras_tone",
        f'model = keras_tone.ToneNet(weights="{name}")',
        "probs = model.predict(keras_tone.prepare_batch([keras_tone.load_audio(path)]))",
        "print(keras_tone.decode_predictions(probs))",
        "```",
        "",
        f"{report['parameters']:,} parameters. Silence trimming, loudness normalisation and "
        "the log-mel front end run inside the model.",
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
        f"{recipe['epochs']} epochs, batch {recipe['batch_size']}, Adam with a cosine schedule "
        f"from {recipe['learning_rate']}, label smoothing {recipe['label_smoothing']}, "
        f"class weighting `{recipe['class_weighting']}`, seed {report['seed']}. Each clip has "
        f"{recipe['copies']} augmented versions besides the clean one: pitch and speed shifted "
        f"together by resampling (uniform in +-{recipe['pitch_semitones']} semitones), white "
        f"noise at {recipe['snr_db'][0]:.0f}-{recipe['snr_db'][1]:.0f} dB SNR with up to "
        f"{recipe['max_lead_seconds']} s leading silence on {recipe['noise_probability']:.0%} "
        "of them"
        + extra
        + f". Training took {report['train_seconds'] / 60:.1f} min on the CPU it ran on "
        "(final accuracy on the augmented training clips "
        f"{percent(report['final_train_accuracy'])}%).",
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
            "## Evaluation on held-out manifests",
            "",
            format_report(report["validation"], markdown=True),
            "",
        ]
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
        "On another corpus (e.g. BLCU-SAIT, which is not openly available), given a manifest "
        "CSV `path,syllable,tone,speaker,sex` per speaker folder:",
        "",
        "```bash",
        "keras-tone train /path/to/*/manifest.csv --loso "
        f"--output runs/my-loso --classes {classes}{neutral}{recipe_flags}",
        "keras-tone train /path/to/*/manifest.csv "
        f"--output weights/my-preset --classes {classes}{neutral}{recipe_flags} "
        "--loso-report runs/my-loso/report.json",
        "```",
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
    from keras_tone.weights import CARD_NAME, CONFIG_NAME, read_config

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


__all__ = ["REPORT_NAME", "model_card", "write_card"]
