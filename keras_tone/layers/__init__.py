"""In-graph audio front end: waveforms in, librosa-compatible features and pitch out.

* `LogMelSpectrogram`: `librosa.power_to_db(librosa.feature.melspectrogram(...))`.
* `PowerSpectrogram`: the STFT power of a range of bins, which several of
  the spectral layers can share (`PowerSpectrogram.covering`, `from_power`).
* `MFCC`: `librosa.feature.mfcc(...)` (orthonormal DCT-II, optional liftering).
* `HighPass`: a linear-phase FIR high-pass against DC offsets and rumble.
* `SyllableNormalization`: trims leading and trailing silence, normalises
  loudness and fits each clip to a fixed duration, so a padded batch of clips
  of any length can go straight into a model.
* `clip_lengths`: each clip's length in such a batch (up to its last
  non-zero sample), so that no clip's output depends on the padding.
* `PitchSalience`, `PitchHistogram`, `RelativePitch`: pitch salience over F0
  candidates, a clip's (or a speaker's) pitch histogram, and salience
  re-centred on the speaker's median pitch.
* `VoicedSpeech`: how many seconds of each clip hold voiced speech (no
  weights; `keras_tone.predict_files` gives no tone to a clip without any).
* `PropagateNonFinite`: NaN out for the examples whose input holds NaN or
  Inf (ToneNet's last layer before its classifier).

The spectral layers compute the STFT as a matrix product with constant,
pre-windowed DFT matrices restricted to the frequency bins they use. That
keeps the graph to plain ops (framing, matmul, log), which export to TFLite
with built-in ops only and to ONNX, and it is faster than a full FFT when the
highest frequency used is well below Nyquist.

The waveform layers compute in float32, also under a mixed-precision policy
(the layers following them cast as usual): in float16 the dB values would be
off by several dB.
"""

from keras_tone.layers._base import check_waveforms, clip_lengths
from keras_tone.layers.filters import HighPass
from keras_tone.layers.nonfinite import PropagateNonFinite, finite_examples
from keras_tone.layers.pitch import PitchHistogram, PitchSalience, RelativePitch
from keras_tone.layers.spectral import MFCC, LogMelSpectrogram, PowerSpectrogram
from keras_tone.layers.syllable import SyllableNormalization
from keras_tone.layers.voicing import VoicedSpeech

__all__ = [
    "HighPass",
    "LogMelSpectrogram",
    "MFCC",
    "PitchHistogram",
    "PitchSalience",
    "PowerSpectrogram",
    "PropagateNonFinite",
    "RelativePitch",
    "SyllableNormalization",
    "VoicedSpeech",
    "check_waveforms",
    "clip_lengths",
    "finite_examples",
]
