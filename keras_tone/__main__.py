"""`python -m keras_tone ...`: the same as the `keras-tone` command."""

import sys

from keras_tone.cli import main

if __name__ == "__main__":
    sys.exit(main())
