"""`python -m keras_tone ...`: the same as the `keras-tone` command.

It imports keras_tone (and TensorFlow) before parsing; the `keras-tone`
script (`python -m keras_tone_cli`) starts faster and keeps TensorFlow's
start-up logging off stderr.
"""

import sys

from keras_tone_cli import main

if __name__ == "__main__":
    sys.exit(main())
