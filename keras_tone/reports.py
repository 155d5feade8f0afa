"""Reports as text: `format_report` turns a train, evaluate or cross-validation report
into aligned tables (or Markdown, for model cards)."""

from __future__ import annotations

import numpy as np


def percent(value: float | None) -> str:
    """`0.9876` -> `"98.8"`; `None` -> `"-"`."""
    return "-" if value is None else f"{100 * value:.1f}"


def _short_names(classes: int) -> list[str]:
    return [f"T{i + 1}" if i < 4 else "T5(n)" for i in range(classes)]


def text_table(header: list[str], rows: list[list[str]], *, numbers: bool = True) -> str:
    """Rows of cells as aligned text, two spaces apart.

    The first column is aligned left; the others right with `numbers=True`,
    else left.

    Example:
        >>> print(text_table(["speaker", "clips"], [["a", "5"], ["bb", "12"]]))
        speaker  clips
        a            5
        bb          12
    """
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = zip(row, widths, strict=True)
        aligned = [c.rjust(w) if i and numbers else c.ljust(w) for i, (c, w) in enumerate(cells)]
        return "  ".join(aligned).rstrip()

    return "\n".join(line(row) for row in [header, *rows])


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


def _speaker_table(per_speaker: dict, classes: int, markdown: bool = False) -> str:
    header = ["speaker", "clips", "accuracy"] + [f"{n} recall" for n in _short_names(classes)]
    rows = [
        [speaker, str(m["clips"]), percent(m["accuracy"]) + "%"]
        + [percent(v) + "%" for v in m["recall"]]
        for speaker, m in per_speaker.items()
    ]
    return _table(header, rows, markdown)


def format_report(report: dict, *, markdown: bool = False) -> str:
    """A human-readable summary of a `train`, `evaluate` or `cross_validate` report.

    A per-speaker table (clips, accuracy, per-tone recall), then the
    confusion matrices (rows: true tone, columns: predicted) with per-tone
    recall and precision. `markdown=True` writes Markdown tables.
    """
    kind = report.get("kind")
    classes = int(report["classes"])
    out: list[str] = []
    heading = (lambda t: f"### {t}\n") if markdown else (lambda t: f"== {t} ==")
    if kind == "evaluate":
        out.append(heading("Per speaker"))
        out.append(
            _speaker_table({**report["per_speaker"], "ALL": report["overall"]}, classes, markdown)
        )
        for speaker, metrics in {**report["per_speaker"], "ALL": report["overall"]}.items():
            out.append("")
            out.append(heading(f"Confusion: {speaker}"))
            out.append(_confusion_table(metrics, classes, markdown))
    elif kind == "cross_validate":
        per = {s: f["overall"] for s, f in report["folds"].items()}
        out.append(heading("Leave-one-speaker-out (each row: trained on the other speakers)"))
        out.append(_speaker_table(per, classes, markdown))
        if per:
            accs = [m["accuracy"] for m in per.values()]
            out.append(
                f"\nmean {percent(float(np.mean(accs)))}%, worst {percent(float(np.min(accs)))}% "
                f"over {len(accs)} held-out speakers"
            )
        for speaker, fold in report["folds"].items():
            out.append("")
            out.append(heading(f"Held out {speaker}"))
            out.append(_confusion_table(fold["overall"], classes, markdown))
            for key, value in fold.items():
                if key.startswith("tones_1_") and isinstance(value, dict):
                    out.append(
                        f"tones 1-4 only (argmax over tones 1-4): {percent(value['accuracy'])}%"
                    )
    elif kind == "train":
        out.append(
            f"Trained on {report['clips']} clips of {', '.join(report['speakers'])} "
            f"in {report['train_seconds']:.0f} s; final training accuracy "
            f"{percent(report['final_train_accuracy'])}% (augmented training clips)."
        )
        if "validation" in report:
            out.append("")
            out.append(format_report(report["validation"], markdown=markdown))
        if "loso" in report:
            out.append("")
            out.append(format_report(report["loso"], markdown=markdown))
    else:
        raise ValueError(
            "format_report expects a report of train, evaluate or cross_validate. "
            f"Received: kind={kind!r}"
        )
    return "\n".join(out)


__all__ = ["format_report", "percent", "text_table"]
