"""Build the docs site and look at it in headless Chromium (slow; skipped without the tools).

    pytest -m slow tests/test_site.py -s

The screenshot of the API page is saved under pytest's temporary folder; its
path is printed.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed (pip install keras-tone[docs])")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def chromium(*args: str, profile: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def visible_text(dom: str) -> str:
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.DOTALL | re.IGNORECASE)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", dom)).split())


def test_api_page_in_browser(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    page = site / "api" / "index.html"
    assert page.is_file()
    done = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    text = visible_text(done.stdout)
    assert "keras_tone.ToneNet" in text
    for parameter in (
        "weights",
        "include_top",
        "include_preprocessing",
        "input_shape",
        "classes",
        "classifier_activation",
        "pooling",
    ):
        assert parameter in text, parameter
    assert 'id="keras_tone.ToneNet"' in done.stdout
    for name in (
        "decode_predictions",
        "load_audio",
        "prepare_batch",
        "check_same_keras",
        "LogMelSpectrogram",
        "MFCC",
        "SyllableNormalization",
    ):
        assert f"keras_tone.{name}" in text or f"keras_tone.layers.{name}" in text, name

    screenshot = tmp_path / "api.png"
    done = chromium(
        f"--screenshot={screenshot}",
        "--window-size=1280,1800",
        "--hide-scrollbars",
        page.as_uri(),
        profile=tmp_path / "profile",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
    with capsys.disabled():
        print(f"\nscreenshot of the API page: {screenshot}")


def test_home_page_has_quickstart(site: Path, tmp_path: Path) -> None:
    done = chromium("--dump-dom", (site / "index.html").as_uri(), profile=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    text = visible_text(done.stdout)
    assert "Quickstart" in text
    assert 'keras_tone.ToneNet(weights="blcu")' in text
    assert "keras_tone.decode_predictions(model.predict(batch))" in text
    assert "keras-tone predict ma1.wav" in text


def test_pages_and_pictures(site: Path) -> None:
    for page in (
        "using",
        "preprocessing",
        "weights/blcu",
        "training",
        "design",
        "cli",
        "troubleshooting",
        "installation",
        "changelog",
    ):
        assert (site / page / "index.html").is_file(), page
    for picture in ("waveform.png", "log_mel.png", "mfcc.png"):
        assert (site / "img" / picture).stat().st_size > 5_000
    cli = (site / "cli" / "index.html").read_text()
    assert "usage: keras-tone predict" in html.unescape(cli)
    api = html.unescape((site / "api" / "index.html").read_text())
    for name in ("ToneNetConfig", "FRONT_END_VERSION", "LogMelConfig", "FrontEnd", "load_model"):
        assert name in api, name
    troubleshooting = html.unescape((site / "troubleshooting" / "index.html").read_text())
    assert "Could not interpret optimizer identifier" in troubleshooting
    assert "TF_FORCE_GPU_ALLOW_GROWTH" in troubleshooting
