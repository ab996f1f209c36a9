"""The fused LSTM kernel on TensorFlow: batch shards side by side, one backward loop.

TensorFlow differentiates `keras.layers.RNN`'s loop step by step: every step
adds its share to the kernels' gradients (two kernel-sized sums per step).
This kernel keeps ∂(a<t>, c<t>)/∂z<t> from the forward loop, runs a backward
loop that carries only dL/da<t> and dL/dc<t>, then gets the weights' and the
inputs' gradients in a few large products over every step at once, as cuDNN
and PyTorch do (`seqzoo.fused.lstm_math`). It also splits the batch into
shards whose loops run side by side on TensorFlow's inter-op threads: a
recurrence is a chain of small products that one core runs best; two cores
run two chains.
"""

import os

import tensorflow as tf

from seqzoo.fused import lstm_math

# Fewest batch rows worth a thread of their own: below this, the per-step
# products get too skinny to pay for a second loop.
SHARD_ROWS = 16


def lstm(x, step_mask, h0, c0, kernel, recurrent_kernel, bias, shards=None):
    """Every step's a<t> `(time, batch, units)` and the final a, c (time major).

    `step_mask` is `None` or `(time, batch, 1)` of 0/1; `shards` defaults to
    one per inter-op thread, of at least `SHARD_ROWS` rows each.
    """
    # Values, not variables: the gradient goes to them through the reads.
    kernel, recurrent_kernel, bias = (
        tf.convert_to_tensor(w) for w in (kernel, recurrent_kernel, bias)
    )
    shards = default_shards(x.shape[1]) if shards is None else shards
    if shards == 1:
        return _lstm(x, step_mask, h0, c0, kernel, recurrent_kernel, bias)
    batch = tf.shape(x)[1]
    sizes = [batch // shards] * (shards - 1)
    sizes.append(batch - (batch // shards) * (shards - 1))
    masks = [None] * shards if step_mask is None else tf.split(step_mask, sizes, axis=1)
    pieces = [
        _lstm(x_part, mask_part, h_part, c_part, kernel, recurrent_kernel, bias)
        for x_part, mask_part, h_part, c_part in zip(
            tf.split(x, sizes, axis=1), masks, tf.split(h0, sizes), tf.split(c0, sizes)
        )
    ]
    states, h, c = zip(*pieces)
    return tf.concat(states, 1), tf.concat(h, 0), tf.concat(c, 0)


def default_shards(batch_size):
    """One shard per inter-op thread, of at least `SHARD_ROWS` rows each."""
    threads = tf.config.threading.get_inter_op_parallelism_threads() or len(
        os.sched_getaffinity(0)
    )
    if batch_size is None:
        return threads
    return max(1, min(threads, batch_size // SHARD_ROWS))


def _lstm(x, step_mask, h0, c0, kernel, recurrent_kernel, bias):
    """The LSTM of one shard, with its own gradient."""

    def keep(t):
        return None if step_mask is None else step_mask[t]

    @tf.custom_gradient
    def run(x, h0, c0, kernel, recurrent_kernel, bias):
        steps = tf.shape(x)[0]

        def array(size, element_shape):
            return tf.TensorArray(x.dtype, size=size, element_shape=element_shape)

        def step(t, h, c, hs, forget, output_slope, slope):
            h, c, *kept = lstm_math.forward_step(
                x[t], h, c, kernel, recurrent_kernel, bias, keep(t)
            )
            arrays = [hs.write(t + 1, h)]
            arrays += [a.write(t, value) for a, value in zip((forget, output_slope, slope), kept)]
            return (t + 1, h, c, *arrays)

        _, h, c, *arrays = tf.while_loop(
            lambda t, *_: t < steps,
            step,
            (
                0,
                h0,
                c0,
                array(steps + 1, h0.shape).write(0, h0),
                array(steps, h0.shape),
                array(steps, h0.shape),
                array(steps, h0.shape[:-1].concatenate([kernel.shape[-1]])),
            ),
        )
        hs, forget, output_slope, slope = (a.stack() for a in arrays)

        def grad(d_outputs, d_h, d_c):
            d_outputs = tf.zeros_like(hs[1:]) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h) if d_h is None else d_h
            d_c = tf.zeros_like(c) if d_c is None else d_c
            recurrent_kernel_t = tf.transpose(recurrent_kernel)

            def back_step(t, d_h, d_c, d_z):
                d_h, d_c, d_z_t = lstm_math.backward_step(
                    d_h + d_outputs[t],
                    d_c,
                    forget[t],
                    output_slope[t],
                    slope[t],
                    recurrent_kernel_t,
                    keep(t),
                )
                return t - 1, d_h, d_c, d_z.write(t, d_z_t)

            _, d_h0, d_c0, d_z = tf.while_loop(
                lambda t, *_: t >= 0,
                back_step,
                (steps - 1, d_h, d_c, array(steps, slope.shape[1:])),
            )
            d_x, d_kernel, d_recurrent_kernel, d_bias = lstm_math.weight_gradients(
                x, hs[:-1], d_z.stack(), kernel
            )
            return d_x, d_h0, d_c0, d_kernel, d_recurrent_kernel, d_bias

        return (hs[1:], h, c), grad

    return run(x, h0, c0, kernel, recurrent_kernel, bias)
