"""`keras-tone plot`: one clip's waveform, log-mel image, F0 contour and tone probabilities.

Needs matplotlib (`pip install keras-tone[plot]`); the figure is drawn
without pyplot, so no display is needed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from keras_tone._keras import keras
from keras_tone.audio import prepare_batch
from keras_tone.config import ToneNetConfig
from keras_tone.frontend import FrontEnd, front_end_of

#: Hop of the log-mel panel, in samples: finer than the model's, for the eye.
DISPLAY_HOP = 256


def plot_clip(
    clip: np.ndarray,
    sample_rate: int,
    *,
    model: keras.Model | None = None,
    title: str = "",
) -> Any:
    """Draw waveform, log-mel, F0 contour and tone probabilities of one clip.

    Args:
        clip: mono float waveform `[samples]`.
        sample_rate: its sampling rate in Hz: the model's, when there is one.
        model: a waveform ToneNet with its classifier, or `None` to leave the
            probability panel empty. Its front end's settings draw the log-mel
            panel (`ToneNetConfig()`'s without a model), at a finer hop.
        title: the figure's title.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.plot import plot_clip
        >>> t = np.arange(8000) / 16000
        >>> figure = plot_clip((0.1 * np.sin(2 * np.pi * 200 * t)).astype("float32"), 16000)
        >>> len(figure.axes)
        5
    """
    import librosa
    from matplotlib.figure import Figure

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

    f0, voiced, _ = librosa.pyin(
        clip, fmin=60.0, fmax=500.0, sr=sample_rate, frame_length=1024, hop_length=160
    )
    f0_time = librosa.times_like(f0, sr=sample_rate, hop_length=160)
    axes[2].plot(f0_time, np.where(voiced, f0, np.nan), color="#d62728", linewidth=2)
    axes[2].set(xlim=(0, seconds), ylabel="Hz", xlabel="time (s)", title="F0 contour (pyin)")
    if np.any(voiced):
        low, high = np.nanmin(f0[voiced]), np.nanmax(f0[voiced])
        axes[2].set_ylim(max(0.0, low * 0.8), high * 1.2)

    if model is None:
        axes[3].text(0.5, 0.5, "no weights given", ha="center", va="center")
        axes[3].set_axis_off()
    else:
        batch = prepare_batch([clip], sample_rate, model_sample_rate=sample_rate)
        probabilities = model.predict(batch, verbose=0)[0]
        positions = np.arange(len(probabilities))
        bars = axes[3].barh(positions, probabilities, color="#2ca02c")
        bars[int(np.argmax(probabilities))].set_color("#ff7f0e")
        axes[3].set_yticks(positions, config.class_names)
        axes[3].invert_yaxis()
        axes[3].set(xlim=(0, 1), xlabel="probability", title="Tone probabilities (ToneNet)")
        for y, p in zip(positions, probabilities, strict=True):
            axes[3].text(min(p + 0.01, 0.9), y, f"{p:.2f}", va="center")
    return figure


__all__ = ["DISPLAY_HOP", "plot_clip"]
