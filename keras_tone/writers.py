"""Writing tone predictions: an aligned table, CSV, JSON Lines or one JSON array.

What `keras-tone predict` prints, or writes to the file of `-o`; usable on
the results of `keras_tone.predict_files` (`FileResult.top(k)`).

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
            row: list[Any] = [name]
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


__all__ = ["FORMATS", "OUTPUT_SUFFIXES", "PredictionWriter", "format_for"]
