"""The GRU's steps with `reset_after=False` (the course's form) for the fused kernels, in `keras.ops`.

The reset gate applies before the candidate's recurrent product, so the
recurrent kernel comes in two parts, Wa = [Wa_zr, Wa_h]; with
zx<t> = x<t> Wx + b split into the z, r, h parts (Keras's z is the course's
1 - Γu):

    [z, r] = σ(zx_zr + a<t-1> Wa_zr),   c̃ = tanh(zx_h + (r a<t-1>) Wa_h)
    a<t> = z a<t-1> + (1 - z) c̃

and, one step back, with dL/dzx<t> = [dz, dr, dh]:

    dz = da (a<t-1> - c̃) σ'(z),   dh = da (1 - z)(1 - c̃²)
    dL/d(r a<t-1>) = dh Wa_hᵀ,   dr = dL/d(r a<t-1>) a<t-1> σ'(r)
    dL/da<t-1> = da z + [dz, dr] Wa_zrᵀ + dL/d(r a<t-1>) r

A masked step (`keep` = 0) keeps a<t-1> and passes its gradient on untouched;
a recurrent dropout mask (`drop`) multiplies a<t-1> wherever Wa reads it.

Weights: `(kernel, recurrent_kernel_zr, recurrent_kernel_h, bias)`.
"""

from keras import ops

from seqzoo.fused import sequence

KEPT = 5  # update, update_slope, candidate_slope, reset_slope, reset
SLOPE = None  # no kept tensor is shaped like dL/dzx<t>


def forward_step(x, states, weights, keep=None, drop=None):
    """One step; returns `((a<t>,), (update, update_slope, candidate_slope, reset_slope, reset))`."""
    kernel, recurrent_kernel_zr, recurrent_kernel_h, bias = weights
    (h,) = states
    units = recurrent_kernel_h.shape[0]
    x_gates, x_h = ops.split(ops.matmul(x, kernel) + bias, [2 * units], axis=-1)
    dropped = sequence.dropped(h, drop)
    z, r = ops.split(ops.sigmoid(x_gates + ops.matmul(dropped, recurrent_kernel_zr)), 2, axis=-1)
    candidate = ops.tanh(x_h + ops.matmul(r * dropped, recurrent_kernel_h))
    new_h = candidate + z * (h - candidate)
    kept = (
        z,
        (h - candidate) * z * (1 - z),
        (1 - z) * (1 - candidate * candidate),
        dropped * r * (1 - r),
        r,
    )
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
    return (new_h,), kept


def backward_weights(weights):
    """What every backward step reads: `(Wa_zrᵀ, Wa_hᵀ)`."""
    return ops.transpose(weights[1]), ops.transpose(weights[2])


def backward_step(d_states, kept, constants, keep=None, drop=None):
    """One step back from dL/da<t> (the output's share included).

    Returns `((dL/da<t-1>,), dL/dzx<t>)`.
    """
    (d_h,) = d_states
    update, update_slope, candidate_slope, reset_slope, reset = kept
    recurrent_kernel_zr_t, recurrent_kernel_h_t = constants
    d_new_h = d_h if keep is None else keep * d_h
    d_candidate = d_new_h * candidate_slope
    d_reset_h = ops.matmul(d_candidate, recurrent_kernel_h_t)
    d_gates = ops.concatenate([d_new_h * update_slope, d_reset_h * reset_slope], axis=-1)
    d_dropped = ops.matmul(d_gates, recurrent_kernel_zr_t) + d_reset_h * reset
    d_before = sequence.dropped(d_dropped, drop) + d_new_h * update
    if keep is not None:
        d_before = d_before + (1 - keep) * d_h
    return (d_before,), ops.concatenate([d_gates, d_candidate], axis=-1)


def gradients(x, h_before, kept, d_z, weights, drop=None):
    """`(dL/dx, *dL/d(weights))` from every step's dL/dzx<t>."""
    units = weights[2].shape[0]
    d_x, d_kernel, d_bias = sequence.input_gradients(x, d_z, weights[0])
    dropped = sequence.dropped(h_before, drop)
    d_gates, d_candidate = ops.split(d_z, [2 * units], axis=-1)
    d_recurrent_kernel_zr = sequence.product(dropped, d_gates)
    d_recurrent_kernel_h = sequence.product(kept[4] * dropped, d_candidate)
    return d_x, d_kernel, d_recurrent_kernel_zr, d_recurrent_kernel_h, d_bias
