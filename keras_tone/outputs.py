"""Writing an output file safely: never over an input, all or nothing, and saying so.

`output_file(path, inputs=...)` is how every `keras-tone` command writes the
file it is asked for (`predict -o`, `check --write-textgrid`, `plot -o`,
`evaluate --json`):

* a path that names one of the command's inputs (the same file, also
  through another name or a link) is refused before anything runs;
* the content goes to a temporary file beside the target, which replaces
  the target only once it is complete (`os.replace`, atomic on one file
  system): an interrupted or failed run leaves the old file as it was;
* an existing file is replaced without a prompt; `OutputFile.replaced` says
  whether there was one, for the command to report.

Example:
    >>> import os, tempfile
    >>> from keras_tone.outputs import output_file
    >>> folder = tempfile.mkdtemp()
    >>> target = os.path.join(folder, "tones.csv")
    >>> with output_file(target) as out:
    ...     _ = out.temporary.write_text("file,tone\\n")
    >>> open(target).read(), out.replaced
    ('file,tone\\n', False)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class OutputFile:
    """The file being written: write to `temporary`; `keep = False` discards it.

    Attributes:
        path: the target.
        temporary: where to write meanwhile (beside the target, same suffix).
        replaced: whether a file existed at `path` (set when it is replaced).
        keep: set it to False to leave the target as it was.
    """

    path: Path
    temporary: Path
    replaced: bool = False
    keep: bool = True


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (links and `..` followed); False if either is missing.

    Example:
        >>> from keras_tone.outputs import same_file
        >>> same_file("tests/data/ma1.wav", "tests/../tests/data/ma1.wav")
        True
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """`path` as a `Path`, or `ValueError` when it is a folder or one of `inputs`.

    Example:
        >>> from keras_tone.outputs import check_output
        >>> check_output("tests/data/ma1.wav", ["tests/data/ma1.wav"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: tests/data/ma1.wav is an input of this command; writing the output there ...
    """
    target = Path(path)
    if target.is_dir():
        raise ValueError(
            f"{target} is a folder; name a file to write. Received: output={os.fspath(path)}"
        )
    for source in inputs:
        if same_file(target, source):
            raise ValueError(
                f"{target} is an input of this command; writing the output there would "
                f"destroy it. Choose another output file. Received: output={os.fspath(path)}"
            )
    return target


@contextlib.contextmanager
def output_file(
    path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()
) -> Iterator[OutputFile]:
    """Write `path` through a temporary file, refusing to write over any of `inputs`.

    Args:
        path: the file to write; its folder is created.
        inputs: files the command reads, which it must not replace.

    Yields:
        An `OutputFile`: write to its `temporary` path. When the block ends
        without an exception and `keep` is still True, the temporary file
        replaces `path`; otherwise it is removed and `path` left as it was.

    Raises:
        ValueError: `path` is a folder or one of `inputs` (before anything
            is written).
        OSError: the folder cannot be created or written.
    """
    target = check_output(path, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{secrets.token_hex(4)}.partial{target.suffix}"
    # Created like any new file (the umask applies), unlike tempfile's private 0600 files.
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    out = OutputFile(path=target, temporary=temporary)
    try:
        yield out
        if out.keep:
            out.replaced = target.exists()
            os.replace(out.temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            out.temporary.unlink()


__all__ = ["OutputFile", "check_output", "output_file", "same_file"]
