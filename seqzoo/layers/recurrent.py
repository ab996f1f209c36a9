"""A sequence layer that projects every input step at once, then loops."""

import keras

# The backends' loop over time steps, the one `keras.layers.RNN` runs; it is
# not exported under `keras.ops`.
from keras.src.backend import rnn as backend_rnn


@keras.saving.register_keras_serializable(package="seqzoo")
class Recurrent(keras.layers.RNN):
    """`keras.layers.RNN` for seqzoo cells, with the input projection hoisted.

    A seqzoo cell splits a step into `project_inputs` (x<t> Wx + b, which
    does not depend on the state) and `step` (everything that does). This
    layer computes the projection of the whole sequence in one matrix product,
    `(batch, time, features) @ (features, gates * units)`, and loops only
    over `step`, so each time step does one matrix product instead of two and
    the backward pass accumulates the kernel's gradient in one product too.
    The numbers are those of `keras.layers.RNN(cell)`: same weights, same
    masking, same dropout masks (one per sequence), same `initial_state`,
    `return_state`, `go_backwards` and `stateful`; it wraps in
    `keras.layers.Bidirectional` like any RNN layer.

    Args:
        cell: a seqzoo cell (a `seqzoo.cells.RecurrentCell`).
        **kwargs: the arguments of `keras.layers.RNN` (`return_sequences`,
            `return_state`, `go_backwards`, `stateful`, `unroll`,
            `zero_output_for_mask`, ...).

    Example:

    >>> layer = seqzoo.layers.Recurrent(seqzoo.cells.LSTMCell(4))
    >>> layer(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    def _create_state_variables(self, batch_size):
        # Keras keeps a stateful RNN's states out of its variables, so the JAX
        # backend's compiled steps (`fit`, `predict`, ...), which carry only
        # the variables a layer tracks, would drop every state update.
        # Tracked as non-trainable variables, they carry over on every backend.
        super()._create_state_variables(batch_size)
        for state in self.states:
            self._track_variable(state)

    def inner_loop(self, sequences, initial_state, mask, training=False):
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
