"""The training order of each epoch, from the seed and the epoch's number alone.

`tf.data`'s `shuffle(reshuffle_each_iteration=True)` draws each pass's order
from a generator that lives in the dataset object, and mixes TensorFlow's
global seed into its seeds: a resumed run (a new process, a new dataset)
would see epoch 0's order again at epoch k, and whatever moved the global
seed moved the order. Here each pass shuffles with the seed pair
`(seed, epoch)`, so a run resumed at epoch k sees exactly the order that the
uninterrupted run saw there, whatever ran before in the process.
"""

import tensorflow as tf

BUFFER = 4096  # The shuffle buffer: examples drawn from at each step.
_MAX_GRAPH_SEED = 2**31 - 2  # TensorFlow takes seeds modulo 2**31 - 1, and (0, 0) means "unseeded".


def shuffle_each_epoch(data, seed, first_epoch=0, buffer_size=BUFFER):
    """`data` in a new order on every pass; the order of epoch k depends only on `seed` and k.

    Each pass over the result is the next epoch, starting at `first_epoch`:
    a counter in the pipeline moves when a pass asks for its first example.

    Args:
        data: an unbatched `tf.data.Dataset` (read once per epoch: cache it).
        seed: an integer >= 0.
        first_epoch: the number of the epoch the first pass is (a resumed
            run's `initial_epoch`).
        buffer_size: the shuffle buffer's size.

    Returns:
        A `tf.data.Dataset` with `data`'s elements.

    Example:

    >>> epochs = shuffle_each_epoch(tf.data.Dataset.range(5), seed=0, first_epoch=2)
    >>> [int(x) for x in epochs], [int(x) for x in epochs]  # Epochs 2 and 3.
    ([4, 0, 2, 1, 3], [2, 3, 4, 1, 0])
    """
    with tf.device("/cpu:0"):  # tf.data runs on the CPU, and reads the counter there.
        epoch = tf.Variable(first_epoch, dtype=tf.int64, trainable=False)

    def one_epoch(number):
        # Traced as a graph: this sets that graph's seed, not the process's (the pair is (seed, epoch)).
        tf.random.set_seed(seed % _MAX_GRAPH_SEED + 1)
        return data.shuffle(buffer_size, seed=number, reshuffle_each_iteration=False)

    epochs = tf.data.Dataset.from_tensors(0).map(lambda _: epoch.assign_add(1) - 1).flat_map(one_epoch)
    return epochs.with_options(data.options())  # A new pipeline's own options are the defaults: keep `data`'s.
