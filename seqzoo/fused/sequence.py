"""What the fused kernels compute over a whole sequence at once, in `keras.ops`."""

from keras import ops


def weight_gradients(x, h_before, d_z, kernel):
    """dL/dx and the weights' gradients, each in one product over every step.

    For a cell whose pre-activations are z<t> = x<t> Wx + a<t-1> Wa + b.

    Args:
        x: the inputs, `(time, batch, features)`.
        h_before: a<t-1> of every step, `(time, batch, units)`.
        d_z: dL/dz<t> of every step, `(time, batch, gates * units)`.
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
    """The outputs of `keras.layers.RNN` from a<t> of every step (time major).

    A masked step outputs zeros, or the output of the step before, which is
    a<t-1> once some step was read and zeros before any was.
    """
    if step_mask is None:
        return states
    if zero_output_for_mask:
        return states * step_mask
    return states * ops.minimum(ops.cumsum(step_mask, axis=0), 1)
