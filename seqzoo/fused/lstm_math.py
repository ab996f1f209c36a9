"""The steps of the fused LSTM kernels, forward and backward, in `keras.ops`.

The backends' kernels (`lstm_tensorflow`, `lstm_jax`) differ only in how
they loop and register the gradient; the arithmetic is here, once.

The forward step also keeps what the backward pass needs, ∂(a<t>, c<t>)/∂z<t>
with z<t> = x<t> Wx + a<t-1> Wa + b, the gates' pre-activations:

    dL/dc<t> += dL/da<t> * Γo (1 - tanh² c<t>)                ("output slope")
    dL/dz<t> = [dc, dc, dc, da] * [c̃ σ'(zi), c<t-1> σ'(zf),
                                   Γi (1 - c̃²), tanh(c<t>) σ'(zo)]  ("slope")
    dL/da<t-1> = dL/dz<t> Waᵀ,   dL/dc<t-1> = dL/dc<t> * Γf

A masked step (`keep` = 0) keeps a<t-1> and c<t-1>, and passes their
gradients on untouched.
"""

from keras import ops


def forward_step(x, h, c, kernel, recurrent_kernel, bias, keep=None):
    """One step; returns `(h, c, forget, output_slope, slope)`."""
    units = recurrent_kernel.shape[0]
    z = ops.matmul(x, kernel) + ops.matmul(h, recurrent_kernel) + bias
    sigmoid = ops.sigmoid(z)
    i, f, _, o = ops.split(sigmoid, 4, axis=-1)
    candidate = ops.tanh(z[:, 2 * units : 3 * units])
    new_c = f * c + i * candidate
    tanh_c = ops.tanh(new_c)
    new_h = o * tanh_c
    di, df, _, do = ops.split(sigmoid * (1 - sigmoid), 4, axis=-1)
    slope = ops.concatenate(
        [candidate * di, c * df, i * (1 - candidate * candidate), tanh_c * do], axis=-1
    )
    if keep is not None:
        new_h = ops.where(keep > 0, new_h, h)
        new_c = ops.where(keep > 0, new_c, c)
    return new_h, new_c, f, o * (1 - tanh_c * tanh_c), slope


def backward_step(d_h, d_c, forget, output_slope, slope, recurrent_kernel_t, keep=None):
    """One step back from dL/da<t> (outputs' share included) and dL/dc<t>.

    Returns `(dL/da<t-1>, dL/dc<t-1>, dL/dz<t>)`.
    """
    if keep is None:
        d_c = d_c + d_h * output_slope
        d_z = ops.concatenate([d_c, d_c, d_c, d_h], axis=-1) * slope
        return ops.matmul(d_z, recurrent_kernel_t), d_c * forget, d_z
    d_new_c = keep * (d_c + d_h * output_slope)
    d_z = ops.concatenate([d_new_c, d_new_c, d_new_c, keep * d_h], axis=-1) * slope
    return (
        ops.matmul(d_z, recurrent_kernel_t) + (1 - keep) * d_h,
        d_new_c * forget + (1 - keep) * d_c,
        d_z,
    )


def weight_gradients(x, h_before, d_z, kernel):
    """dL/dx and the weights' gradients, each in one product over every step.

    Args:
        x: the inputs, `(time, batch, features)`.
        h_before: a<t-1> of every step, `(time, batch, units)`.
        d_z: dL/dz<t> of every step, `(time, batch, 4 * units)`.
        kernel: Wx.

    Returns:
        `(d_x, d_kernel, d_recurrent_kernel, d_bias)`.
    """
    flat_d_z = ops.reshape(d_z, (-1, d_z.shape[-1]))
    d_kernel = ops.matmul(ops.transpose(ops.reshape(x, (-1, x.shape[-1]))), flat_d_z)
    d_recurrent_kernel = ops.matmul(
        ops.transpose(ops.reshape(h_before, (-1, h_before.shape[-1]))), flat_d_z
    )
    # A column sum as a product: TensorFlow's row reduction is 4x slower.
    ones = ops.ones((1, ops.shape(flat_d_z)[0]), dtype=flat_d_z.dtype)
    d_bias = ops.matmul(ones, flat_d_z)[0]
    d_x = ops.reshape(ops.matmul(flat_d_z, ops.transpose(kernel)), ops.shape(x))
    return d_x, d_kernel, d_recurrent_kernel, d_bias


def read_outputs(states, step_mask, zero_output_for_mask):
    """The outputs of `keras.layers.RNN` from the states of every step.

    A masked step outputs zeros, or the output of the step before, which is
    a<t-1> once some step was read and zeros before any was.
    """
    if step_mask is None:
        return states
    if zero_output_for_mask:
        return states * step_mask
    return states * ops.minimum(ops.cumsum(step_mask, axis=0), 1)
