"""One-hot vectors for token ids, the course's x<t> representation."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqzoo")
class OneHot(keras.layers.Layer):
    """Turns token ids `(batch, time)` into one-hot vectors `(batch, time, vocab_size)`.

    As in the course, a word or character with index k becomes the vector
    with a 1 in row k and 0 elsewhere. With `mask_zero=True`, id 0 is padding:
    its vector is all zeros and its steps are masked, as with
    `keras.layers.Embedding(mask_zero=True)`.

    Args:
        vocab_size: number of distinct ids, padding included.
        mask_zero: whether id 0 is padding.

    Example:

    >>> seqzoo.layers.OneHot(4)(np.array([[1, 3, 0]]))[0]
    [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    """

    def __init__(self, vocab_size, mask_zero=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.mask_zero = mask_zero
        self.supports_masking = True

    def call(self, inputs):
        vectors = ops.one_hot(ops.cast(inputs, "int32"), self.vocab_size, dtype=self.compute_dtype)
        if self.mask_zero:
            vectors = vectors * ops.cast(ops.expand_dims(inputs != 0, -1), self.compute_dtype)
        return vectors

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.vocab_size,)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "mask_zero": self.mask_zero}
