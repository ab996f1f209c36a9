"""The GRU's steps (`reset_after=True`, Keras's and cuDNN's form) for the fused kernels, in `keras.ops`.

In Keras's notation (z is the course's 1 - Γu), with zx<t> = x<t> Wx + bx and
zh<t> = a<t-1> Wa + ba split into the z, r, h parts:

    z = σ(zx_z + zh_z),   r = σ(zx_r + zh_r),   c̃ = tanh(zx_h + r * zh_h)
    a<t> = z a<t-1> + (1 - z) c̃

The forward step keeps ∂a<t>/∂zx<t> ("slope") and the reset gate r, which
scales the candidate's share of the recurrent part:

    dL/dzx<t> = [da, da, da] * [(a<t-1> - c̃) σ'(z), (1 - z)(1 - c̃²) zh_h σ'(r),
                                (1 - z)(1 - c̃²)]
    dL/dzh<t> = dL/dzx<t> * [1, 1, r]
    dL/da<t-1> = dL/da<t> z + dL/dzh<t> Waᵀ

A masked step (`keep` = 0) keeps a<t-1> and passes its gradient on untouched;
a recurrent dropout mask (`drop`) multiplies a<t-1> before Wa.

Weights: `(kernel, recurrent_kernel, input_bias, recurrent_bias)`.
"""

from keras import ops

from seqzoo.fused import sequence

KEPT = 3  # update, slope, reset: what a step keeps for the backward pass
SLOPE = None  # no writing over the slope: XLA would copy the whole buffer every step back


def forward_step(x, states, weights, keep=None, drop=None):
    """One step; returns `((a<t>,), (update, slope, reset))`."""
    kernel, recurrent_kernel, input_bias, recurrent_bias = weights
    (h,) = states
    units = recurrent_kernel.shape[0]
    x_gates, x_h = ops.split(ops.matmul(x, kernel) + input_bias, [2 * units], axis=-1)
    recurrent = ops.matmul(sequence.dropped(h, drop), recurrent_kernel) + recurrent_bias
    h_gates, h_h = ops.split(recurrent, [2 * units], axis=-1)
    z, r = ops.split(ops.sigmoid(x_gates + h_gates), 2, axis=-1)
    candidate = ops.tanh(x_h + r * h_h)
    new_h = candidate + z * (h - candidate)
    candidate_slope = (1 - z) * (1 - candidate * candidate)
    slope = ops.concatenate(
        [
            (h - candidate) * z * (1 - z),
            candidate_slope * h_h * r * (1 - r),
            candidate_slope,
        ],
        axis=-1,
    )
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
    return (new_h,), (z, slope, r)


def backward_weights(weights):
    """What every backward step reads: `(Waᵀ,)`."""
    return (ops.transpose(weights[1]),)


def backward_step(d_states, kept, constants, keep=None, drop=None):
    """One step back from dL/da<t> (the output's share included).

    Returns `((dL/da<t-1>,), dL/dzx<t>)`.
    """
    (d_h,) = d_states
    update, slope, reset = kept
    (recurrent_kernel_t,) = constants
    d_new_h = d_h if keep is None else keep * d_h
    d_z = ops.concatenate([d_new_h, d_new_h, d_new_h], axis=-1) * slope
    d_before = sequence.dropped(ops.matmul(recurrent_share(d_z, reset), recurrent_kernel_t), drop)
    d_before = d_before + d_new_h * update
    if keep is not None:
        d_before = d_before + (1 - keep) * d_h
    return (d_before,), d_z


def recurrent_share(d_z, reset):
    """dL/dzh<t> = dL/dzx<t> * [1, 1, r], for one step or every step."""
    d_gates, d_candidate = ops.split(d_z, [2 * reset.shape[-1]], axis=-1)
    return ops.concatenate([d_gates, d_candidate * reset], axis=-1)


def gradients(x, h_before, kept, d_z, weights, drop=None):
    """`(dL/dx, *dL/d(weights))` from every step's dL/dzx<t>."""
    d_x, d_kernel, d_input_bias = sequence.input_gradients(x, d_z, weights[0])
    d_recurrent = recurrent_share(d_z, kept[2])
    d_recurrent_kernel = sequence.product(sequence.dropped(h_before, drop), d_recurrent)
    return (
        d_x,
        d_kernel,
        d_recurrent_kernel,
        d_input_bias,
        sequence.column_sum(d_recurrent),
    )
