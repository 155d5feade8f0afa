"""The version of keras_tone: one line, read by the package and by `keras-tone --version`."""

__version__ = "0.2.0"
