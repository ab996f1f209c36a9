"""The peephole LSTM's steps (and the LSTM's with `cell_clip`) for the fused kernels, in `keras.ops`.

The gates also see the memory cell through diagonal weights pi, pf, po:
Γi = σ(zi + pi c<t-1>), Γf = σ(zf + pf c<t-1>), Γo = σ(zo + po c<t>), and
c<t> is clipped to `[-clip, clip]` before Γo and a<t> see it. The backward
step is the LSTM's (`lstm_steps.backward_step`) once the forward step folds
the peepholes and the clip into what it keeps:

    inside = 1 where the clip did not bite, else 0
    carry = inside (Γf + pi c̃ σ'(zi) + pf c<t-1> σ'(zf))   # dL/dc<t-1> per dL/dc<t>
    output slope = Γo (1 - tanh² c<t>) + po tanh(c<t>) σ'(zo)
    slope = [c̃ σ'(zi), c<t-1> σ'(zf), Γi (1 - c̃²)] * inside, tanh(c<t>) σ'(zo)

The peepholes' gradients are sums over every step: dL/dpi = Σ dL/dzi c<t-1>,
dL/dpf = Σ dL/dzf c<t-1>, dL/dpo = Σ dL/dzo c<t>.

Weights: `(kernel, recurrent_kernel, bias, peepholes, clip)`, `peepholes` of
shape `(3, units)` (rows pi, pf, po; zeros for a plain LSTM), `clip` a scalar
(infinity for none).
"""

from keras import ops

from seqzoo.fused import lstm_steps
from seqzoo.fused import sequence

KEPT = 5  # carry, output_slope, slope (as the LSTM's), c<t-1>, c<t>
SLOPE = lstm_steps.SLOPE  # the kept tensor shaped like dL/dz<t> that only its own backward step reads

backward_weights = lstm_steps.backward_weights
backward_step = lstm_steps.backward_step


def forward_step(x, states, weights, keep=None, drop=None):
    """One step; returns `((a<t>, c<t>), (carry, output_slope, slope, c<t-1>, c<t>))`."""
    kernel, recurrent_kernel, bias, peepholes, clip = weights
    h, c = states
    z = ops.matmul(x, kernel) + ops.matmul(sequence.dropped(h, drop), recurrent_kernel) + bias
    z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
    i = ops.sigmoid(z_i + peepholes[0] * c)
    f = ops.sigmoid(z_f + peepholes[1] * c)
    candidate = ops.tanh(z_c)
    raw_c = f * c + i * candidate
    new_c = ops.clip(raw_c, -clip, clip)
    inside = ops.cast(ops.abs(raw_c) <= clip, raw_c.dtype)
    o = ops.sigmoid(z_o + peepholes[2] * new_c)
    tanh_c = ops.tanh(new_c)
    new_h = o * tanh_c
    slope_i = candidate * i * (1 - i)
    slope_f = c * f * (1 - f)
    slope_o = tanh_c * o * (1 - o)
    carry = inside * (f + peepholes[0] * slope_i + peepholes[1] * slope_f)
    output_slope = o * (1 - tanh_c * tanh_c) + peepholes[2] * slope_o
    slope = ops.concatenate(
        [
            inside * slope_i,
            inside * slope_f,
            inside * i * (1 - candidate * candidate),
            slope_o,
        ],
        axis=-1,
    )
    kept = (carry, output_slope, slope, c, new_c)
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
        new_c = ops.where(keep > 0, new_c, c)
    return (new_h, new_c), kept


def gradients(x, h_before, kept, d_z, weights, drop=None):
    """`(dL/dx, *dL/d(weights))` from every step's dL/dz<t>; the clip gets zeros."""
    c_before, c_after = kept[3], kept[4]
    d_i, d_f, _, d_o = ops.split(d_z, 4, axis=-1)
    d_peepholes = ops.stack(
        [
            ops.sum(d_i * c_before, axis=(0, 1)),
            ops.sum(d_f * c_before, axis=(0, 1)),
            ops.sum(d_o * c_after, axis=(0, 1)),
        ]
    )
    clip = weights[4]
    return (
        *sequence.weight_gradients(x, h_before, d_z, weights[0], drop),
        d_peepholes,
        ops.zeros_like(clip),
    )
