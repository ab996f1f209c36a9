"""What the fused kernels compute over a whole sequence at once, in `keras.ops`."""

from keras import ops


def dropped(tensor, drop):
    """`tensor * drop`, the recurrent dropout mask (one per sequence), or `tensor` without one.

    The same product carries a<t-1> forward and dL/d(a<t-1> * mask) back.
    """
    return tensor if drop is None else tensor * drop


def product(a, d_z):
    """aᵀ dL/dz summed over every step: `(time, batch, m)`, `(time, batch, n)` -> `(m, n)`."""
    # The width from `ops.shape`: TensorFlow's stacked loop arrays may not know it.
    flat_a = ops.reshape(a, (-1, ops.shape(a)[-1]))
    return ops.matmul(ops.transpose(flat_a), ops.reshape(d_z, (-1, d_z.shape[-1])))


def column_sum(d_z):
    """dL/dz summed over every step and row, `(n,)`: a bias's gradient."""
    flat_d_z = ops.reshape(d_z, (-1, d_z.shape[-1]))
    # A column sum as a product: TensorFlow's row reduction is 4x slower.
    ones = ops.ones((1, ops.shape(flat_d_z)[0]), dtype=flat_d_z.dtype)
    return ops.matmul(ones, flat_d_z)[0]


def input_gradients(x, d_z, kernel):
    """`(dL/dx, dL/dWx, dL/db)` of z<t> = x<t> Wx + b + ..., each in one product over every step.

    Args:
        x: the inputs, `(time, batch, features)`.
        d_z: dL/dz<t> of every step, `(time, batch, gates * units)`.
        kernel: Wx.
    """
    d_x = ops.reshape(
        ops.matmul(ops.reshape(d_z, (-1, d_z.shape[-1])), ops.transpose(kernel)),
        ops.shape(x),
    )
    return d_x, product(x, d_z), column_sum(d_z)


def weight_gradients(x, h_before, d_z, kernel, drop=None):
    """dL/dx and the weights' gradients, each in one product over every step.

    For a cell whose pre-activations are z<t> = x<t> Wx + (a<t-1> * mask) Wa + b.

    Args:
        x: the inputs, `(time, batch, features)`.
        h_before: a<t-1> of every step, `(time, batch, units)`.
        d_z: dL/dz<t> of every step, `(time, batch, gates * units)`.
        kernel: Wx.
        drop: the recurrent dropout mask `(batch, units)`, or `None`.

    Returns:
        `(d_x, d_kernel, d_recurrent_kernel, d_bias)`.
    """
    d_x, d_kernel, d_bias = input_gradients(x, d_z, kernel)
    return d_x, d_kernel, product(dropped(h_before, drop), d_z), d_bias


def read_outputs(states, step_mask, zero_output_for_mask, axis=0):
    """The outputs of `keras.layers.RNN` from a<t> of every step (time major, or time on `axis`).

    A masked step outputs zeros, or the output of the step before, which is
    a<t-1> once some step was read and zeros before any was.
    """
    if step_mask is None:
        return states
    if zero_output_for_mask:
        return states * step_mask
    return states * ops.minimum(ops.cumsum(step_mask, axis=axis), 1)
