"""Reports as text: `format_report` turns a train, evaluate or cross-validation report
into aligned tables (or Markdown, for model cards)."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np

#: How `printable` writes the control characters that have a short escape.
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def percent(value: float | None) -> str:
    """`0.9876` -> `"98.8"`; `None` -> `"-"`."""
    return "-" if value is None else f"{100 * value:.1f}"


def _short_names(classes: int) -> list[str]:
    return [f"T{i + 1}" if i < 4 else "T5(n)" for i in range(classes)]


def printable(text: str) -> str:
    """`text` safe to print on a terminal or in one line of a table: control characters escaped.

    Control and format characters (a newline that would forge a row, the
    ESC of an ANSI sequence, a right-to-left override) are written as
    Python escapes (`\\n`, `\\x1b`, `\\u202e`); bytes of a file name that were
    not valid UTF-8 (decoded by Python as lone surrogates) as `\\xff`. Other
    characters, Chinese ones included, are kept.

    Example:
        >>> print(printable("ma1\\n\\x1b[31mred.wav"), printable("你好.wav"))
        ma1\\n\\x1b[31mred.wav 你好.wav
    """
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif category == "Cs" and 0xDC80 <= ord(char) <= 0xDCFF:  # os.fsdecode's stand-ins
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def display_width(text: str) -> int:
    """How many terminal columns `text` takes: 2 for wide (e.g. Chinese) characters.

    Example:
        >>> display_width("ni3.wav"), display_width("你好.wav")
        (7, 8)
    """
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def text_table(header: list[str], rows: list[list[str]], *, numbers: bool = True) -> str:
    """Rows of cells as aligned text, two spaces apart.

    The first column is aligned left; the others right with `numbers=True`,
    else left. Cells are shown with `printable` (one line each) and aligned
    by their `display_width`, so file names with Chinese characters line up.

    Example:
        >>> print(text_table(["speaker", "clips"], [["a", "5"], ["bb", "12"]]))
        speaker  clips
        a            5
        bb          12
        >>> print(text_table(["file", "tone"], [["你好.wav", "3"], ["ni.wav", "2"]], numbers=False))
        file      tone
        你好.wav  3
        ni.wav    2
    """
    table = [[printable(cell) for cell in row] for row in [header, *rows]]
    widths = [max(display_width(row[i]) for row in table) for i in range(len(header))]

    def line(row: list[str]) -> str:
        aligned = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            pad = " " * (width - display_width(cell))
            aligned.append(pad + cell if i and numbers else cell + pad)
        return "  ".join(aligned).rstrip()

    return "\n".join(line(row) for row in table)


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    """A Markdown table, or `text_table`."""
    if not markdown:
        return text_table(header, rows)

    def line(row: list[str]) -> str:
        return "|" + "|".join(f" {cell} " if cell else " " for cell in row) + "|"

    return "\n".join([line(header), "|---" * len(header) + "|", *map(line, rows)])


def _confusion_table(metrics: dict, classes: int, markdown: bool = False) -> str:
    names = _short_names(classes)
    corner = "true \\ predicted" if markdown else "true\\pred"
    rows = [
        [names[i], *(str(v) for v in row), percent(metrics["recall"][i]) + "%"]
        for i, row in enumerate(metrics["confusion"])
    ]
    rows.append(["precision", *(percent(v) + "%" for v in metrics["precision"]), ""])
    return _table([corner, *names, "recall"], rows, markdown)


def _speaker_table(
    per_speaker: dict,
    classes: int,
    markdown: bool = False,
    *,
    group: str = "speaker",
    unit: str = "clips",
) -> str:
    header = [group, unit, "accuracy"] + [f"{n} recall" for n in _short_names(classes)]
    rows = [
        [speaker, str(m["clips"]), percent(m["accuracy"]) + "%"]
        + [percent(v) + "%" for v in m["recall"]]
        for speaker, m in per_speaker.items()
    ]
    return _table(header, rows, markdown)


def _word_tables(report: dict, heading: Any, markdown: bool) -> list[str]:
    """The parts of an evaluation on word manifests: positions, sandhi, whole words."""
    classes = int(report["classes"])
    out = ["", heading("Per position in the word")]
    positions = {f"syllable {p}": m for p, m in report["per_position"].items()}
    out.append(_speaker_table(positions, classes, markdown, group="position", unit="syllables"))
    out += ["", heading("Tone sandhi: syllables whose surface tone is not the citation tone")]
    if report["sandhi"]:
        changes = {
            ("all" if k == "all" else k.replace("->", " -> ")): m
            for k, m in report["sandhi"].items()
        }
        out.append(
            _speaker_table(
                changes, classes, markdown, group="citation -> surface", unit="syllables"
            )
        )
    else:
        out.append("none in these words")
    words = report["words"]
    rows = [
        [f"{n} syllables", str(c["words"]), str(c["correct"]), percent(c["accuracy"]) + "%"]
        for n, c in words["per_length"].items()
    ]
    rows += [
        [speaker, str(c["words"]), str(c["correct"]), percent(c["accuracy"]) + "%"]
        for speaker, c in words["per_speaker"].items()
    ]
    rows.append(
        ["ALL", str(words["words"]), str(words["correct"]), percent(words["accuracy"]) + "%"]
    )
    out += ["", heading("Whole words (every syllable right)")]
    out.append(_table(["group", "words", "correct", "accuracy"], rows, markdown))
    left_out = report["neutral_not_scored"]
    if left_out["syllables"]:
        out.append(
            f"Not scored: {left_out['syllables']} neutral-tone syllables ({left_out['words']} "
            f"words), which a {classes}-class model cannot name."
        )
    return out


def format_report(report: dict, *, markdown: bool = False) -> str:
    """A human-readable summary of a `train`, `evaluate` or `cross_validate` report.

    A per-speaker table (clips, accuracy, per-tone recall), then the
    confusion matrices (rows: true tone, columns: predicted) with per-tone
    recall and precision. An evaluation on word manifests adds tables per
    position in the word, for the tone-sandhi syllables (per change, e.g.
    `3 -> 2`) and for whole words (per length and speaker), and the
    confusion matrix of the sandhi syllables. `markdown=True` writes
    Markdown tables.
    """
    kind = report.get("kind")
    classes = int(report["classes"])
    out: list[str] = []
    heading = (lambda t: f"### {t}\n") if markdown else (lambda t: f"== {t} ==")
    if kind == "evaluate":
        words = "per_position" in report  # an evaluation on word manifests
        unit = "syllables" if words else "clips"
        out.append(heading("Per speaker" + (" (syllables against their surface tones)" * words)))
        groups = {**report["per_speaker"], "ALL": report["overall"]}
        out.append(_speaker_table(groups, classes, markdown, unit=unit))
        if words:
            out += _word_tables(report, heading, markdown)
            if "all" in report["sandhi"]:
                groups["tone sandhi"] = report["sandhi"]["all"]
        for name, metrics in groups.items():
            out.append("")
            out.append(heading(f"Confusion: {name}"))
            out.append(_confusion_table(metrics, classes, markdown))
    elif kind == "cross_validate":
        out.append(_loso_tables(report, heading, markdown))
    elif kind == "train":
        members = report["members"]
        accuracy = ", ".join(percent(m["final_train_accuracy"]) + "%" for m in members)
        out.append(
            f"Trained {len(members)} network(s) (seed {', '.join(str(m['seed']) for m in members)})"
            f" on {report['clips']} clips of {', '.join(report['speakers'])} in "
            f"{report['train_seconds']:.0f} s; final training accuracy {accuracy} "
            "(augmented training clips)."
        )
        if "validation" in report:
            out += ["", validation_tables(report, markdown=markdown)]
        if "loso" in report:
            out.append("")
            out.append(format_report(report["loso"], markdown=markdown))
    else:
        raise ValueError(
            "format_report expects a report of train, evaluate or cross_validate. "
            f"Received: kind={kind!r}"
        )
    return "\n".join(out)


#: Column titles of the speaker-context sizes (`keras_tone.evaluation.CONTEXT_SIZES`).
_MODE_TITLES = {
    "alone": "alone",
    "k1": "1 clip",
    "k5": "5 clips",
    "k20": "20 clips",
    "all": "all clips",
}


def _spread(stats: dict | None, seeds: int) -> str:
    """`98.1 (97.5-98.8)` over several seeds, `98.1` for one; `-` when not measured."""
    if stats is None:
        return "-"
    mean = percent(stats["mean"])
    if seeds < 2:
        return mean
    return f"{mean} ({percent(stats['min'])}-{percent(stats['max'])})"


def _loso_tables(report: dict, heading: Any, markdown: bool) -> str:
    """Leave-one-speaker-out: accuracy per held-out speaker and context size, then matrices."""
    classes = int(report["classes"])
    seeds = len(report["seeds"])
    modes = list(_MODE_TITLES)
    summary = report.get("summary", {})
    rows = []
    for speaker, stats in summary.items():
        clips = next(iter(report["folds"][speaker].values()))["overall"]["clips"]
        sex = report["sexes"].get(speaker, "?")
        rows.append([speaker, sex, str(clips), *(_spread(stats.get(m), seeds) for m in modes)])
    # A mean of fewer than three folds says nothing the rows do not, and may join
    # voices that should not be pooled (a human and a synthetic one).
    pooled = len(summary) >= 3
    for sex, stats in report.get("per_sex", {}).items() if pooled else ():
        rows.append([f"mean ({sex})", sex, "", *(_spread(stats.get(m), seeds) for m in modes)])
    if pooled:
        means = [
            percent(float(np.mean([stats[m]["mean"] for stats in summary.values()])))
            if all(m in stats for stats in summary.values())
            else "-"
            for m in modes
        ]
        rows.append(["mean (all)", "", "", *means])
    header = ["held out", "sex", "clips", *(f"{_MODE_TITLES[m]} %" for m in modes)]
    over = (
        f"mean (min-max) over seeds {', '.join(map(str, report['seeds']))}; " if seeds > 1 else ""
    )
    out = [
        heading("Leave-one-speaker-out (each row: trained on the other speakers)"),
        f"Accuracy on the held-out speaker's clips ({over}speaker context: that many "
        "other clips of the same speaker, chosen at random; none for `alone`; for word "
        "recordings, `alone` gives each syllable the other syllables of its word).",
        "",
        _table(header, rows, markdown),
    ]
    for speaker, runs in report["folds"].items():
        if not runs:
            continue
        for title, pick in (
            ("alone", lambda fold: fold["overall"]),
            ("with the speaker's other clips", lambda fold: fold["speaker_context"]["all"]),
        ):
            pooled = _pooled([pick(fold) for fold in runs.values()], classes)
            note = f", {seeds} seeds pooled" if seeds > 1 else ""
            out += ["", heading(f"Held out {speaker}: {title}{note}")]
            out.append(_confusion_table(pooled, classes, markdown))
        if "words" in next(iter(runs.values())):
            out += ["", _word_summary(runs)]
    return "\n".join(out)


def validation_tables(report: dict, *, markdown: bool = False) -> str:
    """A preset on its validation voices: per voice, alone and with context; then matrices.

    For an ensemble, also each member's accuracy (mean and range over them).

    Args:
        report: a `train` report with `"validation"`.
        markdown: Markdown tables and headings.
    """
    heading = (lambda t: f"### {t}\n") if markdown else (lambda t: f"== {t} ==")
    classes = int(report["classes"])
    shipped = report["validation"]
    members = [m["validation"] for m in report["members"] if "validation" in m]
    modes = (("alone", "alone"), ("context", "with context"))
    header = ["voice", "clips", *(f"{title} %" for _, title in modes)]
    if members:
        header += [f"one member, {title} %" for _, title in modes]
    rows = []
    for voice, metrics in {
        **shipped["alone"]["per_speaker"],
        "ALL": shipped["alone"]["overall"],
    }.items():
        row = [voice, str(metrics["clips"])]
        for mode, _ in modes:
            picked = shipped[mode]["overall" if voice == "ALL" else "per_speaker"]
            row.append(percent((picked if voice == "ALL" else picked[voice])["accuracy"]))
        for mode, _ in modes if members else ():
            values = [
                (m[mode]["overall"] if voice == "ALL" else m[mode]["per_speaker"][voice])[
                    "accuracy"
                ]
                for m in members
            ]
            stats = {"mean": float(np.mean(values)), "min": min(values), "max": max(values)}
            row.append(_spread(stats, len(values)))
        rows.append(row)
    what = (
        f"the preset (an ensemble of {len(members)} networks) and each network alone "
        "(mean (min-max))"
        if members
        else "the preset"
    )
    out = [
        heading("Validation voices (never trained on)"),
        f"Accuracy of {what}, alone and with the speaker context of each voice's other clips.",
        "",
        _table(header, rows, markdown),
    ]
    for mode, title in modes:
        out += ["", heading(f"Validation voices, pooled: {title}")]
        out.append(_confusion_table(shipped[mode]["overall"], classes, markdown))
    return "\n".join(out)


def _word_summary(runs: dict) -> str:
    """Whole words, positions and sandhi syllables of a held-out speaker's word recordings."""

    def mean(values: list[float]) -> str:
        return percent(float(np.mean(values)))

    folds = list(runs.values())
    positions = sorted(folds[0]["per_position"], key=int)
    parts = [
        f"Whole words right: {mean([f['words']['accuracy'] for f in folds])}% of "
        f"{folds[0]['words']['words']}",
        "per position in the word: "
        + ", ".join(
            f"{p}: {mean([f['per_position'][p]['accuracy'] for f in folds])}%" for p in positions
        ),
    ]
    if folds[0].get("sandhi"):
        parts.append(
            "syllables whose surface tone differs from the citation tone (sandhi): "
            f"{mean([f['sandhi']['all']['accuracy'] for f in folds])}% of "
            f"{folds[0]['sandhi']['all']['clips']}"
        )
    return "; ".join(parts) + " (each syllable with the other syllables of its word as context)."


def _pooled(runs: list[dict], classes: int) -> dict:
    """One metrics dict from the confusion matrices of several runs, summed."""
    from keras_tone.evaluation import metrics_from_confusion

    return metrics_from_confusion(np.sum([run["confusion"] for run in runs], axis=0), classes)


__all__ = ["display_width", "format_report", "percent", "printable", "text_table"]
