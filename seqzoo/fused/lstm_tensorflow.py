"""A standard LSTM over a whole sequence on TensorFlow, with its own backward pass.

TensorFlow differentiates `keras.layers.RNN`'s loop step by step: every step
adds its share to the kernels' gradients (two kernel-sized sums per step) and
slices its gates out of padded copies. This kernel keeps what the backward
pass needs from the forward loop (the gate derivatives, one `(batch, 4 *
units)` tensor per step), runs a backward loop that carries only dL/da<t>
and dL/dc<t>, and then gets the kernels' gradients, the bias's and the
inputs' in three large matrix products over every step at once, as cuDNN and
PyTorch do. It also splits the batch into shards whose loops run side by side
on TensorFlow's inter-op threads: a recurrence is a chain of small products
that one core runs best; two cores run two chains.

The numbers are those of `seqzoo.cells.LSTMCell` (and so of
`keras.layers.LSTM`) to float32 rounding: the same products, summed in
another order.
"""

import os

import tensorflow as tf

# Fewest batch rows worth a thread of their own: below this, the per-step
# products get too skinny to pay for a second loop.
SHARD_ROWS = 16


def lstm(
    inputs,
    initial_h,
    initial_c,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    go_backwards=False,
    zero_output_for_mask=False,
    shards=None,
):
    """Runs an LSTM (sigmoid gates, tanh activations) over `inputs`.

    Args:
        inputs: `(batch, time, features)`.
        initial_h, initial_c: the states before the first step, `(batch,
            units)`.
        kernel, recurrent_kernel, bias: the weights of
            `seqzoo.cells.LSTMCell`, gates in Keras's order i, f, c, o;
            `bias` may be `None`.
        mask: optional boolean `(batch, time)`; a masked step keeps the
            states of the step before, as in `keras.layers.RNN`.
        go_backwards: whether to read the sequence from its end.
        zero_output_for_mask: whether masked steps output zeros rather than
            the previous output.
        shards: how many parts of the batch run side by side; default: one
            per inter-op thread, of at least `SHARD_ROWS` rows each.

    Returns:
        `(outputs, h, c)`: every step's output `(batch, time, units)` (in
        the order read) and the final states.
    """
    x = tf.transpose(inputs, [1, 0, 2])
    step_mask = None
    if mask is not None:
        step_mask = tf.cast(tf.transpose(mask)[:, :, None], x.dtype)
    if go_backwards:
        x = tf.reverse(x, [0])
        step_mask = None if step_mask is None else tf.reverse(step_mask, [0])
    kernel = tf.convert_to_tensor(kernel)
    recurrent_kernel = tf.convert_to_tensor(recurrent_kernel)
    if bias is None:
        bias = tf.zeros(kernel.shape[-1:], kernel.dtype)
    else:
        bias = tf.convert_to_tensor(bias)
    shards = default_shards(inputs.shape[0]) if shards is None else shards
    if shards == 1:
        states, h, c = _lstm(
            x, step_mask, initial_h, initial_c, kernel, recurrent_kernel, bias
        )
    else:
        batch = tf.shape(x)[1]
        sizes = [batch // shards] * (shards - 1)
        sizes.append(batch - (batch // shards) * (shards - 1))
        pieces = [
            _lstm(*shard, kernel, recurrent_kernel, bias)
            for shard in zip(
                tf.split(x, sizes, axis=1),
                [None] * shards if step_mask is None else tf.split(step_mask, sizes, axis=1),
                tf.split(initial_h, sizes),
                tf.split(initial_c, sizes),
            )
        ]
        states, h, c = (tf.concat(part, axis) for part, axis in zip(zip(*pieces), (1, 0, 0)))
    if step_mask is not None:
        # A masked step outputs zeros, or the output of the step before, which
        # is a<t-1> once some step was read and zeros before (as in Keras).
        read = step_mask if zero_output_for_mask else tf.minimum(tf.cumsum(step_mask), 1)
        states = states * read
    return tf.transpose(states, [1, 0, 2]), h, c


def default_shards(batch_size):
    """One shard per inter-op thread, of at least `SHARD_ROWS` rows each."""
    threads = tf.config.threading.get_inter_op_parallelism_threads() or len(
        os.sched_getaffinity(0)
    )
    if batch_size is None:
        return threads
    return max(1, min(threads, batch_size // SHARD_ROWS))


def _lstm(x, step_mask, h0, c0, kernel, recurrent_kernel, bias):
    """The LSTM of one shard, time major; returns `(outputs, h, c)`."""

    @tf.custom_gradient
    def run(x, h0, c0, kernel, recurrent_kernel, bias):
        steps = tf.shape(x)[0]
        units = recurrent_kernel.shape[0]

        def step(t, h, c, hs, forget, output_slope, slopes):
            # The forward step of `LSTMCell`, which also keeps ∂(a<t>, c<t>)/∂z<t>:
            # dL/dc<t> += dL/da<t> * Γo (1 - tanh²c<t>) (`output_slope`) and
            # dL/dz<t> = [dc, dc, dc, da] * [c̃ σ'(zi), c<t-1> σ'(zf),
            # Γi (1 - c̃²), tanh(c<t>) σ'(zo)] (`slopes`).
            z = tf.matmul(x[t], kernel) + tf.matmul(h, recurrent_kernel) + bias
            sigmoid = tf.sigmoid(z)
            i, f, _, o = tf.split(sigmoid, 4, axis=-1)
            candidate = tf.tanh(z[:, 2 * units : 3 * units])
            new_c = f * c + i * candidate
            tanh_c = tf.tanh(new_c)
            new_h = o * tanh_c
            di, df, _, do = tf.split(sigmoid * (1 - sigmoid), 4, axis=-1)
            slope = tf.concat(
                [candidate * di, c * df, i * (1 - candidate * candidate), tanh_c * do], -1
            )
            if step_mask is not None:
                keep = step_mask[t] > 0
                new_h = tf.where(keep, new_h, h)
                new_c = tf.where(keep, new_c, c)
            return (
                t + 1,
                new_h,
                new_c,
                hs.write(t + 1, new_h),
                forget.write(t, f),
                output_slope.write(t, o * (1 - tanh_c * tanh_c)),
                slopes.write(t, slope),
            )

        def steps_array(element_shape, size=steps):
            return tf.TensorArray(x.dtype, size=size, element_shape=element_shape)

        _, h, c, hs, forget, output_slope, slopes = tf.while_loop(
            lambda t, *_: t < steps,
            step,
            (
                0,
                h0,
                c0,
                steps_array(h0.shape, steps + 1).write(0, h0),
                steps_array(h0.shape),
                steps_array(h0.shape),
                steps_array(h0.shape[:-1].concatenate([4 * units])),
            ),
        )
        hs, forget, output_slope, slopes = (
            array.stack() for array in (hs, forget, output_slope, slopes)
        )

        def grad(d_outputs, d_h, d_c):
            d_outputs = tf.zeros_like(hs[1:]) if d_outputs is None else d_outputs
            d_h = tf.zeros_like(h) if d_h is None else d_h
            d_c = tf.zeros_like(c) if d_c is None else d_c
            recurrent_kernel_t = tf.transpose(recurrent_kernel)

            def back_step(t, d_h, d_c, d_z):
                d_h = d_h + d_outputs[t]
                if step_mask is None:
                    d_c = d_c + d_h * output_slope[t]
                    d_z_t = tf.concat([d_c, d_c, d_c, d_h], -1) * slopes[t]
                    return (
                        t - 1,
                        tf.matmul(d_z_t, recurrent_kernel_t),
                        d_c * forget[t],
                        d_z.write(t, d_z_t),
                    )
                # A masked step passes dL/d(a, c) on to the step before untouched.
                keep = step_mask[t]
                d_new_c = keep * (d_c + d_h * output_slope[t])
                d_z_t = tf.concat([d_new_c, d_new_c, d_new_c, keep * d_h], -1) * slopes[t]
                return (
                    t - 1,
                    tf.matmul(d_z_t, recurrent_kernel_t) + (1 - keep) * d_h,
                    d_new_c * forget[t] + (1 - keep) * d_c,
                    d_z.write(t, d_z_t),
                )

            _, d_h0, d_c0, d_z = tf.while_loop(
                lambda t, *_: t >= 0,
                back_step,
                (steps - 1, d_h, d_c, steps_array(slopes.shape[1:])),
            )
            d_z = d_z.stack()
            flat_d_z = tf.reshape(d_z, (-1, d_z.shape[-1]))
            d_kernel = tf.matmul(
                tf.reshape(x, (-1, x.shape[-1])), flat_d_z, transpose_a=True
            )
            d_recurrent_kernel = tf.matmul(
                tf.reshape(hs[:-1], (-1, units)), flat_d_z, transpose_a=True
            )
            # A column sum as a product: TensorFlow's reduce_sum over rows is 4x slower.
            d_bias = tf.linalg.matvec(
                flat_d_z, tf.ones_like(flat_d_z[:, 0]), transpose_a=True
            )
            d_x = tf.reshape(tf.matmul(flat_d_z, tf.transpose(kernel)), tf.shape(x))
            return d_x, d_h0, d_c0, d_kernel, d_recurrent_kernel, d_bias

        return (hs[1:], h, c), grad

    return run(x, h0, c0, kernel, recurrent_kernel, bias)
