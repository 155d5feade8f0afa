"""`HighPass`: a linear-phase FIR high-pass filter computed in the graph; the polyphase filter."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras
from keras_tone.layers._base import PACKAGE, WaveformLayer, float32_only


@keras.utils.register_keras_serializable(package=PACKAGE)
class HighPass(WaveformLayer):
    """Linear-phase FIR high-pass filter of mono waveforms, computed in the graph.

    Removes DC offsets and rumble below `cutoff_hz` (a Hamming-windowed-sinc
    design, `keras_tone.dsp.highpass_fir`) with "same" padding, so the output
    is aligned with the input and as long. The filter is computed in
    polyphase form (`keras_tone.dsp.polyphase_kernel`): one dense convolution
    over blocks of 32 samples, which exports to TFLite built-ins and ONNX.
    The taps are a constant of the graph, not a weight.

    Args:
        sample_rate: sampling rate in Hz.
        cutoff_hz: cut-off frequency in Hz (-6 dB point).
        taps: filter length, odd.

    Input shape:
        `[batch, samples]`.

    Output shape:
        `[batch, samples]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import HighPass
        >>> dc = np.full((1, 16000), 0.5, "float32")
        >>> float(np.abs(HighPass(sample_rate=16000)(dc)[0, 4000:12000]).max()) < 1e-4
        True
    """

    #: Samples per block of the polyphase form (one dense convolution over blocks).
    PHASES = 32

    _CONFIG = ("sample_rate", "cutoff_hz", "taps")

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        cutoff_hz: float = 60.0,
        taps: int = 1023,
        **kwargs: Any,
    ) -> None:
        float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.cutoff_hz = float(cutoff_hz)
        self.taps = int(taps)
        kernel = dsp.highpass_fir(
            sample_rate=self.sample_rate, cutoff_hz=self.cutoff_hz, taps=self.taps
        )
        # Built once; embedded as a graph constant in call().
        self._polyphase = dsp.polyphase_kernel(kernel, self.PHASES).astype("float32")

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        y = polyphase_filter(x, self._polyphase, left=(self.taps - 1) // 2)
        return y[:, : tf.shape(x)[1]]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)


def polyphase_filter(x: tf.Tensor, kernel: np.ndarray, *, left: int) -> tf.Tensor:
    """Filter `[batch, samples]` with a kernel from `dsp.polyphase_kernel`, in one convolution.

    `kernel` is `[blocks, phases, outputs]`. With all `phases` outputs it
    filters the signal (`[batch, blocks_out * phases]`, to be trimmed by the
    caller to the input's length); keeping every other output channel
    (`kernel[..., ::2]`) filters and decimates by 2 (`VoicedSpeech`). `left`
    is the kernel's delay, so the output is aligned with the input ("same"
    padding). Few channels make a slow convolution on CPUs: 32 phases, not 2.
    """
    blocks, phases, outputs = kernel.shape
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    out_blocks = (length + phases - 1) // phases
    total = (out_blocks + blocks - 1) * phases
    x = tf.pad(x, [[0, 0], [left, total - length - left]])
    x = tf.reshape(x, [batch, out_blocks + blocks - 1, phases])
    y = tf.nn.conv1d(x, tf.constant(kernel), stride=1, padding="VALID")
    return tf.reshape(y, [batch, out_blocks * outputs])
