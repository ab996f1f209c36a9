"""Batches of a few fixed shapes: lengths padded to their bucket's boundary, rows to the batch size.

A compiled training step (XLA on JAX, a `tf.function` on TensorFlow) is
made once per input shape. Batches padded to their own longest sequence have
a new shape almost every step; here a batch's length is its bucket's boundary
(8, 16, 32, ...: the next power of two, at least `MIN_BOUNDARY`), so a split
has at most one length per bucket. Padded steps are 0, which the models mask,
so they count for nothing in the loss and the metrics.
"""

import tensorflow as tf

MIN_BOUNDARY = 8
MIN_EXPONENT = MIN_BOUNDARY.bit_length() - 1
POWERS = [2**exponent for exponent in range(MIN_EXPONENT, 48)]


def bucketed_batches(examples, sequence_length, batch_size, fill_rows=False):
    """Batches of examples of similar length, each padded with 0 to its bucket's boundary.

    Args:
        examples: a dataset of `(x, y)` pairs, unbatched; `x` may be a dict.
        sequence_length: `(x, y) -> length` that picks the bucket.
        batch_size: examples per batch.
        fill_rows: whether a bucket's last, partial batch is filled with
            all-zero rows of weight 0 up to `batch_size`, so every batch of a
            bucket has one shape even when a shuffle changes how many
            examples are left over in each epoch.

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)` batches, one weight
        per target: 0 for a filler row; 1 for a row's label; for a sequence
        target, the batch's padded length on each step (its padded steps are
        masked). Keras averages a batch's weighted steps per row and then
        rows across batches, so a weight of 1 would count each step of a
        batch as 1 / its length; the length makes an epoch's metric the mean
        over its real steps, whatever the padding.
    """

    def bucket(x, y):  # k for the boundary 2**k: the number of powers of two below the length, from MIN_BOUNDARY.
        length = tf.cast(sequence_length(x, y), tf.int64)
        return MIN_EXPONENT + tf.reduce_sum(tf.cast(length > POWERS, tf.int64))

    def batch(key, window):
        boundary = tf.bitwise.left_shift(tf.constant(1, tf.int64), key)
        shapes = tf.nest.map_structure(
            lambda spec: (
                tf.stack([boundary if size is None else tf.constant(size, tf.int64) for size in spec.shape])
                if spec.shape.rank
                else tf.constant([], tf.int64)
            ),
            examples.element_spec,
        )
        return window.padded_batch(batch_size, padded_shapes=shapes)

    batches = examples.group_by_window(bucket, batch, window_size=batch_size)
    return batches.map(lambda x, y: _weighted(x, y, batch_size if fill_rows else None))


def _weighted(x, y, rows):
    """`(x, y, weights)`, with all-zero rows of weight 0 after the examples up to `rows` rows if given."""
    target = tf.nest.flatten(y)[0]
    examples = tf.shape(target)[0]
    weights = tf.ones([examples])
    if rows is not None:

        def pad(value):
            padding = tf.concat([[[0, rows - examples]], tf.zeros([tf.rank(value) - 1, 2], tf.int32)], 0)
            return tf.pad(value, padding)

        x, y = tf.nest.map_structure(pad, x), tf.nest.map_structure(pad, y)
        target = tf.nest.flatten(y)[0]
        weights = tf.concat([weights, tf.zeros([rows - examples])], 0)
    length = tf.cast(tf.reduce_prod(tf.shape(target)[1:]), tf.float32)  # 1 for a label per row.
    weights = tf.reshape(weights * length, tf.concat([[-1], tf.ones([tf.rank(target) - 1], tf.int32)], 0))
    return x, y, weights * tf.ones(tf.shape(target))
