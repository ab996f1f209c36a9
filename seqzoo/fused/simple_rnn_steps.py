"""The SimpleRNN's steps (g = tanh) for the fused kernels, forward and backward, in `keras.ops`.

With z<t> = x<t> Wx + a<t-1> Wa + b and a<t> = tanh(z<t>), the forward step
keeps the slope 1 - a<t>², and the backward step is

    dL/dz<t> = dL/da<t> * (1 - a<t>²),   dL/da<t-1> = dL/dz<t> Waᵀ

A masked step (`keep` = 0) keeps a<t-1> and passes its gradient on untouched;
a recurrent dropout mask (`drop`) multiplies a<t-1> before Wa.

Weights: `(kernel, recurrent_kernel, bias)`.
"""

from keras import ops

from seqzoo.fused import sequence

KEPT = 1  # slope: what a step keeps for the backward pass
SLOPE = 0  # the kept tensor shaped like dL/dz<t> that only its own backward step reads


def forward_step(x, states, weights, keep=None, drop=None):
    """One step; returns `((a<t>,), (slope,))`."""
    kernel, recurrent_kernel, bias = weights
    (h,) = states
    new_h = ops.tanh(ops.matmul(x, kernel) + ops.matmul(sequence.dropped(h, drop), recurrent_kernel) + bias)
    slope = 1 - new_h * new_h
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
    return (new_h,), (slope,)


def backward_weights(weights):
    """What every backward step reads: `(Waᵀ,)`."""
    return (ops.transpose(weights[1]),)


def backward_step(d_states, kept, constants, keep=None, drop=None):
    """One step back from dL/da<t> (the output's share included).

    Returns `((dL/da<t-1>,), dL/dz<t>)`.
    """
    (d_h,) = d_states
    (slope,) = kept
    (recurrent_kernel_t,) = constants
    if keep is None:
        d_z = d_h * slope
        return (sequence.dropped(ops.matmul(d_z, recurrent_kernel_t), drop),), d_z
    d_z = keep * d_h * slope
    d_h = sequence.dropped(ops.matmul(d_z, recurrent_kernel_t), drop) + (1 - keep) * d_h
    return (d_h,), d_z


def gradients(x, h_before, kept, d_z, weights, drop=None):
    """`(dL/dx, *dL/d(weights))` from every step's dL/dz<t>."""
    return sequence.weight_gradients(x, h_before, d_z, weights[0], drop)
