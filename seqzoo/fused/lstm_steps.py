"""The LSTM's steps for the fused kernels, forward and backward, in `keras.ops`.

The forward step also keeps what the backward pass needs, ∂(a<t>, c<t>)/∂z<t>
with z<t> = x<t> Wx + a<t-1> Wa + b, the gates' pre-activations:

    dL/dc<t> += dL/da<t> * Γo (1 - tanh² c<t>)                ("output slope")
    dL/dz<t> = [dc, dc, dc, da] * [c̃ σ'(zi), c<t-1> σ'(zf),
                                   Γi (1 - c̃²), tanh(c<t>) σ'(zo)]  ("slope")
    dL/da<t-1> = dL/dz<t> Waᵀ,   dL/dc<t-1> = dL/dc<t> * Γf      ("carry")

A masked step (`keep` = 0) keeps a<t-1> and c<t-1>, and passes their
gradients on untouched; a recurrent dropout mask (`drop`) multiplies a<t-1>
before Wa.

Weights: `(kernel, recurrent_kernel, bias)`.
"""

from keras import ops

from seqzoo.fused import sequence

KEPT = 3  # carry, output_slope, slope: what a step keeps for the backward pass
SLOPE = 2  # the kept tensor shaped like dL/dz<t> that only its own backward step reads


def forward_step(x, states, weights, keep=None, drop=None):
    """One step; returns `((a<t>, c<t>), (carry, output_slope, slope))`."""
    kernel, recurrent_kernel, bias = weights
    h, c = states
    units = recurrent_kernel.shape[0]
    z = ops.matmul(x, kernel) + ops.matmul(sequence.dropped(h, drop), recurrent_kernel) + bias
    sigmoid = ops.sigmoid(z)
    i, f, _, o = ops.split(sigmoid, 4, axis=-1)
    candidate = ops.tanh(z[:, 2 * units : 3 * units])
    new_c = f * c + i * candidate
    tanh_c = ops.tanh(new_c)
    new_h = o * tanh_c
    di, df, _, do = ops.split(sigmoid * (1 - sigmoid), 4, axis=-1)
    slope = ops.concatenate([candidate * di, c * df, i * (1 - candidate * candidate), tanh_c * do], axis=-1)
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
        new_c = ops.where(keep > 0, new_c, c)
    return (new_h, new_c), (f, o * (1 - tanh_c * tanh_c), slope)


def backward_weights(weights):
    """What every backward step reads: `(Waᵀ,)`."""
    return (ops.transpose(weights[1]),)


def backward_step(d_states, kept, constants, keep=None, drop=None):
    """One step back from dL/d(a<t>, c<t>) (the output's share included).

    Reads the first `KEPT` of `kept`. Returns `((dL/da<t-1>, dL/dc<t-1>), dL/dz<t>)`.
    """
    d_h, d_c = d_states
    carry, output_slope, slope = kept[:KEPT]
    (recurrent_kernel_t,) = constants
    if keep is None:
        d_c = d_c + d_h * output_slope
        d_z = ops.concatenate([d_c, d_c, d_c, d_h], axis=-1) * slope
        return (
            sequence.dropped(ops.matmul(d_z, recurrent_kernel_t), drop),
            d_c * carry,
        ), d_z
    d_new_c = keep * (d_c + d_h * output_slope)
    d_z = ops.concatenate([d_new_c, d_new_c, d_new_c, keep * d_h], axis=-1) * slope
    d_states = (
        sequence.dropped(ops.matmul(d_z, recurrent_kernel_t), drop) + (1 - keep) * d_h,
        d_new_c * carry + (1 - keep) * d_c,
    )
    return d_states, d_z


def gradients(x, h_before, kept, d_z, weights, drop=None):
    """`(dL/dx, *dL/d(weights))` from every step's dL/dz<t>."""
    return sequence.weight_gradients(x, h_before, d_z, weights[0], drop)
