"""The fused kernels' loops on TensorFlow: batch shards side by side, one backward loop.

TensorFlow differentiates `keras.layers.RNN`'s loop step by step: every step
adds its share to the kernels' gradients (two kernel-sized sums per step).
Here the forward loop keeps what the cell's backward step needs, a backward
loop carries only dL/d(states), and the weights' and the inputs' gradients
come from a few large products over every step at once, as cuDNN and PyTorch
do. The batch is split into shards whose loops run side by side on
TensorFlow's inter-op threads: a recurrence is a chain of small products
that one core runs best; two cores run two chains.

`linear_recurrence` is the minimal cells' loop on a CPU (`seqzoo.fused.scan`):
h<t> = a<t> h<t-1> + b<t> over chunks of `UNROLL` steps, and the same back.
"""

import os

import tensorflow as tf

from seqzoo import _compat
from seqzoo.fused import linear_steps

# Steps per iteration of the minimal cells' loop (`linear_recurrence`): on a 2-core CPU, 8 took 0.87x the time
# of 1 for a minGRU's training step (T=1024, batch 16, 256 units), 32 no less.
UNROLL = 8
# Fewest batch rows worth a thread of their own: below this, the per-step
# products get too skinny to pay for a second loop.
SHARD_ROWS = 16


def run(steps, x, step_mask, states, weights, drop=None, shards=None):
    """Every step's a<t> `(time, batch, units)` and the final states (time major).

    Args:
        steps: the cell's step module (`seqzoo.fused.lstm_steps`, ...).
        x: `(time, batch, features)`.
        step_mask: `None` or `(time, batch, 1)` of 0/1.
        states: the initial states, a sequence (a<0> first).
        weights: the cell's weights, as its step module takes them (the
            input kernel first).
        drop: `None` or the recurrent dropout mask, `(batch, units)`.
        shards: how many parts of the batch run side by side; default: one
            per inter-op thread, of at least `SHARD_ROWS` rows each.
    """
    # Values, not variables: the gradient goes to them through the reads.
    weights = tuple(tf.convert_to_tensor(w) for w in weights)
    shards = default_shards(x.shape[1]) if shards is None else shards
    if shards == 1:
        return _run_shard(steps, x, step_mask, tuple(states), weights, drop)
    batch = tf.shape(x)[1]
    sizes = [batch // shards] * (shards - 1)
    sizes.append(batch - (batch // shards) * (shards - 1))

    def split(tensor, axis=0):
        return [None] * shards if tensor is None else tf.split(tensor, sizes, axis=axis)

    state_shards = zip(*(tf.split(state, sizes) for state in states))
    pieces = [
        _run_shard(steps, x_part, mask_part, states_part, weights, drop_part)
        for x_part, mask_part, states_part, drop_part in zip(
            split(x, 1), split(step_mask, 1), state_shards, split(drop)
        )
    ]
    outputs, final_states = zip(*pieces)
    return tf.concat(outputs, 1), tuple(tf.concat(parts, 0) for parts in zip(*final_states))


def default_shards(batch_size):
    """One shard per inter-op thread, of at least `SHARD_ROWS` rows each.

    With the batch size unknown when the step is traced (`None`), one shard
    per thread.
    """
    threads = tf.config.threading.get_inter_op_parallelism_threads() or len(os.sched_getaffinity(0))
    if batch_size is None:
        return threads
    return max(1, min(threads, batch_size // SHARD_ROWS))


def _run_shard(steps, x, step_mask, states, weights, drop):
    """The loop over one shard, with its own gradient."""

    def keep(t):
        return None if step_mask is None else step_mask[t]

    count = len(weights)

    @_compat.graph_owned_custom_gradient
    def run(x, *weights_and_states):
        weights, states = weights_and_states[:count], weights_and_states[count:]
        length = tf.shape(x)[0]
        state_shape = states[0].shape

        def array(size, element_shape=None):
            return tf.TensorArray(x.dtype, size=size, element_shape=element_shape)

        def step(t, states, outputs, kept):
            states, kept_t = steps.forward_step(x[t], states, weights, keep(t), drop)
            kept = tuple(a.write(t, value) for a, value in zip(kept, kept_t))
            return t + 1, states, outputs.write(t + 1, states[0]), kept

        _, final_states, outputs, kept = tf.while_loop(
            lambda t, *_: t < length,
            step,
            (
                0,
                states,
                array(length + 1, state_shape).write(0, states[0]),
                tuple(array(length) for _ in range(steps.KEPT)),
            ),
        )
        outputs = outputs.stack()  # a<0>, ..., a<T>
        kept = tuple(a.stack() for a in kept)

        def grad(d_outputs, *d_final_states):
            d_outputs = tf.zeros_like(outputs[1:]) if d_outputs is None else d_outputs
            d_states = tuple(tf.zeros_like(s) if d is None else d for s, d in zip(final_states, d_final_states))
            constants = steps.backward_weights(weights)

            def back_step(t, d_states, d_z):
                d_states = (d_states[0] + d_outputs[t],) + d_states[1:]
                d_states, d_z_t = steps.backward_step(d_states, tuple(k[t] for k in kept), constants, keep(t), drop)
                return t - 1, d_states, d_z.write(t, d_z_t)

            _, d_initial_states, d_z = tf.while_loop(
                lambda t, *_: t >= 0,
                back_step,
                (
                    length - 1,
                    d_states,
                    array(length, state_shape[:-1].concatenate(weights[0].shape[-1:])),
                ),
            )
            gradients = steps.gradients(x, outputs[:-1], kept, d_z.stack(), weights, drop)
            return (*gradients, *d_initial_states)

        return (outputs[1:], *final_states), grad

    outputs, *final_states = run(x, *weights, *states)
    return outputs, tuple(final_states)


def linear_recurrence(a, b, h0):
    """h<t> = a<t> h<t-1> + b<t> of every step by one `tf.scan`, and its gradient by one back (time major).

    Raises:
        NotImplementedError: where TensorFlow sees a GPU or TPU, where the
            associative scan pays.
    """
    accelerators = tf.config.list_logical_devices("GPU") + tf.config.list_logical_devices("TPU")
    if accelerators:
        raise NotImplementedError(f"the sequential loop is for a CPU, and TensorFlow sees {accelerators[0].name}")
    # Values, not variables (a stateful layer's h<0>): the gradient goes to them through the reads.
    return _linear_recurrence(*(tf.convert_to_tensor(x) for x in (a, b, h0)))


def _recurrence(a, b, h0, reverse=False):
    """The loop over chunks of `UNROLL` steps, each chunk's steps unrolled: fewer, longer iterations."""
    length = tf.shape(a)[0]
    missing = -length % UNROLL
    # Steps that change nothing (a = 1, b = 0) fill the chunk read last.
    padding = [[missing, 0] if reverse else [0, missing], [0, 0], [0, 0]]
    shape = tf.shape(a)
    chunks = [
        tf.reshape(tf.pad(c, padding, constant_values=fill), tf.concat([[-1, UNROLL], shape[1:]], 0))
        for c, fill in ((a, 1), (b, 0))
    ]
    order = range(UNROLL - 1, -1, -1) if reverse else range(UNROLL)

    def chunk(before, coefficients):
        a, b = coefficients
        h = before[0] if reverse else before[-1]
        states = [None] * UNROLL
        for t in order:
            h = states[t] = a[t] * h + b[t]
        return tf.stack(states)

    h = tf.scan(chunk, chunks, tf.stack([h0] * UNROLL), reverse=reverse)
    h = tf.reshape(h, tf.concat([[-1], shape[1:]], 0))
    return h[missing:] if reverse else h[:length]


@_compat.graph_owned_custom_gradient
def _linear_recurrence(a, b, h0):
    h = _recurrence(a, b, h0)

    def grad(d_h):
        return linear_steps.gradients(_recurrence, a, h, h0, d_h)

    return h, grad
