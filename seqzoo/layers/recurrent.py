"""A sequence layer for seqzoo cells: hoisted input projection, stateful on every backend."""

import keras

# The backends' loop over time steps, the one `keras.layers.RNN` runs; it is
# not exported under `keras.ops`.
from keras.src.backend import rnn as backend_rnn


@keras.saving.register_keras_serializable(package="seqzoo")
class Recurrent(keras.layers.RNN):
    """`keras.layers.RNN` for seqzoo cells, with the input projection hoisted.

    A seqzoo cell splits a step into `project_inputs` (x<t> Wx + b, which
    does not depend on the state) and `step` (everything that does). With
    `hoist_inputs=True` this layer computes the projection of the whole
    sequence in one matrix product, `(batch, time, features) @ (features,
    gates * units)`, and loops only over `step`; the backward pass then
    gets the kernel's gradient in one product too, instead of one per step.
    Whether that pays depends on the shapes: it trades skinny per-step
    products for a `(batch, time, gates * units)` tensor that has to travel
    through memory. On a 2-core CPU, training with batch 8 on TensorFlow, it
    ran 1.3-1.6x as fast as the per-step projection for the RNN and LSTM
    cells; with batch 64 it ran 0.8-0.95x as fast on both backends (see
    `benchmarks/RESULTS.md`), which is why `RecurrentStack` does not use it.
    With `hoist_inputs=False` the layer runs the cell exactly as
    `keras.layers.RNN` does.

    The numbers are those of `keras.layers.RNN(cell)` either way (to float32
    rounding, as a sum over time steps is added up in another order): same
    weights, masking, dropout masks (one per sequence), `initial_state`,
    `return_state`, `go_backwards` and `stateful`; it wraps in
    `keras.layers.Bidirectional` like any RNN layer.

    Unlike `keras.layers.RNN`, a stateful `Recurrent` tracks its states as
    non-trainable variables, so they carry from call to call in compiled
    steps on the JAX backend too (`fit`, `predict`, `train_on_batch`; see
    `seqzoo.tbptt`), and they are saved with the model's weights.

    Args:
        cell: a seqzoo cell (a `seqzoo.cells.RecurrentCell`).
        hoist_inputs: whether to project every input step at once.
        **kwargs: the arguments of `keras.layers.RNN` (`return_sequences`,
            `return_state`, `go_backwards`, `stateful`, `unroll`,
            `zero_output_for_mask`, ...).

    Example:

    >>> layer = seqzoo.layers.Recurrent(seqzoo.cells.LSTMCell(4))
    >>> layer(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(self, cell, hoist_inputs=True, **kwargs):
        super().__init__(cell, **kwargs)
        self.hoist_inputs = hoist_inputs

    def _create_state_variables(self, batch_size):
        # Keras keeps a stateful RNN's states out of its variables, so the JAX
        # backend's compiled steps, which carry only the variables a layer
        # tracks, would drop every state update.
        super()._create_state_variables(batch_size)
        for state in keras.tree.flatten(self.states):
            self._track_variable(state)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self.hoist_inputs:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        cell = self.cell
        projected = cell.project_inputs(sequences, training=training)

        def step(projected_inputs, states):
            output, new_states = cell.step(projected_inputs, states, training=training)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            return output, new_states

        return backend_rnn(
            step,
            projected,
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )

    def get_config(self):
        return {**super().get_config(), "hoist_inputs": self.hoist_inputs}
