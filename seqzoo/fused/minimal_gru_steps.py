"""The minimal GRU's steps (no reset gate, the course's simplified GRU) for the fused kernels, in `keras.ops`.

With z<t> = x<t> Wx + a<t-1> Wa + bx + ba split into the z, h parts
(Keras's z is the course's 1 - Γu):

    z = σ(z_z),   c̃ = tanh(z_h),   a<t> = z a<t-1> + (1 - z) c̃
    dL/dz<t> = [da, da] * [(a<t-1> - c̃) σ'(z), (1 - z)(1 - c̃²)]       ("slope")
    dL/da<t-1> = dL/da<t> z + dL/dz<t> Waᵀ

A masked step (`keep` = 0) keeps a<t-1> and passes its gradient on untouched;
a recurrent dropout mask (`drop`) multiplies a<t-1> before Wa.

Weights: `(kernel, recurrent_kernel, input_bias, recurrent_bias)`, as the
GRU's (`gru_steps`); both biases get the same gradient.
"""

from keras import ops

from seqzoo.fused import sequence

KEPT = 2  # update, slope: what a step keeps for the backward pass
SLOPE = 1  # the kept tensor shaped like dL/dz<t> that only its own backward step reads


def forward_step(x, states, weights, keep=None, drop=None):
    """One step; returns `((a<t>,), (update, slope))`."""
    kernel, recurrent_kernel, input_bias, recurrent_bias = weights
    (h,) = states
    z = ops.matmul(x, kernel) + ops.matmul(sequence.dropped(h, drop), recurrent_kernel)
    z_z, z_h = ops.split(z + (input_bias + recurrent_bias), 2, axis=-1)
    update = ops.sigmoid(z_z)
    candidate = ops.tanh(z_h)
    new_h = candidate + update * (h - candidate)
    slope = ops.concatenate(
        [
            (h - candidate) * update * (1 - update),
            (1 - update) * (1 - candidate * candidate),
        ],
        axis=-1,
    )
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
    return (new_h,), (update, slope)


def backward_weights(weights):
    """What every backward step reads: `(Waᵀ,)`."""
    return (ops.transpose(weights[1]),)


def backward_step(d_states, kept, constants, keep=None, drop=None):
    """One step back from dL/da<t> (the output's share included).

    Returns `((dL/da<t-1>,), dL/dz<t>)`.
    """
    (d_h,) = d_states
    update, slope = kept
    (recurrent_kernel_t,) = constants
    d_new_h = d_h if keep is None else keep * d_h
    d_z = ops.concatenate([d_new_h, d_new_h], axis=-1) * slope
    d_before = sequence.dropped(ops.matmul(d_z, recurrent_kernel_t), drop) + d_new_h * update
    if keep is not None:
        d_before = d_before + (1 - keep) * d_h
    return (d_before,), d_z


def gradients(x, h_before, kept, d_z, weights, drop=None):
    """`(dL/dx, *dL/d(weights))` from every step's dL/dz<t>."""
    d_x, d_kernel, d_recurrent_kernel, d_bias = sequence.weight_gradients(x, h_before, d_z, weights[0], drop)
    return d_x, d_kernel, d_recurrent_kernel, d_bias, d_bias
