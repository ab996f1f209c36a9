"""Fused whole-sequence kernels for the SimpleRNN, GRU and (peephole) LSTM cells, on TensorFlow, JAX and PyTorch.

`keras.layers.RNN` runs a cell step by step and lets the backend
differentiate the loop, which adds every step's share to the kernels'
gradients as it goes. A fused kernel keeps what the cell's backward step
needs from the forward loop, carries only dL/d(states) back, and gets the
weights' gradients in one product over every step at once, as cuDNN and
PyTorch do. The numbers are those of the cell, to float32 rounding.

A cell's arithmetic is a step module (`simple_rnn_steps`, `lstm_steps`,
`peephole_lstm_steps`, `gru_steps`, `gru_reset_before_steps`,
`minimal_gru_steps`), all in `keras.ops`: `forward_step` (one step, and what
the backward pass needs from it, `KEPT` tensors, of which the `SLOPE`-th, if
not `None`, is shaped like dL/dz<t> and read only by its own step back),
`backward_weights` (what every backward step reads, once), `backward_step`
(one step back, giving dL/dz<t>) and `gradients` (dL/dx and the weights'
gradients, over every step at once). Each takes the cell's weights as a
tuple in its own order, the input kernel first. The backends' loops
(`tensorflow_loops`, `jax_loops`) run any of them.
"""

import keras
from keras import ops

from seqzoo.fused import sequence

# The backends that seqzoo's own loops run on; on PyTorch, `run` hands the cell to PyTorch's kernels.
BACKENDS = ("tensorflow", "jax")


def run(
    steps,
    inputs,
    initial_states,
    weights,
    mask=None,
    go_backwards=False,
    zero_output_for_mask=False,
    recurrent_dropout_mask=None,
):
    """Runs a cell's fused kernel over `inputs`, as `keras.layers.RNN` would.

    Args:
        steps: the cell's step module, e.g. `seqzoo.fused.lstm_steps`.
        inputs: `(batch, time, features)`.
        initial_states: the states before the first step, a list of
            `(batch, units)` (a<0> first).
        weights: the cell's weights, a tuple in the order its step module
            names.
        mask: optional boolean `(batch, time)`; a masked step keeps the
            states of the step before.
        go_backwards: whether to read the sequence from its end.
        zero_output_for_mask: whether masked steps output zeros rather than
            the output of the step before.
        recurrent_dropout_mask: optional `(batch, units)`, the one mask per
            sequence that multiplies a<t-1> where the recurrent kernel
            reads it (Keras's `get_recurrent_dropout_mask`).

    Returns:
        `(outputs, states)`: every step's output `(batch, time, units)` (in
        the order read) and the final states, a list.

    Raises:
        NotImplementedError: on PyTorch, where its kernels do not compute
            the cell, the mask or the recurrent dropout (the message says why).
    """
    backend = keras.backend.backend()
    if backend == "torch":
        from seqzoo.fused import torch_kernels

        return torch_kernels.run(
            steps, inputs, initial_states, weights, mask, go_backwards, zero_output_for_mask, recurrent_dropout_mask
        )
    if backend == "tensorflow":
        from seqzoo.fused import tensorflow_loops as loops
    elif backend == "jax":
        from seqzoo.fused import jax_loops as loops
    else:
        raise NotImplementedError(f"The fused kernels run on {', '.join(BACKENDS)} and torch, not on {backend}.")
    x = ops.transpose(inputs, (1, 0, 2))
    step_mask = None
    if mask is not None:
        step_mask = ops.cast(ops.transpose(mask)[:, :, None], x.dtype)
    if go_backwards:
        x = ops.flip(x, axis=0)
        step_mask = None if step_mask is None else ops.flip(step_mask, axis=0)
    states, final_states = loops.run(steps, x, step_mask, initial_states, weights, recurrent_dropout_mask)
    outputs = sequence.read_outputs(states, step_mask, zero_output_for_mask)
    return ops.transpose(outputs, (1, 0, 2)), list(final_states)
