"""Draw the pictures of docs/preprocessing.md into docs/img/.

    python scripts/make_doc_figures.py [--out docs/img] [--synthetic]

The clip is the syllable "ma" in tone 3 spoken by espeak-ng
(`espeak-ng -v cmn-latn-pinyin ma3`), or, with `--synthetic` or where
espeak-ng is missing, a harmonic signal that follows a tone-3 F0 contour.
The features are those of ToneNet's front end: the log-mel layer of
`keras_tone.frontend.FrontEnd`, and `keras_tone.layers.MFCC` with the same
settings (`ToneNetConfig().front_end.log_mel`).
Needs matplotlib (`pip install keras-tone[plot]`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the checkout's keras_tone, also when it is not installed
from keras_tone.config import ToneNetConfig  # noqa: E402

CONFIG = ToneNetConfig()
SAMPLE_RATE = CONFIG.sample_rate
FIGSIZE = (7.0, 2.4)
DPI = 100


def espeak_clip(text: str = "ma3") -> np.ndarray | None:
    """`text` spoken by espeak-ng's Mandarin (pinyin) voice at 16 kHz, or None."""
    if shutil.which("espeak-ng") is None:
        return None
    from keras_tone import load_audio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(
            ["espeak-ng", "-v", "cmn-latn-pinyin", "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        clip = load_audio(path, sample_rate=SAMPLE_RATE)
    import librosa

    _, (start, end) = librosa.effects.trim(clip, top_db=40)  # espeak leaves a long tail
    margin = int(0.05 * SAMPLE_RATE)
    return clip[max(0, start - margin) : end + margin]


def synthetic_clip(seconds: float = 0.5) -> np.ndarray:
    """A harmonic 'vowel' following a tone-3 (dipping) F0 contour, 180 -> 140 -> 190 Hz."""
    n = int(seconds * SAMPLE_RATE)
    t = np.linspace(0.0, 1.0, n)
    f0 = np.interp(t, [0.0, 0.5, 1.0], [180.0, 140.0, 190.0])
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 20))
    ramp = np.minimum(1.0, np.minimum(t, 1.0 - t) * 20.0)
    silence = np.zeros(int(0.1 * SAMPLE_RATE))
    return np.concatenate([silence, 0.2 * ramp * voice, silence]).astype(np.float32)


def draw(clip: np.ndarray, out: Path, label: str) -> list[Path]:
    """Write waveform.png, log_mel.png and mfcc.png for `clip`; return their paths."""
    from matplotlib.figure import Figure

    from keras_tone.frontend import FrontEnd
    from keras_tone.layers import MFCC

    out.mkdir(parents=True, exist_ok=True)
    seconds = clip.size / SAMPLE_RATE
    log_mel = np.asarray(FrontEnd(CONFIG).log_mel(clip[None]))
    settings = asdict(CONFIG.front_end.log_mel)
    mfcc = np.asarray(MFCC(sample_rate=SAMPLE_RATE, n_mfcc=20, **settings)(clip[None]))
    written = []

    figure = Figure(figsize=FIGSIZE, layout="constrained")
    axes = figure.subplots()
    axes.plot(np.arange(clip.size) / SAMPLE_RATE, clip, linewidth=0.5)
    axes.set(xlim=(0, seconds), xlabel="time (s)", ylabel="amplitude", title=f"Waveform: {label}")
    written.append(_save(figure, out / "waveform.png"))

    bound = float(np.abs(mfcc[0, :, 1:]).max())
    for name, values, low, ylabel, title, limits in (
        ("log_mel.png", log_mel[0], 0, "mel band", "LogMelSpectrogram (ToneNet settings), dB", {}),
        (
            "mfcc.png",
            mfcc[0, :, 1:],
            1,
            "coefficient",
            "MFCC (n_mfcc=20; c0, the loudness, not shown)",
            {"vmin": -bound, "vmax": bound},
        ),
    ):
        figure = Figure(figsize=FIGSIZE, layout="constrained")
        axes = figure.subplots()
        image = axes.imshow(
            values.T,
            origin="lower",
            aspect="auto",
            extent=(0, seconds, low, low + values.shape[1]),
            cmap="magma" if name == "log_mel.png" else "coolwarm",
            interpolation="nearest",
            **limits,
        )
        axes.set(xlabel="time (s)", ylabel=ylabel, title=title)
        figure.colorbar(image, ax=axes, pad=0.01)
        written.append(_save(figure, out / name))
    return written


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="output folder")
    parser.add_argument(
        "--synthetic", action="store_true", help="use a synthetic tone-3 clip, not espeak-ng"
    )
    args = parser.parse_args(argv)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("make_doc_figures.py needs matplotlib: pip install keras-tone[plot]", file=sys.stderr)
        return 1
    clip = None if args.synthetic else espeak_clip("ma3")
    label = "espeak-ng 'ma3'"
    if clip is None:
        clip, label = synthetic_clip(), "synthetic tone-3 contour"
    for path in draw(clip, args.out, label):
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
