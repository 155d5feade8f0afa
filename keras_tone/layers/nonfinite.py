"""NaN out for the examples whose input holds NaN or Inf, inside the graph.

`model.predict` runs a graph, where `keras_tone.layers.check_waveforms`
cannot look at values and raise; and max pooling drops NaN (an all-NaN
window gives the lowest float), so a NaN sample would otherwise come out as
plausible probabilities. ToneNet ends with `PropagateNonFinite` (before its
classifier, or last without it), which gives such examples NaN and leaves
the others alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from keras_tone._keras import keras
from keras_tone.layers._base import PACKAGE


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


@keras.utils.register_keras_serializable(package=PACKAGE)
class PropagateNonFinite(keras.layers.Layer):
    """Pass `values` through, with NaN for the examples whose references hold NaN or Inf.

    ToneNet's last layers use it so that a waveform holding a NaN or an
    infinite sample gets NaN probabilities from `model.predict` (in graph
    mode, where `check_waveforms` cannot raise) instead of plausible ones:
    max pooling drops NaN (an all-NaN window gives the lowest float), so
    NaN would not reach the output on its own. Its references are all of the
    model's inputs (the waveform, and the speaker context when there is
    one). Other examples of the batch are untouched.

    Input shape:
        A list `[reference, ..., values]`: one or more references and the
        values, all with the same batch size; any ranks.

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
        *references, values = inputs
        if not references:
            raise ValueError(
                "PropagateNonFinite takes [reference, ..., values]: at least one reference. "
                f"Received: {len(inputs)} input(s)"
            )
        values = tf.convert_to_tensor(values)
        finite = finite_examples(references[0])
        for reference in references[1:]:
            finite = tf.logical_and(finite, finite_examples(reference))
        finite = tf.reshape(finite, [-1] + [1] * (values.shape.rank - 1))
        return tf.where(finite, values, tf.constant(np.nan, values.dtype))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[-1])


__all__ = ["PropagateNonFinite", "finite_examples"]
