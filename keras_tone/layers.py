"""In-graph audio front end: waveforms in, librosa-compatible features out.

* `LogMelSpectrogram`: `librosa.power_to_db(librosa.feature.melspectrogram(...))`.
* `MFCC`: `librosa.feature.mfcc(...)` (orthonormal DCT-II, optional liftering).
* `SyllableNormalization`: trims leading and trailing silence, normalises
  loudness and fits each clip to a fixed duration, so a padded batch of clips
  of any length can go straight into a model.
* `VoicedSpeech`: how many seconds of each clip hold voiced speech
  (periodicity in the voice's F0 range, harmonic richness, spectral shape).
* `PropagateNonFinite`: NaN out for the examples whose input holds NaN or
  Inf, so that such an input never gets an answer that looks like one.

The STFT is computed as a matrix product with constant, pre-windowed DFT
matrices restricted to the frequency bins that the mel filterbank uses. That
keeps the graph to plain ops (framing, matmul, log), which export to TFLite
with built-in ops only and to ONNX, and it is faster than a full FFT when
`fmax` is well below Nyquist. For windows symmetric about `n_fft / 2` (Hann,
Hamming, rectangular at full length) each frame is folded first, `x[n] +
x[n_fft - n]` and `x[n] - x[n_fft - n]`, so two half-size products replace the
full one: half the multiply-adds, the same result to float32 rounding.

The waveform layers compute in float32, also under a mixed-precision policy
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


def finite_examples(x: Any) -> tf.Tensor:
    """`[batch]` booleans: True where an example holds no NaN or Inf value.

    Written as `abs(x) <= largest float` (False for NaN and for Inf) and a
    minimum over the non-batch axes, plain ops that TFLite and ONNX have and
    that no converter can simplify away (`x - x == 0` could be folded, and
    a max-reduction may skip NaN).
    """
    x = tf.convert_to_tensor(x)
    ok = tf.cast(tf.abs(x) <= x.dtype.max, "float32")
    return tf.reduce_min(ok, axis=list(range(1, x.shape.rank))) > 0.5


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


@keras.utils.register_keras_serializable(package=_PACKAGE)
class VoicedSpeech(_WaveformLayer):
    """How many seconds of each clip hold voiced speech, computed in the graph.

    A voicing measure built from signal properties, not a classifier: no
    weights, and each threshold is a stated property of a voice. The clip is
    low-passed (63-tap windowed sinc at 0.45 of the new rate) and decimated by
    2 (8 kHz for 16 kHz input), then cut into 32 ms frames every 16 ms. A
    frame is a voiced candidate when all of these hold:

    1. **Level**: its mean square is at least `floor_db` dBFS and at most
       `range_db` below the clip's loudest frame, and neither half of it is
       more than `max_imbalance_db` quieter than the other (such a frame
       straddles an onset or a cut, and its spectrum is the cut's: a pure
       tone cut off looks rich there).
    2. **Periodicity in the voice's F0 range**: the normalised cross-
       correlation of the (mean-removed, rectangular) frame with itself at lag
       `t` over the overlapping part, `r(t) / sqrt(E1(t) * E2(t))`, becomes
       YIN's cumulative-mean-normalised difference `d'(t) = d(t) * t /
       sum(d(1..t))` with `d = 1 - r`; its smallest local minimum over the
       lags of `f0_min`..`f0_max` Hz (the aperiodicity) is at most
       `max_aperiodicity`, and that lag is the frame's period. `r` comes
       from the power spectrum (a DFT twice the frame's length, so no
       wrap-around), `E1` and `E2` from a cumulative sum of the squared
       frame. The rectangular frame keeps a periodic signal at exactly 0 at
       any lag (a tapered window biases long lags); YIN's normalisation keeps
       smooth, low-frequency noise from looking periodic at short lags; hum
       at 50 or 60 Hz has its period outside the range.
    3. **Harmonic richness**: the strongest partial (its Hann main lobe, 9
       bins) holds at most `max_partial_share` of the frame's power; a pure
       tone holds nearly all of it, also where it is cut off.
    4. **Spectral shape of a voice**: at most `max_low_share` of the power
       lies below 250 Hz (vowels have their first formant above it; hum does
       not, even with a strong second harmonic), and the envelope is not
       flat: the spectral flatness (geometric over arithmetic mean) of 8
       bands of equal width is at most `max_flatness` (clicks and white
       noise are flat; a voice has formants).
    5. **Continuity**: a candidate counts as voiced only next to another
       candidate whose period is within a factor `max_f0_jump` of its own
       (a voice's pitch moves little in 16 ms; noise that looks periodic in
       one frame does not in the next).

    Items 3 and 4 use the Hann-windowed power spectrum, exact from the same
    DFT (`X_hann[k] = X[k] / 2 - (X[k - 2] + X[k + 2]) / 4` for a frame half
    the DFT's length). The output is the number of voiced frames times the
    hop (16 ms). Zero padding after a clip does not change it. Examples that
    hold NaN or Inf give NaN. The defaults and what they give on recordings
    and on generated non-speech are in docs/using.md ("Is there a voice?").

    Args:
        sample_rate: sampling rate of the input in Hz (analysed at half).
        f0_min: lowest fundamental frequency of a voice, in Hz.
        f0_max: highest fundamental frequency of a voice, in Hz.
        max_aperiodicity: largest aperiodicity (item 2) of a voiced frame.
        max_partial_share: largest share of the power in one partial.
        max_low_share: largest share of the power below 250 Hz.
        max_flatness: largest spectral flatness of the band envelope.
        max_f0_jump: largest ratio of the periods of neighbouring voiced frames.
        max_imbalance_db: largest level difference between a frame's halves.
        range_db: frames more than this below the loudest frame are silence.
        floor_db: frames below this mean-square level (dBFS) are silence.

    Input shape:
        `[batch, samples]` (or `[samples]`) float waveforms in [-1, 1].

    Output shape:
        `[batch]`: seconds of voiced speech per clip.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import VoicedSpeech
        >>> t = np.arange(16000) / 16000
        >>> vowel = sum(np.sin(2 * np.pi * 180 * k * t) / k**1.5 for k in range(1, 20))
        >>> clips = np.stack([0.1 * vowel, 0.3 * np.sin(2 * np.pi * 440 * t)])
        >>> seconds = VoicedSpeech(sample_rate=16000)(clips.astype("float32"))
        >>> tuple(round(float(s), 2) for s in seconds)
        (1.01, 0.0)
    """

    #: Frame length and hop at the analysis rate, in seconds.
    FRAME_SECONDS = 0.032
    HOP_SECONDS = 0.016
    #: Power below this frequency counts towards `max_low_share`.
    LOW_HZ = 250.0
    #: Bands of the envelope whose flatness is measured.
    BANDS = 8
    _TAPS = 63

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        f0_min: float = 65.0,
        f0_max: float = 500.0,
        max_aperiodicity: float = 0.55,
        max_partial_share: float = 0.97,
        max_low_share: float = 0.95,
        max_flatness: float = 0.75,
        max_f0_jump: float = 1.2,
        max_imbalance_db: float = 20.0,
        range_db: float = 40.0,
        floor_db: float = -70.0,
        **kwargs: Any,
    ) -> None:
        _float32_only(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        rate = self.sample_rate / 2.0
        self.frame = 2 * round(self.FRAME_SECONDS * rate / 2)
        self.hop = self.frame // 2
        if not rate / self.frame < f0_min < f0_max <= rate / 4:
            raise ValueError(
                f"Expected {rate / self.frame:.0f} < f0_min < f0_max <= {rate / 4:.0f} Hz "
                f"at sample_rate={self.sample_rate}; received f0_min={f0_min}, f0_max={f0_max}."
            )
        for name, value in (
            ("max_partial_share", max_partial_share),
            ("max_low_share", max_low_share),
            ("max_flatness", max_flatness),
        ):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]; received {name}={value}.")
        if max_aperiodicity <= 0 or range_db <= 0 or max_f0_jump <= 1:
            raise ValueError(
                "max_aperiodicity and range_db must be positive and max_f0_jump above 1; "
                f"received max_aperiodicity={max_aperiodicity}, range_db={range_db}, "
                f"max_f0_jump={max_f0_jump}."
            )
        self.f0_min, self.f0_max = float(f0_min), float(f0_max)
        self.max_aperiodicity = float(max_aperiodicity)
        self.max_partial_share = float(max_partial_share)
        self.max_low_share = float(max_low_share)
        self.max_flatness = float(max_flatness)
        self.max_f0_jump = float(max_f0_jump)
        self.max_imbalance_db = float(max_imbalance_db)
        self.range_db, self.floor_db = float(range_db), float(floor_db)

        n_fft = 2 * self.frame
        self._lag_min = int(np.floor(rate / self.f0_max))
        self._lag_max = int(np.ceil(rate / self.f0_min))
        lags = np.arange(self._lag_max + 2)  # 0 .. lag_max + 1, for the local-minimum test
        bins = np.arange(n_fft // 2 + 1)
        # Built once; embedded as graph constants in call() (see module docs).
        lowpass = dsp.lowpass_fir(
            sample_rate=self.sample_rate, cutoff_hz=0.45 * rate, taps=self._TAPS
        )
        # Filter blocks of 32 samples, keep the even outputs: one dense convolution.
        self._decimator = dsp.polyphase_kernel(lowpass, 32)[:, :, ::2].astype("float32")
        real, imag = dsp.dft_matrices(n_fft, bins)
        self._dft = np.concatenate([real, imag], axis=1)[: self.frame].astype("float32")
        self._autocorrelation = dsp.autocorrelation_matrix(n_fft, lags).astype("float32")
        self._lags = lags.astype("int32")
        self._twice = np.where((bins == 0) | (bins == n_fft // 2), 1.0, 2.0).astype("float32")
        self._low_bins = int(np.ceil(self.LOW_HZ * n_fft / rate))
        self._bands = dsp.band_matrix(bins.size, self.BANDS).astype("float32")

    def frame_measures(self, waveforms: Any) -> dict[str, tf.Tensor]:
        """The per-frame measures behind the decision, for analysis and reports.

        Returns:
            A dict of `[batch, frames]` tensors: `level_db` (mean square,
            dBFS), `balance_db` (the quieter half re the louder),
            `aperiodicity`, `f0_hz` (from the period of item 2),
            `partial_share`, `low_share`, `flatness`, and `voiced` (bool,
            after the continuity rule).
        """
        x = check_waveforms(
            waveforms, layer_name=type(self).__name__, expected_rate=self.sample_rate
        )
        if x.shape.rank == 1:
            x = x[tf.newaxis]
        return self._measures(x)

    def _measures(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        decimated = _polyphase_filter(x, self._decimator, left=(self._TAPS - 1) // 2)
        decimated = decimated[:, : (tf.shape(x)[1] + 1) // 2]
        # Frames up to the last one that starts inside the signal, zero-padded
        # explicitly: tf2onnx counts one frame fewer for `pad_end=True`.
        length = tf.shape(decimated)[1]
        count = (length + self.hop - 1) // self.hop
        decimated = tf.pad(decimated, [[0, 0], [0, (count - 1) * self.hop + self.frame - length]])
        frames = tf.signal.frame(decimated, self.frame, self.hop)
        frames -= tf.reduce_mean(frames, axis=-1, keepdims=True)
        n_bins = self._twice.size
        spectrum = tf.matmul(frames, tf.constant(self._dft))
        real, imag = spectrum[..., :n_bins], spectrum[..., n_bins:]

        # Periodicity: normalised cross-correlation over the overlap, then YIN.
        correlation = tf.matmul(
            tf.square(real) + tf.square(imag), tf.constant(self._autocorrelation)
        )
        energy = tf.pad(tf.cumsum(tf.square(frames), axis=-1), [[0, 0], [0, 0], [1, 0]])
        total = energy[..., -1:]
        head = tf.gather(energy, self.frame - self._lags, axis=-1)
        tail = total - tf.gather(energy, self._lags, axis=-1)
        difference = tf.maximum(
            1.0 - correlation * tf.math.rsqrt(tf.maximum(head * tail, 1e-30)), 0.0
        )
        lags = tf.constant(np.arange(1, self._lags.size, dtype="float32"))
        cumulative = tf.maximum(tf.cumsum(difference[..., 1:], axis=-1), 1e-12)
        normalised = difference[..., 1:] * lags / cumulative  # lags 1 .. lag_max + 1
        low, high = self._lag_min - 1, self._lag_max - 1  # lag t sits at index t - 1
        inner = normalised[..., low : high + 1]
        minimum = tf.logical_and(
            inner <= normalised[..., low - 1 : high], inner <= normalised[..., low + 1 : high + 2]
        )
        candidates = tf.where(minimum, inner, 10.0)
        aperiodicity = tf.reduce_min(candidates, axis=-1)
        period = tf.cast(
            tf.argmin(candidates, axis=-1, output_type="int32") + self._lag_min, "float32"
        )

        # Shape: the Hann-windowed power spectrum from the same DFT.
        hann_real = _hann_from_rectangular(real, negate_mirror=False)
        hann_imag = _hann_from_rectangular(imag, negate_mirror=True)
        power = (tf.square(hann_real) + tf.square(hann_imag)) * tf.constant(self._twice)
        power_sum = tf.maximum(tf.reduce_sum(power, axis=-1), 1e-30)
        running = tf.cumsum(tf.pad(power, [[0, 0], [0, 0], [5, 4]]), axis=-1)
        partial = tf.reduce_max(running[..., 9:] - running[..., :-9], axis=-1) / power_sum
        low_share = tf.reduce_sum(power[..., : self._low_bins], axis=-1) / power_sum
        bands = tf.matmul(power, tf.constant(self._bands)) + 1e-30
        flatness = tf.exp(tf.reduce_mean(tf.math.log(bands), axis=-1)) / tf.reduce_mean(
            bands, axis=-1
        )

        level = 10.0 * _log10(tf.maximum(total[..., 0] / self.frame, 1e-20))
        first_half = energy[..., self.frame // 2]
        halves = tf.minimum(first_half, total[..., 0] - first_half) / tf.maximum(
            tf.maximum(first_half, total[..., 0] - first_half), 1e-30
        )
        balance = 10.0 * _log10(tf.maximum(halves, 1e-20))
        loudest = tf.reduce_max(level, axis=-1, keepdims=True)
        candidate = (
            (level >= self.floor_db)
            & (level >= loudest - self.range_db)
            & (balance >= -self.max_imbalance_db)
            & (aperiodicity <= self.max_aperiodicity)
            & (partial <= self.max_partial_share)
            & (low_share <= self.max_low_share)
            & (flatness <= self.max_flatness)
        )
        # Continuity: a voiced frame has a voiced neighbour with nearly the same period.
        steady = tf.abs(tf.math.log(period[..., 1:] / period[..., :-1])) <= np.log(self.max_f0_jump)
        pair = tf.cast(candidate[..., 1:] & candidate[..., :-1] & steady, "float32")
        voiced = tf.maximum(tf.pad(pair, [[0, 0], [1, 0]]), tf.pad(pair, [[0, 0], [0, 1]])) > 0.5
        return {
            "level_db": level,
            "balance_db": balance,
            "aperiodicity": aperiodicity,
            "f0_hz": (self.sample_rate / 2.0) / period,
            "partial_share": partial,
            "low_share": low_share,
            "flatness": flatness,
            "voiced": voiced,
        }

    def _transform(self, x: tf.Tensor) -> tf.Tensor:
        finite = finite_examples(x)
        x = tf.where(finite[:, None], x, 0.0)
        voiced = tf.cast(self._measures(x)["voiced"], "float32")
        seconds = tf.reduce_sum(voiced, axis=-1) * (2.0 * self.hop / self.sample_rate)
        return tf.where(finite, seconds, np.nan)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)[:-1]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            f0_min=self.f0_min,
            f0_max=self.f0_max,
            max_aperiodicity=self.max_aperiodicity,
            max_partial_share=self.max_partial_share,
            max_low_share=self.max_low_share,
            max_flatness=self.max_flatness,
            max_f0_jump=self.max_f0_jump,
            max_imbalance_db=self.max_imbalance_db,
            range_db=self.range_db,
            floor_db=self.floor_db,
        )
        return config


@keras.utils.register_keras_serializable(package=_PACKAGE)
class PropagateNonFinite(keras.layers.Layer):
    """Pass `values` through, with NaN for the examples whose `reference` holds NaN or Inf.

    ToneNet's last layers use it so that a waveform holding a NaN or an
    infinite sample gets NaN probabilities from `model.predict` (in graph
    mode, where `check_waveforms` cannot raise) instead of plausible ones:
    max pooling drops NaN (an all-NaN window gives the lowest float), so
    NaN would not reach the output on its own. Other examples of the batch
    are untouched.

    Input shape:
        A list `[reference, values]` with the same batch size; any ranks.

    Output shape:
        The shape of `values`.

    Example:
        >>> import numpy as np
        >>> from keras_tone.layers import PropagateNonFinite
        >>> waveforms = np.array([[0.1, np.nan], [0.2, 0.3]], "float32")
        >>> PropagateNonFinite()([waveforms, np.ones((2, 3), "float32")]).numpy()
        array([[nan, nan, nan],
               [ 1.,  1.,  1.]], dtype=float32)
    """

    def call(self, inputs: Any) -> tf.Tensor:
        reference, values = inputs
        values = tf.convert_to_tensor(values)
        finite = finite_examples(reference)
        finite = tf.reshape(finite, [-1] + [1] * (values.shape.rank - 1))
        return tf.where(finite, values, tf.constant(np.nan, values.dtype))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[1])


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


def _hann_from_rectangular(part: tf.Tensor, *, negate_mirror: bool) -> tf.Tensor:
    """The real or imaginary part of a Hann-windowed DFT from the rectangular one.

    For a frame of `N / 2` samples zero-padded to an `N`-point DFT, the
    periodic Hann window of the frame's length shifts by two bins:
    `X_hann[k] = X[k] / 2 - (X[k - 2] + X[k + 2]) / 4`. Bins below 0 and above
    `N / 2` are the complex conjugates of their mirror images (the imaginary
    part, `negate_mirror=True`, changes sign).
    """
    sign = -1.0 if negate_mirror else 1.0
    padded = tf.concat(
        [
            sign * part[..., 2:3],
            sign * part[..., 1:2],
            part,
            sign * part[..., -2:-1],
            sign * part[..., -3:-2],
        ],
        axis=-1,
    )
    return 0.5 * part - 0.25 * (padded[..., :-4] + padded[..., 4:])


def _log10(x: tf.Tensor) -> tf.Tensor:
    return tf.math.log(x) * (1.0 / np.log(10.0))


__all__ = [
    "HighPass",
    "LogMelSpectrogram",
    "MFCC",
    "PropagateNonFinite",
    "SyllableNormalization",
    "VoicedSpeech",
]
