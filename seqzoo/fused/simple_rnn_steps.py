"""The SimpleRNN's steps (g = tanh) for the fused kernels, forward and backward, in `keras.ops`.

With z<t> = x<t> Wx + a<t-1> Wa + b and a<t> = tanh(z<t>), the forward step
keeps the slope 1 - a<t>², and the backward step is

    dL/dz<t> = dL/da<t> * (1 - a<t>²),   dL/da<t-1> = dL/dz<t> Waᵀ

A masked step (`keep` = 0) keeps a<t-1> and passes its gradient on untouched.
"""

from keras import ops

KEPT = 1  # slope: what a step keeps for the backward pass


def forward_step(x, states, kernel, recurrent_kernel, bias, keep=None):
    """One step; returns `((a<t>,), (slope,))`."""
    (h,) = states
    new_h = ops.tanh(ops.matmul(x, kernel) + ops.matmul(h, recurrent_kernel) + bias)
    slope = 1 - new_h * new_h
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
    return (new_h,), (slope,)


def backward_step(d_states, kept, recurrent_kernel_t, keep=None):
    """One step back from dL/da<t> (the output's share included).

    Returns `((dL/da<t-1>,), dL/dz<t>)`.
    """
    (d_h,) = d_states
    (slope,) = kept
    if keep is None:
        d_z = d_h * slope
        return (ops.matmul(d_z, recurrent_kernel_t),), d_z
    d_z = keep * d_h * slope
    return (ops.matmul(d_z, recurrent_kernel_t) + (1 - keep) * d_h,), d_z
