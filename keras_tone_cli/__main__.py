"""`python -m keras_tone_cli ...`: the `keras-tone` command."""

import sys

from keras_tone_cli import main

if __name__ == "__main__":
    sys.exit(main())
