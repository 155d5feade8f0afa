"""keras_tone: Mandarin lexical tone recognition from raw waveforms.

Example:
    >>> import keras_tone
    >>> model = keras_tone.ToneNet(weights=None)
"""

__version__ = "0.1.0"

from keras_tone._keras import check_same_keras
from keras_tone.audio import load_audio, prepare_batch
from keras_tone.export import export
from keras_tone.files import FileResult, predict_files
from keras_tone.labels import decode_predictions
from keras_tone.tonenet import ToneNet
from keras_tone.weights import list_presets

__all__ = [
    "FileResult",
    "ToneNet",
    "check_same_keras",
    "decode_predictions",
    "export",
    "list_presets",
    "load_audio",
    "predict_files",
    "prepare_batch",
]
