"""Fused whole-sequence kernels for the standard SimpleRNN and LSTM cells, on TensorFlow and JAX.

`keras.layers.RNN` runs a cell step by step and lets the backend
differentiate the loop, which adds every step's share to the kernels'
gradients as it goes. A fused kernel keeps what the cell's backward step
needs from the forward loop, carries only dL/d(states) back, and gets the
weights' gradients in one product over every step at once, as cuDNN and
PyTorch do. The numbers are those of the cell, to float32 rounding.

A cell's arithmetic is a step module (`lstm_steps`, `simple_rnn_steps`:
`forward_step`, `backward_step`, `KEPT`); the backends' loops
(`tensorflow_loops`, `jax_loops`) run any of them.
"""

import keras
from keras import ops

from seqzoo.fused import sequence

BACKENDS = ("tensorflow", "jax")


def run(
    steps,
    inputs,
    initial_states,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    go_backwards=False,
    zero_output_for_mask=False,
):
    """Runs a cell's fused kernel over `inputs`, as `keras.layers.RNN` would.

    Args:
        steps: the cell's step module, e.g. `seqzoo.fused.lstm_steps`.
        inputs: `(batch, time, features)`.
        initial_states: the states before the first step, a list of
            `(batch, units)` (a<0> first).
        kernel, recurrent_kernel, bias: the cell's weights, in Keras's
            layout; `bias` may be `None`.
        mask: optional boolean `(batch, time)`; a masked step keeps the
            states of the step before.
        go_backwards: whether to read the sequence from its end.
        zero_output_for_mask: whether masked steps output zeros rather than
            the output of the step before.

    Returns:
        `(outputs, states)`: every step's output `(batch, time, units)` (in
        the order read) and the final states, a list.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from seqzoo.fused import tensorflow_loops as loops
    elif backend == "jax":
        from seqzoo.fused import jax_loops as loops
    else:
        raise NotImplementedError(
            f"The fused kernels run on {' and '.join(BACKENDS)}, not on {backend}."
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
    states, final_states = loops.run(
        steps, x, step_mask, initial_states, kernel, recurrent_kernel, bias
    )
    outputs = sequence.read_outputs(states, step_mask, zero_output_for_mask)
    return ops.transpose(outputs, (1, 0, 2)), list(final_states)
