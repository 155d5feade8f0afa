"""`keras-tone plot`: one clip's waveform, log-mel image, F0 contour and tone probabilities;
with `--expect`, a word's pitch contour with its syllables, expected and heard tones.

Needs matplotlib (`pip install keras-tone[plot]`); the figures are drawn
without pyplot, so no display is needed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from keras_tone._keras import keras
from keras_tone.config import ToneNetConfig
from keras_tone.frontend import FrontEnd, front_end_of
from keras_tone.runner import Predictions, Runner

#: Hop of the log-mel panel, in samples: finer than the model's, for the eye.
DISPLAY_HOP = 256


def plot_clip(
    clip: np.ndarray,
    sample_rate: int,
    *,
    model: keras.Model | None = None,
    title: str = "",
    prediction: Predictions | None = None,
) -> Any:
    """Draw waveform, log-mel, F0 contour and tone probabilities of one clip.

    Args:
        clip: mono float waveform `[samples]`, at most
            `keras_tone.audio.MAX_CLIP_SECONDS` long.
        sample_rate: its sampling rate in Hz: the model's, when there is one.
        model: a waveform ToneNet with its classifier, or `None` to leave the
            probability panel empty. Its front end's settings draw the log-mel
            panel (`ToneNetConfig()`'s without a model), at a finer hop. A
            clip without enough voiced speech for a tone (`keras_tone.gate`)
            gets the reason in that panel instead of probabilities.
        title: the figure's title.
        prediction: what `keras_tone.runner.Runner(model).predict([clip])`
            gave, when the caller has it already (`keras-tone plot` does, for
            its exit status); `None` to run the model here.

    Returns:
        A `matplotlib.figure.Figure`.

    Raises:
        ValueError: the clip is longer than `keras_tone.audio.MAX_CLIP_SECONDS`,
            or has NaN or Inf samples.

    Example:
        >>> import numpy as np
        >>> from keras_tone.plot import plot_clip
        >>> t = np.arange(8000) / 16000
        >>> figure = plot_clip((0.1 * np.sin(2 * np.pi * 200 * t)).astype("float32"), 16000)
        >>> len(figure.axes)
        5
    """
    from matplotlib.figure import Figure

    from keras_tone.audio import check_duration
    from keras_tone.gate import refusals

    check_duration(np.size(clip) / sample_rate)
    config = front_end_of(model).config if model is not None else ToneNetConfig()
    config = replace(config, sample_rate=sample_rate)
    display = FrontEnd(
        replace(
            config,
            front_end=replace(
                config.front_end, log_mel=replace(config.front_end.log_mel, hop_length=DISPLAY_HOP)
            ),
        )
    )
    clip = np.asarray(clip, dtype=np.float32)
    seconds = clip.size / sample_rate
    figure = Figure(figsize=(9, 8), layout="constrained")
    axes = figure.subplots(4, 1, gridspec_kw={"height_ratios": [1, 1.6, 1.2, 1.1]}, sharex=False)
    if title:
        figure.suptitle(title)

    time = np.arange(clip.size) / sample_rate
    axes[0].plot(time, clip, linewidth=0.6, color="#1f77b4")
    axes[0].set(xlim=(0, seconds), ylabel="amplitude", title="Waveform")

    log_mel = np.asarray(display.log_mel(clip[None]))[0]
    image = axes[1].imshow(
        log_mel.T,
        origin="lower",
        aspect="auto",
        extent=(0, seconds, 0, log_mel.shape[1]),
        cmap="magma",
    )
    axes[1].set(ylabel="mel band", title="Log-mel spectrogram (ToneNet front end settings)")
    figure.colorbar(image, ax=axes[1], label="dB", pad=0.01)

    f0_time, f0 = f0_contour(clip, sample_rate)
    axes[2].plot(f0_time, f0, color="#d62728", linewidth=2)
    axes[2].set(xlim=(0, seconds), ylabel="Hz", xlabel="time (s)", title="F0 contour (pyin)")
    if not np.all(np.isnan(f0)):
        axes[2].set_ylim(max(0.0, np.nanmin(f0) * 0.8), np.nanmax(f0) * 1.2)

    if model is not None and prediction is None:
        prediction = Runner(model).predict([clip])
    reason = None if prediction is None else refusals(prediction.voiced_seconds, [seconds])[0]
    if prediction is None or reason is not None:
        message = "no weights given" if prediction is None else f"no tone: {reason}"
        axes[3].text(0.5, 0.5, message, ha="center", va="center", wrap=True)
        axes[3].set_axis_off()
    else:
        probabilities = prediction.probabilities[0]
        positions = np.arange(len(probabilities))
        bars = axes[3].barh(positions, probabilities, color="#2ca02c")
        bars[int(np.argmax(probabilities))].set_color("#ff7f0e")
        axes[3].set_yticks(positions, config.class_names)
        axes[3].invert_yaxis()
        axes[3].set(xlim=(0, 1), xlabel="probability", title="Tone probabilities (ToneNet)")
        for y, p in zip(positions, probabilities, strict=True):
            axes[3].text(min(p + 0.01, 0.9), y, f"{p:.2f}", va="center")
    return figure


def f0_contour(clip: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The F0 contour the plots draw: `librosa.pyin`, 60-500 Hz, 10 ms hop at 16 kHz.

    Returns:
        `(times in seconds, F0 in Hz with NaN where unvoiced)`.
    """
    import librosa

    f0, voiced, _ = librosa.pyin(
        np.asarray(clip, np.float32),
        fmin=60.0,
        fmax=500.0,
        sr=sample_rate,
        frame_length=1024,
        hop_length=160,
    )
    return librosa.times_like(f0, sr=sample_rate, hop_length=160), np.where(voiced, f0, np.nan)


#: Colour of each verdict of `keras_tone.score`.
VERDICT_COLOURS = {
    "ok": "#2ca02c",
    "wrong tone": "#d62728",
    "unsure": "#ff7f0e",
    "not judged": "#7f7f7f",
}

#: Chao tone letters (pitch levels 1-5) of each tone, drawn as the expected shape.
#: Tone 3 is the full 214; the neutral tone has no shape of its own.
CHAO_CONTOURS = {1: (5, 5), 2: (3, 5), 3: (2, 1, 4), 4: (5, 1)}


def plot_word(clip: np.ndarray, sample_rate: int, result: Any, *, title: str = "") -> Any:
    """Draw a word's waveform and pitch contour with its syllables, expected and heard tones.

    The pitch panel shades each syllable in the colour of its verdict
    (`VERDICT_COLOURS`), draws the expected tone's shape (Chao's tone
    letters, `CHAO_CONTOURS`, spread over the word's pitch range) dashed
    over the measured F0, and writes above it the syllable, the expected
    tone (citation -> surface when sandhi changed it), the heard tone with
    its probability, and the verdict.

    Args:
        clip: the recording, mono float `[samples]`.
        sample_rate: its sampling rate in Hz.
        result: what `keras_tone.score` returned for this recording.
        title: the figure's title.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.plot import plot_word
        >>> t = np.arange(16000) / 16000
        >>> clip = (0.1 * np.sin(2 * np.pi * (180 + 60 * t) * t)).astype("float32")
        >>> result = {"pinyin": "ni3 hao3", "verdict": "ok", "syllables": [
        ...     {"pinyin": "ni3", "start": 0.1, "end": 0.5, "citation": 3, "expected": 2,
        ...      "heard": 2, "probability": 0.9, "verdict": "ok"},
        ...     {"pinyin": "hao3", "start": 0.5, "end": 0.9, "citation": 3, "expected": 3,
        ...      "heard": 3, "probability": 0.8, "verdict": "ok"}]}
        >>> len(plot_word(clip, 16000, result).axes)
        2
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    clip = np.asarray(clip, dtype=np.float32)
    seconds = clip.size / sample_rate
    figure = Figure(figsize=(9, 6), layout="constrained")
    wave_axes, pitch_axes = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2.2]}
    )
    # Pinyin only: matplotlib's default fonts have no Chinese characters.
    heading = f"{result['pinyin']}: {result['verdict']}"
    figure.suptitle(f"{title}: {heading}" if title else heading)
    wave_axes.plot(np.arange(clip.size) / sample_rate, clip, linewidth=0.6, color="#1f77b4")
    wave_axes.set(xlim=(0, seconds), ylabel="amplitude", title="Waveform and syllables")

    times, f0 = f0_contour(clip, sample_rate)
    voiced = f0[~np.isnan(f0)]
    low, high = np.percentile(voiced, [5, 95]) if voiced.size else (100.0, 300.0)
    high = max(high, low * 1.5)  # at least about 7 semitones of range to draw shapes in
    pitch_axes.plot(times, f0, color="black", linewidth=2, label="F0 (pyin)")
    pitch_axes.set_yscale("log")
    pitch_axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    pitch_axes.yaxis.set_major_formatter(ScalarFormatter())
    pitch_axes.yaxis.set_minor_formatter(NullFormatter())
    pitch_axes.set_ylim(low / 1.4, high * 1.6)
    for syllable in result["syllables"]:
        start, end = syllable["start"], syllable["end"]
        colour = VERDICT_COLOURS.get(syllable["verdict"], "#7f7f7f")
        for axes in (wave_axes, pitch_axes):
            axes.axvspan(start, end, color=colour, alpha=0.12, linewidth=0)
            axes.axvline(start, color="grey", linewidth=0.8)
            axes.axvline(end, color="grey", linewidth=0.8)
        shape = CHAO_CONTOURS.get(syllable["expected"])
        if shape is not None:
            levels = np.interp(np.linspace(0, 1, 50), np.linspace(0, 1, len(shape)), shape)
            pitch_axes.plot(
                np.linspace(start, end, 50),
                low * (high / low) ** ((levels - 1) / 4),
                linestyle="--",
                color=colour,
                linewidth=1.5,
            )
        expected = str(syllable["expected"])
        if syllable["citation"] != syllable["expected"]:
            expected = f"{syllable['citation']}->{expected}"
        pitch_axes.text(
            (start + end) / 2,
            high * 1.5,
            f"{syllable['pinyin']}\nexpected {expected}\n"
            f"heard {syllable['heard']} ({syllable['probability']:.2f})\n{syllable['verdict']}",
            ha="center",
            va="top",
            fontsize=9,
            color=colour,
        )
    pitch_axes.set(
        xlim=(0, seconds),
        ylabel="Hz (log scale)",
        xlabel="time (s)",
        title="Pitch contour; dashed: the expected tone's shape (Chao tone letters)",
    )
    return figure


__all__ = [
    "CHAO_CONTOURS",
    "DISPLAY_HOP",
    "VERDICT_COLOURS",
    "f0_contour",
    "plot_clip",
    "plot_word",
]
