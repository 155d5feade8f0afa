"""In-graph audio front end: waveforms in, librosa-compatible features out.

* `LogMelSpectrogram`: `librosa.power_to_db(librosa.feature.melspectrogram(...))`.
* `MFCC`: `librosa.feature.mfcc(...)` (orthonormal DCT-II, optional liftering).
* `SyllableNormalization`: trims leading and trailing silence, normalises
  loudness and fits each clip to a fixed duration, so a padded batch of clips
  of any length can go straight into a model.

The STFT is computed as a matrix product with constant, pre-windowed DFT
matrices restricted to the frequency bins that the mel filterbank uses. That
keeps the graph to plain ops (framing, matmul, log), which export to TFLite
with built-in ops only and to ONNX, and it is faster than a full FFT when
`fmax` is well below Nyquist. For windows symmetric about `n_fft / 2` (Hann,
Hamming, rectangular at full length) each frame is folded first, `x[n] +
x[n_fft - n]` and `x[n] - x[n_fft - n]`, so two half-size products replace the
full one: half the multiply-adds, the same result to float32 rounding.

All three layers compute in float32, also under a mixed-precision policy
(the layers following them cast as usual): in float16 the dB values would be
off by several dB.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone import dsp
from keras_tone._keras import keras

_PACKAGE = "keras_tone"


def _float32_only(layer_name: str, kwargs: dict[str, Any]) -> None:
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


class _WaveformLayer(keras.layers.Layer):
    """A layer over mono waveforms: checks them at the door, accepts one clip or a batch.

    Subclasses set `self.sample_rate` and implement `_transform` on a float32
    batch `[batch, samples]`.
    """

    sample_rate: int

    def call(self, inputs: Any, sample_rate: int | None = None) -> tf.Tensor:
        x = check_waveforms(
            inputs,
            layer_name=type(self).__name__,
            expected_rate=self.sample_rate,
            sample_rate=sample_rate,
        )
        if x.shape.rank == 1:
            return self._transform(x[tf.newaxis])[0]
        return self._transform(x)

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError


@keras.utils.register_keras_serializable(package=_PACKAGE)
class LogMelSpectrogram(_WaveformLayer):
    """Log-mel spectrogram of mono waveforms, computed in the graph.

    Equal to `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr,
    ...), ref=ref, amin=amin, top_db=top_db)`, transposed to
    `[frames, n_mels]`, and every default is librosa's: periodic Hann window,
    centred frames padded with zeros (`pad_mode="constant"`), Slaney mel scale
    with Slaney area normalisation, power 2, `amin=1e-10`, `ref=1.0`,
    `top_db=80`. Measured against librosa 0.11 (tests/test_layers.py) the
    largest difference on any bin above the `top_db` floor is below 0.01 dB.

    The `top_db` floor is applied per example: unlike
    `keras.layers.MelSpectrogram`, a clip's features never depend on the other
    clips in its batch.

    Args:
        sample_rate: sampling rate of the input in Hz.
        n_fft: FFT size.
        hop_length: samples between frames; `None` means `win_length // 4`.
        win_length: window length, `<= n_fft`; `None` means `n_fft`.
        window: `"hann"`, `"hamming"` or `"ones"`.
        center: pad `n_fft // 2` zeros on both sides so frame `t` is centred
            at sample `t * hop_length`.
        n_mels: number of mel bands.
        fmin: lowest mel frequency in Hz.
        fmax: highest mel frequency in Hz; `None` means `sample_rate / 2`.
        htk: HTK mel scale instead of Slaney's.
        norm: `"slaney"` or `None` (no area normalisation).
        power: exponent of the magnitude (2 for power, 1 for magnitude).
        amin: floor of the mel power before the logarithm.
        ref: reference power for 0 dB: a positive number, or `"max"` for the
            loudest bin of each example (librosa's `ref=np.max`, per clip).
        top_db: floor the output at `max - top_db` per example; `None` for no
            floor.

    Input shape:
        `[batch, samples]` (or `[samples]`) float waveforms in [-1, 1].

    Output shape:
        `[batch, frames, n_mels]` with `frames = 1 + samples // hop_length`
        when `center=True`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import LogMelSpectrogram
        >>> layer = LogMelSpectrogram(sample_rate=16000, n_fft=1024,
        ...                           hop_length=512, n_mels=80)
        >>> layer(np.zeros((2, 16000), "float32")).shape
        TensorShape([2, 32, 80])
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        htk: bool = False,
        norm: str | None = "slaney",
        power: float = 2.0,
        amin: float = 1e-10,
        ref: float | str = 1.0,
        top_db: float | None = 80.0,
        **kwargs: Any,
    ) -> None:
        _float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        win_length = int(n_fft if win_length is None else win_length)
        hop_length = int(win_length // 4 if hop_length is None else hop_length)
        if hop_length <= 0:
            raise ValueError(f"hop_length must be positive; received {hop_length}.")
        if power <= 0:
            raise ValueError(f"power must be positive; received power={power}.")
        if amin <= 0:
            raise ValueError(f"amin must be positive; received amin={amin}.")
        if top_db is not None and top_db < 0:
            raise ValueError(f"top_db must be non-negative or None; received {top_db}.")
        if isinstance(ref, str):
            if ref != "max":
                raise ValueError(f"ref must be a positive number or 'max'; received {ref!r}.")
        elif ref <= 0:
            raise ValueError(f"ref must be a positive number or 'max'; received {ref}.")
        self.sample_rate = int(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = bool(center)
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(self.sample_rate / 2.0 if fmax is None else fmax)
        self.htk = bool(htk)
        self.norm = norm
        self.power = float(power)
        self.amin = float(amin)
        self.ref = ref if isinstance(ref, str) else float(ref)
        self.top_db = None if top_db is None else float(top_db)

        filterbank = dsp.mel_filterbank(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            htk=self.htk,
            norm=self.norm,
        )
        used = np.flatnonzero(filterbank.any(axis=0))
        if used.size == 0:
            raise ValueError(
                f"The mel filterbank is empty: n_mels={n_mels} bands between "
                f"{self.fmin} and {self.fmax} Hz fall between the FFT bins of "
                f"n_fft={n_fft}. Use a larger n_fft or fewer mel bands."
            )
        bins = np.arange(used[0], used[-1] + 1)
        window_values = dsp.get_window(self.window, self.win_length, self.n_fft)
        real, imag = dsp.dft_matrices(self.n_fft, bins)
        real, imag = window_values[:, None] * real, window_values[:, None] * imag
        # Built once; embedded as graph constants in call() (see module docs).
        self._dft = np.concatenate([real, imag], axis=1).astype("float32")
        self._folded = _folded_dft(real, imag)
        self._n_bins = bins.size
        self._filterbank = filterbank[:, bins].T.astype("float32")

    def _frames(self, x: tf.Tensor) -> tf.Tensor:
        if self.center:
            pad = self.n_fft // 2
            x = tf.pad(x, [[0, 0], [pad, pad]])
        elif x.shape[-1] is not None and x.shape[-1] < self.n_fft:
            raise ValueError(
                f"With center=False, clips need at least n_fft={self.n_fft} "
                f"samples; received {x.shape[-1]}."
            )
        return tf.signal.frame(x, self.n_fft, self.hop_length)

    def _log_mel(self, waveforms: tf.Tensor) -> tf.Tensor:
        frames = self._frames(waveforms)
        if self._folded is not None:
            real, imag = self._folded_spectrum(frames)
        else:
            spectrum = tf.matmul(frames, tf.constant(self._dft))
            real, imag = spectrum[..., : self._n_bins], spectrum[..., self._n_bins :]
        power = tf.square(real) + tf.square(imag)
        if self.power != 2.0:
            power = tf.pow(power, self.power / 2.0)
        mel = tf.matmul(power, tf.constant(self._filterbank))
        log_mel = 10.0 * _log10(tf.maximum(mel, self.amin))
        if self.ref == "max":
            ref = tf.reduce_max(mel, axis=[1, 2], keepdims=True)
            log_mel -= 10.0 * _log10(tf.maximum(ref, self.amin))
        else:
            log_mel -= 10.0 * np.log10(max(self.ref, self.amin))
        if self.top_db is not None:
            peak = tf.reduce_max(log_mel, axis=[1, 2], keepdims=True)
            log_mel = tf.maximum(log_mel, peak - self.top_db)
        return log_mel

    def _folded_spectrum(self, frames: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # x[n] and x[n_fft - n] meet the same (symmetric) windowed cosine and
        # opposite sines: add and subtract them first, then two matmuls of half
        # the size give the same real and imaginary parts at half the work.
        half = self.n_fft // 2
        head = frames[..., 1 : half + 1]  # x[1] .. x[half]
        tail = tf.reverse(frames[..., half:], axis=[-1])  # x[n_fft-1] .. x[half]
        cos, sin, first = self._folded
        real = tf.matmul(head + tail, tf.constant(cos))
        if first is not None:  # x[0] has no partner; zero for the Hann window
            real += frames[..., :1] * tf.constant(first)
        return real, tf.matmul(head - tail, tf.constant(sin))

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        return self._log_mel(x)

    def _n_frames(self, samples: int | None) -> int | None:
        if samples is None:
            return None
        if self.center:
            return 1 + samples // self.hop_length
        return 1 + (samples - self.n_fft) // self.hop_length

    def _n_features(self) -> int:
        return self.n_mels

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        frames = self._n_frames(input_shape[-1])
        return (*input_shape[:-1], frames, self._n_features())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=self.center,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            htk=self.htk,
            norm=self.norm,
            power=self.power,
            amin=self.amin,
            ref=self.ref,
            top_db=self.top_db,
        )
        return config


@keras.utils.register_keras_serializable(package=_PACKAGE)
class MFCC(LogMelSpectrogram):
    """Mel-frequency cepstral coefficients, computed in the graph.

    Equal to `librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, lifter=lifter,
    ...)` transposed to `[frames, n_mfcc]`: the log-mel of
    `LogMelSpectrogram` (same arguments and librosa defaults, including
    `n_mels=128` and `top_db=80`) followed by an orthonormal DCT-II over the
    mel axis and, when `lifter > 0`, librosa's sinusoidal liftering.

    Args:
        n_mfcc: number of coefficients, `<= n_mels`.
        lifter: liftering coefficient; 0 disables it.
        **kwargs: the arguments of `LogMelSpectrogram`.

    Output shape:
        `[batch, frames, n_mfcc]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import MFCC
        >>> MFCC(sample_rate=16000, n_mfcc=13)(np.zeros((1, 8000), "float32")).shape
        TensorShape([1, 16, 13])
    """

    def __init__(self, *, n_mfcc: int = 20, lifter: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 < n_mfcc <= self.n_mels:
            raise ValueError(
                f"n_mfcc must be in [1, n_mels={self.n_mels}]; received n_mfcc={n_mfcc}."
            )
        if lifter < 0:
            raise ValueError(f"lifter must be >= 0; received lifter={lifter}.")
        self.n_mfcc = int(n_mfcc)
        self.lifter = float(lifter)
        dct = dsp.dct_matrix(self.n_mels, self.n_mfcc)
        self._dct = (dct * dsp.lifter_weights(self.n_mfcc, self.lifter)[None, :]).astype("float32")

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(self._log_mel(x), tf.constant(self._dct))

    def _n_features(self) -> int:
        return self.n_mfcc

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(n_mfcc=self.n_mfcc, lifter=self.lifter)
        return config


@keras.utils.register_keras_serializable(package=_PACKAGE)
class SyllableNormalization(_WaveformLayer):
    """Trim silence, normalise loudness and fit each clip to a fixed duration.

    The one place where keras_tone decides how a clip of any length, loudness
    and leading silence becomes a fixed-size model input. For each example:

    1. **Trim**: frames (`frame_length`, `hop_length`) whose RMS is more than
       `top_db` below the clip's loudest frame are silence; the syllable runs
       from the first to the last frame that is not (zero padding at the end
       of a batch is silence too, so padded batches need no lengths).
    2. **Fit**: the syllable starts at sample 0 of an output of
       `duration * sample_rate` samples, padded with zeros after its end or
       cut at the end of the output.
    3. **Loudness**: scaled so the syllable's RMS is `target_rms_db` dBFS.

    A clip of only zeros stays zeros.

    Args:
        sample_rate: sampling rate in Hz.
        duration: output length in seconds.
        top_db: silence threshold below the loudest frame, in dB.
        frame_length: analysis frame for the silence decision, in samples.
        hop_length: hop of the analysis frames, in samples.
        target_rms_db: RMS level of the syllable after scaling, in dBFS.

    Input shape:
        `[batch, samples]` float waveforms, any `samples >= 1`.

    Output shape:
        `[batch, round(duration * sample_rate)]`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import SyllableNormalization
        >>> clip = np.zeros((1, 24000), "float32")
        >>> clip[0, 8000:12000] = 0.1 * np.sin(np.arange(4000) * 0.1)
        >>> out = SyllableNormalization(sample_rate=16000)(clip)
        >>> out.shape, bool(np.abs(out[0, :1000]).max() > 0)
        (TensorShape([1, 16000]), True)
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        duration: float = 1.0,
        top_db: float = 40.0,
        frame_length: int = 512,
        hop_length: int = 128,
        target_rms_db: float = -20.0,
        **kwargs: Any,
    ) -> None:
        _float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        if duration <= 0:
            raise ValueError(f"duration must be positive; received {duration}.")
        if top_db <= 0:
            raise ValueError(f"top_db must be positive; received {top_db}.")
        self.sample_rate = int(sample_rate)
        self.duration = float(duration)
        self.top_db = float(top_db)
        self.frame_length = int(frame_length)
        self.hop_length = int(hop_length)
        self.target_rms_db = float(target_rms_db)
        self.output_samples = int(round(self.duration * self.sample_rate))

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        n = tf.shape(x)[1]
        short = tf.maximum(self.frame_length - n, 0)
        padded = tf.pad(x, [[0, 0], [0, short]])
        frames = tf.signal.frame(padded, self.frame_length, self.hop_length, pad_end=True)
        energy = tf.reduce_mean(tf.square(frames), axis=-1)
        level = 10.0 * _log10(tf.maximum(energy, 1e-20))
        active = level > tf.reduce_max(level, axis=1, keepdims=True) - self.top_db
        active = tf.cast(active, "int32")
        n_frames = tf.shape(active)[1]
        first = tf.argmax(active, axis=1, output_type="int32")
        last = n_frames - 1 - tf.argmax(tf.reverse(active, [1]), axis=1, output_type="int32")
        start = first * self.hop_length
        end = tf.minimum(last * self.hop_length + self.frame_length, n)

        index = start[:, None] + tf.range(self.output_samples)[None, :]
        inside = tf.cast(index < end[:, None], "float32")
        index = tf.minimum(index, n - 1)
        segment = tf.gather(x, index, batch_dims=1) * inside

        count = tf.maximum(tf.reduce_sum(inside, axis=1, keepdims=True), 1.0)
        rms = tf.sqrt(tf.reduce_sum(tf.square(segment), axis=1, keepdims=True) / count)
        gain = (10.0 ** (self.target_rms_db / 20.0)) / tf.maximum(rms, 1e-6)
        return segment * gain

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], self.output_samples)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            duration=self.duration,
            top_db=self.top_db,
            frame_length=self.frame_length,
            hop_length=self.hop_length,
            target_rms_db=self.target_rms_db,
        )
        return config


@keras.utils.register_keras_serializable(package=_PACKAGE)
class HighPass(_WaveformLayer):
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

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        cutoff_hz: float = 60.0,
        taps: int = 1023,
        **kwargs: Any,
    ) -> None:
        _float32_only(type(self).__name__, kwargs)
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
        y = _polyphase_filter(x, self._polyphase, left=(self.taps - 1) // 2)
        return y[:, : tf.shape(x)[1]]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(sample_rate=self.sample_rate, cutoff_hz=self.cutoff_hz, taps=self.taps)
        return config


def _polyphase_filter(x: tf.Tensor, kernel: np.ndarray, *, left: int) -> tf.Tensor:
    """Filter `[batch, samples]` with a kernel from `dsp.polyphase_kernel`, in one convolution.

    `kernel` is `[blocks, phases, outputs]`. With all `phases` outputs it
    filters the signal (`[batch, blocks_out * phases]`, to be trimmed by the
    caller to the input's length); keeping every other output channel
    (`kernel[..., ::2]`) filters and decimates by 2. `left` is the kernel's
    delay, so the output is aligned with the input ("same" padding). Few
    channels make a slow convolution on CPUs: 32 phases, not 2.
    """
    blocks, phases, outputs = kernel.shape
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    out_blocks = (length + phases - 1) // phases
    total = (out_blocks + blocks - 1) * phases
    x = tf.pad(x, [[0, 0], [left, total - length - left]])
    x = tf.reshape(x, [batch, out_blocks + blocks - 1, phases])
    y = tf.nn.conv1d(x, tf.constant(kernel), stride=1, padding="VALID")
    return tf.reshape(y, [batch, out_blocks * outputs])


def _folded_dft(
    real: np.ndarray, imag: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Half-size DFT matrices for windows symmetric about `n_fft / 2`, else `None`.

    With `w[n] == w[N - n]` (periodic Hann, Hamming and rectangular windows
    centred in an even `N`), row `N - n` of the windowed cosine matrix equals
    row `n` and the sine row is its negative. So `frames @ real` is
    `(x[1:h+1] + x[N-1:h-1:-1]) @ cos + x[0] * real[0]` and `frames @ imag`
    is `(x[1:h+1] - x[N-1:h-1:-1]) @ sin`, with `h = N / 2`, `cos = real[1:h+1]`
    (its last row halved: `x[h]` is its own partner and is counted twice) and
    `sin = imag[1:h+1]`.

    Returns:
        `(cos, sin, first)` as float32, `first` the row of `x[0]` or `None`
        when it is zero; `None` when the window is not symmetric.
    """
    n = real.shape[0]
    half = n // 2
    symmetric = (
        n % 2 == 0
        and np.allclose(real[1:half], real[:half:-1], rtol=0, atol=1e-12)
        and np.allclose(imag[1:half], -imag[:half:-1], rtol=0, atol=1e-12)
        and np.allclose(imag[[0, half]], 0.0, rtol=0, atol=1e-12)
    )
    if not symmetric:
        return None
    cos = real[1 : half + 1].copy()
    cos[-1] *= 0.5
    first = real[0] if np.any(real[0] != 0) else None
    return (
        cos.astype("float32"),
        imag[1 : half + 1].astype("float32"),
        None if first is None else first.astype("float32"),
    )


def _log10(x: tf.Tensor) -> tf.Tensor:
    return tf.math.log(x) * (1.0 / np.log(10.0))


__all__ = ["HighPass", "LogMelSpectrogram", "MFCC", "SyllableNormalization"]
