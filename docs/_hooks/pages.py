"""MkDocs hooks: fill pages from the sources they document, at build time.

Markers (HTML comments, so a page reads sensibly without the hook):

* `<!-- model-card: NAME -->`: the model card `weights/NAME/README.md`
  without its YAML header, headings one level down, relative links turned
  into plain text (they point into the Hub repository, not into the site).
  Until the card exists, a note says that it will appear there.
* `<!-- cli-help: COMMAND -->`: the `--help` text of `keras-tone COMMAND`
  (`-` for the top level), from the parser of `keras_tone_cli`. It is loaded
  by path: it imports only the standard library, so the build does not
  import TensorFlow.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_MARKER = re.compile(r"<!--\s*(model-card|cli-help):\s*(\S+)\s*-->")
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)
_RELATIVE_LINK = re.compile(r"(!?)\[([^\]]*)\]\((?!https?://|mailto:|#)([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - hook API
    return _MARKER.sub(lambda m: _expand(m.group(1), m.group(2)), markdown)


def _expand(kind: str, argument: str) -> str:
    if kind == "model-card":
        return model_card(argument)
    return "```text\n" + cli_help(None if argument == "-" else argument).rstrip() + "\n```"


def model_card(name: str) -> str:
    card = ROOT / "weights" / name / "README.md"
    if not card.is_file():
        return (
            '!!! note "Model card not published yet"\n\n'
            f"    The model card of `{name}` (`weights/{name}/README.md`) appears on this "
            "page once the weights are published."
        )
    text = _FRONT_MATTER.sub("", card.read_text(encoding="utf-8"), count=1)
    text = _HEADING.sub(lambda m: "#" + m.group(1) + " ", text)
    return _RELATIVE_LINK.sub(
        lambda m: "" if m.group(1) else f"{m.group(2)} (`{m.group(3)}` in the preset folder)",
        text,
    )


def cli_help(command: str | None) -> str:
    spec = importlib.util.spec_from_file_location(
        "_keras_tone_cli_docs", ROOT / "keras_tone_cli" / "__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parser = module.build_parser()
    if command is not None:
        parser = next(
            action.choices[command]
            for action in parser._actions
            if getattr(action, "choices", None) and command in action.choices
        )
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "78"
    try:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            parser.print_help()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return buffer.getvalue()
