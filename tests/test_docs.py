"""Run every ```python block of docs/*.md, page by page, so every example is tested.

Blocks of one page run in order in one namespace, in a temporary folder that
holds what the examples read: `ma1.wav` .. `ma4.wav` (the syllable "ma" in
tones 1-4, from tests/data or espeak-ng, or synthetic contours) and a tiny
corpus `corpus/manifest.csv` (two speakers x four tones).

An HTML comment on the line before a block changes how it runs:

* `<!-- docs-test: skip (reason) -->`: not run; the page says why.
* `<!-- docs-test: weights=None ... -->`: run with `weights="blcu"` replaced
  by `weights=None`, until the pretrained preset is published.
* `<!-- docs-test: requires MODULE -->`: skipped where MODULE is missing.

A `print(...)  # text` line is a check: `text` must be printed, in order.

A page with `<!-- docs-test-page: slow (reason) -->` runs only with `-m slow`
(the training page: its examples train and evaluate a model).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)

_FENCE = re.compile(r"^(\s*)```(\w*)\s*(.*)$")
_MARKER = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
_EXPECT = re.compile(r"^\s*print\(.*\)\s+#\s+(.+?)\s*$")


@dataclass
class Block:
    page: Path
    line: int
    code: str
    marker: str | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def python_blocks(page: Path) -> list[Block]:
    """The ```python blocks of a page, dedented, with the marker before each."""
    blocks: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, language = match.group(1), match.group(2)
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if language != "python":
            continue
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.search(previous)
        code = textwrap.dedent(
            "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in body)
        )
        blocks.append(Block(page, start + 1, code, marker.group(1) if marker else None))
    return blocks


def test_docs_have_python_examples() -> None:
    blocks = [b for page in PAGES for b in python_blocks(page)]
    assert len(blocks) >= 15
    skipped = [b for b in blocks if b.marker and b.marker.startswith("skip")]
    assert len(skipped) <= 4, [b.where for b in skipped]  # keep the untested ones few
    for block in blocks:
        if block.marker:
            assert block.marker.split()[0] in (
                "skip",
                "weights=None",
                "requires",
            ), block.where
            if block.marker.startswith("skip"):
                assert re.match(r"skip \(.+\)", block.marker), f"{block.where}: say why"


# --------------------------------------------------------------------------- fixtures


def _contour_clip(tone: int, rate: int = 16000, pitch: float = 1.0) -> np.ndarray:
    contours = {1: (240, 240, 238), 2: (170, 195, 260), 3: (180, 140, 190), 4: (290, 240, 150)}
    t = np.linspace(0.0, 1.0, int(0.45 * rate))
    f0 = pitch * np.interp(t, [0.0, 0.5, 1.0], contours[tone])
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    ramp = np.minimum(1.0, np.minimum(t, 1.0 - t) * 20.0)
    return np.concatenate([np.zeros(rate // 10), 0.2 * ramp * voice]).astype(np.float32)


@pytest.fixture(scope="module")
def example_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import soundfile as sf

    folder = tmp_path_factory.mktemp("docs_examples")
    for tone in (1, 2, 3, 4):
        target = folder / f"ma{tone}.wav"
        committed = REPO / "tests" / "data" / f"ma{tone}.wav"
        if committed.is_file():
            shutil.copy(committed, target)
        elif shutil.which("espeak-ng"):
            subprocess.run(
                ["espeak-ng", "-v", "cmn-latn-pinyin", "-w", str(target), f"ma{tone}"],
                check=True,
                capture_output=True,
                timeout=30,
            )
        else:
            sf.write(target, _contour_clip(tone), 16000)
    corpus = folder / "corpus"
    corpus.mkdir()
    rows = ["path,syllable,tone,speaker,sex"]
    for tone in (1, 2, 3, 4):
        shutil.copy(folder / f"ma{tone}.wav", corpus / f"a_ma{tone}.wav")
        rows.append(f"a_ma{tone}.wav,ma{tone},{tone},spk_a,f")
        sf.write(corpus / f"b_ma{tone}.wav", _contour_clip(tone, pitch=0.6), 16000)
        rows.append(f"b_ma{tone}.wav,ma{tone},{tone},spk_b,m")
    (corpus / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder


# --------------------------------------------------------------------------- the pages


_SLOW_PAGE = re.compile(r"<!--\s*docs-test-page:\s*slow\b")


def _page_param(page: Path):
    slow = bool(_SLOW_PAGE.search(page.read_text(encoding="utf-8")))
    return pytest.param(
        page, id=str(page.relative_to(DOCS)), marks=[pytest.mark.slow] if slow else []
    )


@pytest.mark.parametrize("page", [_page_param(p) for p in PAGES])
def test_page_examples(
    page: Path, example_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = python_blocks(page)
    if not blocks:
        pytest.skip("no python examples")
    work = tmp_path / "cwd"
    shutil.copytree(example_files, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # decoded-clip cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for block in blocks:
        code = block.code
        marker = block.marker or ""
        if marker.startswith("skip"):
            continue
        if marker.startswith("requires"):
            module = marker.split()[1]
            if importlib.util.find_spec(module) is None:
                continue
        if marker.startswith("weights=None"):
            assert 'weights="blcu"' in code, f"{block.where}: nothing to replace"
            code = code.replace('weights="blcu"', "weights=None")
        stdout = io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout):
                exec(compile(code, block.where, "exec"), namespace)  # noqa: S102 - the docs
        except Exception as error:
            raise AssertionError(
                f"{block.where} failed: {type(error).__name__}: {error}\n--- code ---\n{code}"
            ) from error
        _check_expected_output(block, code, stdout.getvalue())
        ran += 1
    if ran == 0:
        pytest.skip("every example on this page is marked not runnable here")


def _check_expected_output(block: Block, code: str, output: str) -> None:
    printed = [line.strip() for line in output.splitlines()]
    position = 0
    for line in code.splitlines():
        match = _EXPECT.match(line)
        if not match:
            continue
        expected = match.group(1)
        for index in range(position, len(printed)):
            if printed[index] == expected:
                position = index + 1
                break
        else:
            raise AssertionError(
                f"{block.where}: the example says `{line.strip()}` but printed:\n{output}"
            )
