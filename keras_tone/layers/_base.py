"""What every keras_tone layer shares: waveform checks, float32, framing and the DFT."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras

PACKAGE = "keras_tone"


def float32_only(layer_name: str, kwargs: dict[str, Any]) -> None:
    dtype = kwargs.get("dtype")
    if dtype is None:
        kwargs["dtype"] = "float32"
        return
    policy = keras.dtype_policies.get(dtype)
    if policy.compute_dtype != "float32":
        raise ValueError(
            f"{layer_name} computes in float32 only (log-mel in float16 or "
            "bfloat16 is off by several dB). Leave `dtype` unset: under a "
            "global mixed-precision policy it still computes in float32 and the "
            f"layers after it cast as usual. Received dtype={dtype!r}."
        )


def check_waveforms(
    inputs: Any, *, layer_name: str, expected_rate: int, sample_rate: int | None = None
) -> tf.Tensor:
    """Validate a batch of waveforms at the door and return it as float32.

    Static properties (dtype, rank, channel layout, empty) are checked always;
    the values (NaN/Inf) are checked when the call runs eagerly.
    """
    if sample_rate is not None and int(sample_rate) != int(expected_rate):
        raise ValueError(
            f"{layer_name} was built for sample_rate={expected_rate} Hz but "
            f"received audio at {sample_rate} Hz. Resample it first, e.g. "
            f"`librosa.resample(y, orig_sr={sample_rate}, "
            f"target_sr={expected_rate})` or "
            f"`keras_tone.load_audio(path, sample_rate={expected_rate})`."
        )
    x = tf.convert_to_tensor(inputs)
    if x.dtype.is_integer or x.dtype == tf.bool:
        raise ValueError(
            f"{layer_name} expects float waveforms in [-1, 1]; received dtype "
            f"{x.dtype.name}. For 16-bit PCM use `x.astype('float32') / 32768` "
            "(`keras_tone.prepare_batch` does this for you)."
        )
    if x.dtype.is_complex:
        raise ValueError(f"{layer_name} expects real waveforms; received {x.dtype.name}.")
    rank = x.shape.rank
    if rank is not None:
        if rank == 3 and x.shape[-1] is not None and x.shape[-1] <= 8:
            raise ValueError(
                f"{layer_name} expects mono waveforms of shape [batch, samples]; "
                f"received shape {tuple(x.shape)}, which looks like multichannel "
                "audio. Downmix first: `x.mean(axis=-1)`."
            )
        if rank not in (1, 2):
            raise ValueError(
                f"{layer_name} expects waveforms of shape [batch, samples] or "
                f"[samples]; received rank {rank} with shape {tuple(x.shape)}."
            )
        samples = x.shape[-1]
        if samples == 0:
            raise ValueError(
                f"{layer_name} received empty waveforms (0 samples, shape "
                f"{tuple(x.shape)}). Every clip needs at least one sample."
            )
        if (
            rank == 2
            and samples is not None
            and samples <= 8
            and x.shape[0] is not None
            and x.shape[0] > samples
        ):
            raise ValueError(
                f"{layer_name} received shape {tuple(x.shape)}, which looks like "
                "channel-last audio [samples, channels]. Pass mono waveforms "
                "[batch, samples]: downmix with `x.mean(axis=-1)` and add a "
                "batch axis with `x[None]`."
            )
    x = tf.cast(x, "float32")
    if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(x))):
        raise ValueError(
            f"{layer_name} received NaN or Inf samples. Clean the audio first, "
            "e.g. `np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)`."
        )
    return x


class WaveformLayer(keras.layers.Layer):
    """A layer over mono waveforms: checks them at the door, accepts one clip or a batch.

    Subclasses set `self.sample_rate`, implement `_transform` on a float32
    batch `[batch, samples]`, and name in `_CONFIG` the constructor arguments
    that `get_config` stores (their resolved values, as attributes).
    """

    sample_rate: int
    _CONFIG: tuple[str, ...] = ()

    def call(self, inputs: Any, sample_rate: int | None = None) -> tf.Tensor:
        x = self._check(inputs, sample_rate)
        if x.shape.rank == 1:
            return self._transform(x[tf.newaxis])[0]
        return self._transform(x)

    def _check(self, inputs: Any, sample_rate: int | None = None) -> tf.Tensor:
        return check_waveforms(
            inputs,
            layer_name=type(self).__name__,
            expected_rate=self.sample_rate,
            sample_rate=sample_rate,
        )

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({name: getattr(self, name) for name in self._CONFIG})
        return config


class Spectrogram(WaveformLayer):
    """A waveform layer over the power spectrum of centred, windowed frames.

    The STFT is a matrix product with constant, pre-windowed DFT matrices
    restricted to the frequency bins the subclass needs (`_set_bins`), which
    keeps the graph to plain ops (framing, matmul) that export to TFLite with
    built-in ops only and to ONNX. For windows symmetric about `n_fft / 2`
    each frame is folded first (`keras_tone.dsp.folded_dft_matrices`): half
    the multiply-adds, the same result to float32 rounding.

    Calling the layer on waveforms is `from_power` of its own STFT; layers
    over the same frames can share one STFT instead
    (`keras_tone.layers.PowerSpectrogram.covering`). Subclasses implement
    `_from_power`.
    """

    #: The DFT bins the layer reads (consecutive indices of the `n_fft`-point DFT).
    bins: np.ndarray

    def _set_frames(
        self,
        *,
        n_fft: int,
        hop_length: int | None,
        win_length: int | None,
        window: str,
        center: bool,
    ) -> None:
        self.n_fft = int(n_fft)
        self.win_length = int(n_fft if win_length is None else win_length)
        self.hop_length = int(self.win_length // 4 if hop_length is None else hop_length)
        if self.hop_length <= 0:
            raise ValueError(f"hop_length must be positive. Received: hop_length={hop_length}")
        self.window = window
        self.center = bool(center)

    def _set_bins(self, bins: np.ndarray) -> None:
        """Compute the DFT for `bins` (consecutive indices of the `n_fft` DFT) only."""
        window_values = dsp.get_window(self.window, self.win_length, self.n_fft)
        real, imag = dsp.dft_matrices(self.n_fft, bins)
        real, imag = window_values[:, None] * real, window_values[:, None] * imag
        # Built once; embedded as graph constants in call() (tensors made in
        # build() would become graph inputs of an ONNX export).
        self._dft = np.concatenate([real, imag], axis=1).astype("float32")
        self._folded = dsp.folded_dft_matrices(real, imag)
        self._n_bins = bins.size
        self.bins = np.asarray(bins)

    def _framing(self) -> tuple[int, int, int, int, str, bool]:
        """`(sample_rate, n_fft, hop_length, win_length, window, center)`: the frames it reads."""
        return (
            self.sample_rate,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            self.center,
        )

    def from_power(self, power: Any) -> tf.Tensor:
        """The layer's output from the power spectrum of its frames at its `bins`.

        Args:
            power: `[batch, frames, len(self.bins)]`, `|STFT|^2` of the frames
                the layer reads (its `n_fft`, `hop_length`, `win_length`,
                `window` and `center`): what a `PowerSpectrogram` over the
                same frames gives, cut to these bins by its `select`.

        Returns:
            What calling the layer on the waveforms gives.
        """
        return self._from_power(tf.convert_to_tensor(power, "float32"))

    def _from_power(self, power: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        return self._from_power(self._power(x))

    def _frames(self, x: tf.Tensor) -> tf.Tensor:
        if self.center:
            pad = self.n_fft // 2
            x = tf.pad(x, [[0, 0], [pad, pad]])
        elif x.shape[-1] is not None and x.shape[-1] < self.n_fft:
            raise ValueError(
                f"With center=False, clips need at least n_fft={self.n_fft} "
                f"samples. Received: samples={x.shape[-1]}"
            )
        return tf.signal.frame(x, self.n_fft, self.hop_length)

    def _power(self, waveforms: tf.Tensor) -> tf.Tensor:
        """`|STFT|^2` of the chosen bins: `[batch, frames, bins]`."""
        frames = self._frames(waveforms)
        if self._folded is None:
            spectrum = tf.matmul(frames, tf.constant(self._dft))
            real, imag = spectrum[..., : self._n_bins], spectrum[..., self._n_bins :]
        else:
            # x[n] and x[n_fft - n] meet the same (symmetric) windowed cosine
            # and opposite sines: add and subtract them first, then two
            # matmuls of half the size give the same real and imaginary parts.
            half = self.n_fft // 2
            head = frames[..., 1 : half + 1]  # x[1] .. x[half]
            tail = tf.reverse(frames[..., half:], axis=[-1])  # x[n_fft-1] .. x[half]
            cos, sin, first = self._folded
            real = tf.matmul(head + tail, tf.constant(cos))
            if first is not None:  # x[0] has no partner; zero for the Hann window
                real += frames[..., :1] * tf.constant(first)
            imag = tf.matmul(head - tail, tf.constant(sin))
        return tf.square(real) + tf.square(imag)

    def _n_frames(self, samples: int | None) -> int | None:
        if samples is None:
            return None
        if self.center:
            return 1 + samples // self.hop_length
        return 1 + (samples - self.n_fft) // self.hop_length


def clip_lengths(waveforms: tf.Tensor) -> tf.Tensor:
    """Each clip's length `[batch]` int32: up to and including its last non-zero sample.

    Trailing zeros, a batch's padding or digital silence at the end of a
    recording, are not part of a clip, so a clip has the same length alone
    and in any zero-padded batch; a clip of only zeros has length 0. The
    graph is a reduction of the non-zero mask times the sample positions,
    which exports to TFLite built-ins and ONNX.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import clip_lengths
        >>> clip_lengths(np.array([[0.5, 0.0, 0.2, 0.0], [0.0] * 4], "float32")).numpy().tolist()
        [3, 0]
    """
    positions = tf.range(1, tf.shape(waveforms)[1] + 1)
    heard = tf.cast(tf.not_equal(waveforms, 0.0), "int32")
    return tf.reduce_max(heard * positions[tf.newaxis, :], axis=1)


def log10(x: tf.Tensor) -> tf.Tensor:
    return tf.math.log(x) * (1.0 / np.log(10.0))
