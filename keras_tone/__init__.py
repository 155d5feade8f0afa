"""keras_tone: Mandarin lexical tone recognition from raw waveforms.

Importing it registers its layers with Keras, so `keras.models.load_model`
reads `.keras` files of ToneNet models.

Example:
    >>> import keras_tone
    >>> model = keras_tone.ToneNet(weights=None)
"""

from keras_tone._keras import check_same_keras
from keras_tone._version import __version__ as __version__
from keras_tone.audio import load_audio, prepare_batch
from keras_tone.config import ToneNetConfig
from keras_tone.context import speaker_context
from keras_tone.export import export
from keras_tone.inference import FileResult, predict_files
from keras_tone.labels import decode_predictions
from keras_tone.presets import list_presets, preset_descriptions
from keras_tone.scoring import score
from keras_tone.tonenet import ToneNet, load_model

__all__ = [
    "FileResult",
    "ToneNet",
    "ToneNetConfig",
    "check_same_keras",
    "decode_predictions",
    "export",
    "list_presets",
    "load_audio",
    "load_model",
    "predict_files",
    "preset_descriptions",
    "prepare_batch",
    "score",
    "speaker_context",
]
