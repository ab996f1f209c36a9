"""A fused whole-sequence kernel for the standard LSTM cell, on TensorFlow and JAX.

`keras.layers.RNN` runs a cell step by step and lets the backend
differentiate the loop, which adds every step's share to the kernels'
gradients as it goes. The fused kernel keeps ∂(a<t>, c<t>)/∂z<t> from the
forward loop, carries only dL/da<t> and dL/dc<t> back, and gets the weights'
gradients in one product over every step at once, as cuDNN and PyTorch do.
The numbers are those of `seqzoo.cells.LSTMCell` to float32 rounding.
"""

import keras
from keras import ops

from seqzoo.fused import lstm_math

BACKENDS = ("tensorflow", "jax")


def lstm(
    inputs,
    initial_h,
    initial_c,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    go_backwards=False,
    zero_output_for_mask=False,
):
    """Runs a standard LSTM (sigmoid gates, tanh) over `inputs`, as `keras.layers.RNN` would.

    Args:
        inputs: `(batch, time, features)`.
        initial_h, initial_c: the states before the first step, `(batch,
            units)`.
        kernel, recurrent_kernel, bias: the weights of
            `seqzoo.cells.LSTMCell`, gates in Keras's order i, f, c, o;
            `bias` may be `None`.
        mask: optional boolean `(batch, time)`; a masked step keeps the
            states of the step before.
        go_backwards: whether to read the sequence from its end.
        zero_output_for_mask: whether masked steps output zeros rather than
            the output of the step before.

    Returns:
        `(outputs, h, c)`: every step's output `(batch, time, units)` (in
        the order read) and the final states.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from seqzoo.fused import lstm_tensorflow as backend_kernel
    elif backend == "jax":
        from seqzoo.fused import lstm_jax as backend_kernel
    else:
        raise NotImplementedError(
            f"The fused LSTM runs on {' and '.join(BACKENDS)}, not on {backend}."
        )
    x = ops.transpose(inputs, (1, 0, 2))
    step_mask = None
    if mask is not None:
        step_mask = ops.cast(ops.transpose(mask)[:, :, None], x.dtype)
    if go_backwards:
        x = ops.flip(x, axis=0)
        step_mask = None if step_mask is None else ops.flip(step_mask, axis=0)
    if bias is None:
        bias = ops.zeros(kernel.shape[-1:], kernel.dtype)
    states, h, c = backend_kernel.lstm(
        x, step_mask, initial_h, initial_c, kernel, recurrent_kernel, bias
    )
    outputs = lstm_math.read_outputs(states, step_mask, zero_output_for_mask)
    return ops.transpose(outputs, (1, 0, 2)), h, c
