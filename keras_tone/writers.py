"""Writing tone predictions: an aligned table, CSV, JSON Lines or one JSON array.

What `keras-tone predict` prints, or writes to the file of `-o`; usable on
the results of `keras_tone.predict_files` (`FileResult.top(k)`); and what
`keras-tone check` prints for a word (`write_score`). File names
are shown with their control characters escaped and aligned by their width
in the table, escaped and never a formula in CSV (`csv_text`), and exact in
JSON.

Example:
    >>> import io
    >>> from keras_tone.writers import PredictionWriter
    >>> stream = io.StringIO()
    >>> writer = PredictionWriter(stream, "csv", top=2)
    >>> writer.write("ma2.wav", [(2, "tone 2 (rising)", 0.9), (3, "tone 3 (dipping)", 0.05)])
    >>> writer.close()
    >>> print(stream.getvalue().strip())
    file,tone,name,probability,tone_2,name_2,probability_2
    ma2.wav,2,tone 2 (rising),0.900000,3,tone 3 (dipping),0.050000
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

#: The formats `PredictionWriter` writes.
FORMATS = ("table", "json", "csv")

#: The format that each file suffix means (`format_for`).
OUTPUT_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json"}

#: First characters that make a spreadsheet read a CSV cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell for CSV: one line (`keras_tone.reports.printable`), never a formula.

    A cell that starts with `= + - @` (or a tab or carriage return) is read
    as a formula by spreadsheets (CSV injection); it gets a leading `'`, which
    they show as text. JSON output keeps names exact instead.

    Example:
        >>> from keras_tone.writers import csv_text
        >>> csv_text("=HYPERLINK(1).wav"), csv_text("a\\nb.wav"), csv_text("ma1.wav")
        ("'=HYPERLINK(1).wav", 'a\\\\nb.wav', 'ma1.wav')
    """
    from keras_tone.reports import printable

    text = printable(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def format_for(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format to write `path` in: `fmt` when given, else the one its suffix names.

    Raises:
        ValueError: `fmt` is not one of `FORMATS`, or it is None and the
            suffix is not one of `OUTPUT_SUFFIXES`.

    Example:
        >>> from keras_tone.writers import format_for
        >>> format_for("tones.csv"), format_for("tones.txt", "json")
        ('csv', 'json')
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(FORMATS)}. Received: fmt={fmt!r}")
        return fmt
    found = OUTPUT_SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)} from its suffix: name it "
            f"{', '.join(OUTPUT_SUFFIXES)}, or pass the format"
        )
    return found


class PredictionWriter:
    """Writes one entry per clip: its file and its most probable tones.

    Args:
        stream: a text stream (stdout, or an open file).
        fmt: `"table"` (aligned columns, written at `close`), `"json"` (one
            JSON object per line, or with `array=True` one JSON array,
            written at `close`) or `"csv"` (a header, then one row per clip).
        top: how many tones each entry lists.
        array: with `fmt="json"`, write one JSON array instead of JSON Lines.
    """

    def __init__(
        self, stream: TextIO, fmt: str = "table", *, top: int = 1, array: bool = False
    ) -> None:
        self.stream, self.fmt, self.top = stream, format_for("", fmt), top
        self.array = array and fmt == "json"
        self.rows: list[list[str]] = []
        self.records: list[dict[str, Any]] = []
        if fmt == "csv":
            import csv

            self._csv = csv.writer(stream, lineterminator="\n")
            header = ["file", "tone", "name", "probability"]
            for k in range(2, top + 1):
                header += [f"tone_{k}", f"name_{k}", f"probability_{k}"]
            self._csv.writerow(header)

    def write(self, name: str, guesses: list[tuple[int, str, float]]) -> None:
        """One clip: `guesses` as `FileResult.top(k)` gives them, best first."""
        if self.fmt == "json":
            tone, tone_name, probability = guesses[0]
            record: dict[str, Any] = {
                "file": name,
                "tone": tone,
                "name": tone_name,
                "probability": round(probability, 6),
            }
            if self.top > 1:
                record["top"] = [
                    {"tone": t, "name": n, "probability": round(p, 6)} for t, n, p in guesses
                ]
            if self.array:
                self.records.append(record)
            else:
                print(json.dumps(record, ensure_ascii=False), file=self.stream, flush=True)
        elif self.fmt == "csv":
            row: list[Any] = [csv_text(name)]
            for tone, tone_name, probability in guesses:
                row += [tone, tone_name, f"{probability:.6f}"]
            self._csv.writerow(row)
            self.stream.flush()
        else:  # aligned once all widths are known
            tone, tone_name, probability = guesses[0]
            line = [name, str(tone), tone_name, f"{probability:.3f}"]
            if self.top > 1:
                line.append(", ".join(f"{t}: {p:.3f}" for t, _, p in guesses[1:]))
            self.rows.append(line)

    def close(self) -> None:
        """Write what waits for the end: the table, or the JSON array."""
        if self.array:
            print(json.dumps(self.records, indent=2, ensure_ascii=False), file=self.stream)
        if self.fmt != "table" or not self.rows:
            return
        from keras_tone.reports import text_table

        header = ["file", "tone", "name", "probability"] + (["next"] if self.top > 1 else [])
        print(text_table(header, self.rows, numbers=False), file=self.stream)


#: Columns of `keras-tone check --format table` and `csv`: (header, key of a syllable's score).
SCORE_COLUMNS = (
    ("syllable", "pinyin"),
    ("hanzi", "hanzi"),
    ("start", "start"),
    ("end", "end"),
    ("citation", "citation"),
    ("expected", "expected"),
    ("rule", "rule"),
    ("heard", "heard"),
    ("probability", "probability"),
    ("verdict", "verdict"),
)


def write_score(name: str, result: dict, fmt: str, stream: TextIO) -> None:
    """What `keras-tone check` prints for one word (`keras_tone.score`'s result).

    Args:
        name: the recording's file name.
        result: the `keras_tone.scoring.WordScore`.
        fmt: `"json"` (one object, floats rounded), `"csv"` (a header and one
            row per syllable, text cells as `csv_text`) or `"table"` (aligned
            columns and a line for the word, names as
            `keras_tone.reports.printable`).
        stream: where to write.
    """
    from keras_tone.reports import printable

    if fmt == "json":
        print(json.dumps({"file": name, **_rounded(result)}, ensure_ascii=False), file=stream)
        return

    def cell(syllable: dict, key: str) -> str:
        value = syllable[key]
        if value is None:
            return "" if fmt == "csv" else "-"
        if isinstance(value, float):
            return f"{value:.3f}"
        return csv_text(str(value)) if fmt == "csv" else str(value)

    syllables = result["syllables"]
    if fmt == "csv":
        import csv

        writer = csv.writer(stream, lineterminator="\n")
        tones = [f"p_tone{t}" for t in range(1, result["classes"] + 1)]
        writer.writerow(["file", *(header for header, _ in SCORE_COLUMNS), *tones])
        for syllable in syllables:
            probabilities = [f"{p:.6f}" for p in syllable["probabilities"]]
            cells = [cell(syllable, key) for _, key in SCORE_COLUMNS]
            writer.writerow([csv_text(name), *cells, *probabilities])
        return
    from keras_tone.reports import text_table

    rows = [[cell(syllable, key) for _, key in SCORE_COLUMNS] for syllable in syllables]
    print(text_table([header for header, _ in SCORE_COLUMNS], rows, numbers=False), file=stream)
    counts = ", ".join(f"{n} {verdict}" for verdict, n in result["counts"].items() if n)
    word = " ".join(filter(None, [result["hanzi"], result["pinyin"]]))
    print(printable(f"{name} ({word}): {result['verdict']} ({counts})"), file=stream)


def _rounded(value: Any, digits: int = 6) -> Any:
    """`value` with every float rounded, for compact JSON."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: _rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item, digits) for item in value]
    return value


__all__ = [
    "FORMATS",
    "FORMULA_STARTS",
    "OUTPUT_SUFFIXES",
    "SCORE_COLUMNS",
    "PredictionWriter",
    "csv_text",
    "format_for",
    "write_score",
]
