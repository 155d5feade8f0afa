"""The one place in keras_tone that imports Keras.

Every other module does ``from keras_tone._keras import keras``. This is the
package's import policy: models, layers, losses and optimizers all come from
the Keras that ``tensorflow.keras`` resolves to, so they can never come from two
different Keras installs (the classic ``ValueError: Could not interpret
optimizer identifier`` failure when a ``tf.keras`` model meets a ``keras`` or
``tf_keras`` optimizer). Ruff's banned-api rule and ``tests/test_import_policy.py``
enforce it.

keras_tone needs Keras 3. With ``TF_USE_LEGACY_KERAS=1`` TensorFlow hands out
``tf_keras`` (Keras 2) instead; importing keras_tone then fails at once with an
``ImportError`` that says so, rather than half-working.
"""

from __future__ import annotations

import os
import sys

_LEGACY_HINT = (
    "keras_tone needs Keras 3 through `tensorflow.keras`, but "
    "TF_USE_LEGACY_KERAS={value!r} makes TensorFlow use the legacy Keras 2 "
    "(`tf_keras`). Unset it (`unset TF_USE_LEGACY_KERAS`, or "
    "`os.environ.pop('TF_USE_LEGACY_KERAS')` before importing TensorFlow) "
    "and start a new Python process."
)


def _legacy_keras_requested() -> bool:
    value = os.environ.get("TF_USE_LEGACY_KERAS", "")
    return value.strip().lower() in ("1", "true", "yes")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with stderr's file descriptor on /dev/null.

    While its libraries load, TensorFlow writes lines to stderr before its
    logging reads `TF_CPP_MIN_LOG_LEVEL` (oneDNN notes, "Could not find cuda
    drivers", CPU features), and on a machine without a GPU an error line
    when it first looks for one ("failed call to cuInit"). `import
    keras_tone` prints none of them: this runs once, before TensorFlow is
    imported, and does nothing when TensorFlow is already imported or when
    `TF_CPP_MIN_LOG_LEVEL` is 0 (set it to 0 to see the lines). No setting
    is changed: TensorFlow's later messages are shown as the user's settings
    say.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0":
        return
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to protect
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if _legacy_keras_requested():
    raise ImportError(_LEGACY_HINT.format(value=os.environ["TF_USE_LEGACY_KERAS"]))

try:
    _import_tensorflow_quietly()
    from tensorflow import keras
except (ImportError, RecursionError) as error:  # pragma: no cover - broken install
    raise ImportError(
        f"`from tensorflow import keras` failed ({error}). keras_tone needs "
        "TensorFlow >= 2.16 with Keras 3: `pip install -U tensorflow keras`."
    ) from error

if not keras.__version__.startswith("3."):  # pragma: no cover - guarded above
    raise ImportError(
        f"tensorflow.keras is Keras {keras.__version__}; keras_tone needs Keras 3. "
        "Install TensorFlow >= 2.16 and unset TF_USE_LEGACY_KERAS."
    )

_KINDS = {
    "optimizer": lambda: keras.optimizers.Optimizer,
    "layer": lambda: keras.layers.Layer,
    "loss": lambda: keras.losses.Loss,
    "model": lambda: keras.Model,
    "callback": lambda: keras.callbacks.Callback,
    "metric": lambda: keras.metrics.Metric,
}


def check_same_keras(obj: object, kind: str) -> None:
    """Raise `TypeError` unless `obj` comes from the same Keras as keras_tone.

    keras_tone builds its models with the Keras that `tensorflow.keras`
    resolves to (Keras 3). An optimizer, layer, loss, callback, metric or
    model from another install (standalone Keras 2, `tf_keras`) fails deep
    inside `compile()` or `fit()`; this check fails at the door instead, and
    names both modules.

    Strings (`"adam"`, `"sparse_categorical_crossentropy"`) and plain
    callables that are not Keras objects are accepted: Keras resolves them
    itself.

    Args:
        obj: the object a user handed to keras_tone.
        kind: one of `"optimizer"`, `"layer"`, `"loss"`, `"model"`,
            `"callback"`, `"metric"`.

    Raises:
        TypeError: `obj` is a Keras object of that kind from another Keras.
        ValueError: `kind` is not one of the kinds above.

    Example:
        >>> from keras_tone import check_same_keras
        >>> from keras_tone._keras import keras
        >>> check_same_keras(keras.optimizers.Adam(), "optimizer")
        >>> check_same_keras("adam", "optimizer")
    """
    if kind not in _KINDS:
        raise ValueError(f"Unknown kind {kind!r}; expected one of {sorted(_KINDS)}.")
    if isinstance(obj, str):
        return
    expected = _KINDS[kind]()
    if isinstance(obj, expected):
        return
    module = type(obj).__module__
    root = module.split(".")[0]
    looks_like_keras = "keras" in module or root == "tensorflow"
    if not looks_like_keras and kind in ("loss", "metric") and callable(obj):
        return  # a plain function such as a custom loss
    raise TypeError(
        f"This {kind} is a {type(obj).__module__}.{type(obj).__qualname__}, "
        f"which is not a subclass of {expected.__module__}.{expected.__qualname__}: "
        f"it does not come from the Keras that keras_tone uses (Keras "
        f"{keras.__version__} through `tensorflow.keras`). Mixing Keras "
        'installs fails with errors such as "Could not interpret optimizer '
        'identifier". Build it with `from keras_tone._keras import keras` '
        "(or `from tensorflow import keras`), e.g. "
        f"`keras.{_example(kind)}`, instead of importing it from "
        f"`{root}`."
    )


def _example(kind: str) -> str:
    return {
        "optimizer": "optimizers.Adam(1e-3)",
        "layer": "layers.Dense(4)",
        "loss": "losses.SparseCategoricalCrossentropy()",
        "model": "Model(inputs, outputs)",
        "callback": "callbacks.EarlyStopping()",
        "metric": "metrics.SparseCategoricalAccuracy()",
    }[kind]


__all__ = ["keras", "check_same_keras"]
