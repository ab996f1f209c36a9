"""A sequence layer for seqzoo cells: fused kernels, hoisted input projection, stateful on every backend."""

import keras
from keras import activations
from keras import ops

# The backends' loop over time steps, the one `keras.layers.RNN` runs, and
# their whole-sequence LSTM and GRU (cuDNN where a backend has it), the ones
# `keras.layers.LSTM` and `GRU` try first; none is exported under `keras.ops`.
from keras.src.backend import gru as backend_gru
from keras.src.backend import lstm as backend_lstm
from keras.src.backend import rnn as backend_rnn

from seqzoo import fused
from seqzoo.cells.gru import GRUCell
from seqzoo.cells.lstm import LSTMCell
from seqzoo.cells.simple_rnn import SimpleRNNCell
from seqzoo.fused import lstm_steps
from seqzoo.fused import simple_rnn_steps

# The cells that seqzoo's own fused kernels run, with their step arithmetic.
FUSED_STEPS = {SimpleRNNCell: simple_rnn_steps, LSTMCell: lstm_steps}

FUSED_MODES = ("auto", True, False)


def _has_gpu():
    try:
        return bool(keras.distribution.list_devices("gpu"))
    except RuntimeError:  # JAX's answer when it has no GPU platform
        return False


@keras.saving.register_keras_serializable(package="seqzoo")
class Recurrent(keras.layers.RNN):
    """`keras.layers.RNN` for seqzoo cells, with fused kernels and a hoisted projection.

    A standard `SimpleRNNCell`, `GRUCell` or `LSTMCell` (tanh and sigmoid,
    no recurrent dropout, not unrolled; no `cell_clip`; `reset_after=True`,
    not `minimal`) runs as one fused kernel when `fused` allows: on a GPU,
    Keras's own for the GRU and LSTM (cuDNN, without a mask, exactly what
    `keras.layers.GRU` and `LSTM` run there); else, for the SimpleRNN and
    LSTM on TensorFlow and JAX, `seqzoo.fused`, whose backward pass gets the
    weights' gradients in one product over every step, and whose batch
    shards run on separate cores on TensorFlow. The numbers are the cell's,
    masks included; see `benchmarks/RESULTS.md` for the speed.

    Any other cell, or `fused=False`, runs step by step:
    a seqzoo cell splits a step into `project_inputs` (x<t> Wx + b, which
    does not depend on the state) and `step` (everything that does). With
    `hoist_inputs=True` this layer computes the projection of the whole
    sequence in one matrix product, `(batch, time, features) @ (features,
    gates * units)`, and loops only over `step`; the backward pass then
    gets the kernel's gradient in one product too, instead of one per step.
    Whether that pays depends on the shapes: it trades skinny per-step
    products for a `(batch, time, gates * units)` tensor that has to travel
    through memory. On a 2-core CPU it paid at batch 8 (up to 1.2x the
    per-step projection) and lost at batch 64 (0.8-1.0x, both backends; see
    `benchmarks/RESULTS.md`), which is why `RecurrentStack` passes
    `hoist_inputs=False`: the layer then runs the cell exactly as
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
        hoist_inputs: whether to project every input step at once, when the
            cell runs step by step.
        fused: `"auto"` runs a fused kernel where there is one for the cell
            and backend, `True` insists (a `ValueError` says why there is
            none), `False` always runs step by step.
        **kwargs: the arguments of `keras.layers.RNN` (`return_sequences`,
            `return_state`, `go_backwards`, `stateful`, `unroll`,
            `zero_output_for_mask`, ...).

    Example:

    >>> layer = seqzoo.layers.Recurrent(seqzoo.cells.LSTMCell(4))
    >>> layer(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(self, cell, hoist_inputs=True, fused="auto", **kwargs):
        super().__init__(cell, **kwargs)
        if fused not in FUSED_MODES:
            raise ValueError(
                f"Received fused={fused!r}; allowed: {', '.join(map(repr, FUSED_MODES))}."
            )
        self.hoist_inputs = hoist_inputs
        self.fused = fused
        unfusable = self._unfusable_reason()
        if fused is True and unfusable:
            raise ValueError(f"Received fused=True, but {unfusable}.")
        self._tries_fused = fused is not False and not unfusable

    def _unfusable_reason(self):
        """Why the cell has no fused kernel, or `None` if it may have one."""
        cell = self.cell
        if type(cell) not in (SimpleRNNCell, GRUCell, LSTMCell):
            return (
                "only a standard SimpleRNNCell, GRUCell or LSTMCell has a fused "
                f"kernel (the cell is a {type(cell).__name__})"
            )
        if cell.activation is not activations.tanh:
            return "a fused kernel needs activation='tanh'"
        if not isinstance(cell, SimpleRNNCell) and cell.recurrent_activation is not activations.sigmoid:
            return "a fused kernel needs recurrent_activation='sigmoid'"
        if isinstance(cell, LSTMCell) and cell.cell_clip is not None:
            return "the fused LSTM kernels have no cell_clip"
        if isinstance(cell, GRUCell) and (cell.minimal or not cell.reset_after):
            return "the fused GRU kernel (cuDNN's) needs reset_after=True and minimal=False"
        if cell.recurrent_dropout:
            return "a fused kernel has no recurrent_dropout"
        if self.unroll:
            return "a fused kernel does not unroll"
        return None

    def _create_state_variables(self, batch_size):
        # Keras keeps a stateful RNN's states out of its variables, so the JAX
        # backend's compiled steps, which carry only the variables a layer
        # tracks, would drop every state update.
        super()._create_state_variables(batch_size)
        for state in keras.tree.flatten(self.states):
            self._track_variable(state)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self._tries_fused:
            result = self._fused_loop(sequences, initial_state, mask, training)
            if result is not None:
                return result
            if self.fused is True:
                raise ValueError(
                    f"Received fused=True, but there is no fused {type(self.cell).__name__} "
                    f"kernel here ({keras.backend.backend()} backend): Keras's (cuDNN) needs "
                    "a GPU and no mask; seqzoo's are the SimpleRNN's and the LSTM's, on "
                    "TensorFlow or JAX."
                )
        if not self.hoist_inputs:
            return super().inner_loop(sequences, initial_state, mask, training=training)
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

    def _fused_loop(self, sequences, initial_state, mask, training):
        """The whole sequence through a fused kernel, or `None` if none runs here."""
        cell = self.cell
        if training and cell.dropout > 0:
            dropout_mask = cell.get_dropout_mask(sequences[:, 0])
            sequences = sequences * ops.expand_dims(dropout_mask, 1)
        if _has_gpu() and isinstance(cell, (GRUCell, LSTMCell)):
            # On a CPU, Keras's kernels are step loops.
            result = self._keras_fused_loop(sequences, initial_state, mask)
            if result is not None:
                return result
        steps = FUSED_STEPS.get(type(cell))
        if steps is None or keras.backend.backend() not in fused.BACKENDS:
            return None
        outputs, states = fused.run(
            steps,
            sequences,
            initial_state,
            cell.kernel,
            cell.recurrent_kernel,
            cell.bias,
            mask=mask,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        return outputs[:, -1], outputs, states

    def _keras_fused_loop(self, sequences, initial_state, mask):
        """Keras's own LSTM or GRU kernel (cuDNN), as its layers call it, or `None`."""
        cell = self.cell
        if isinstance(cell, LSTMCell):
            kernel, states, options = backend_lstm, initial_state[:2], {}
        else:
            kernel, states, options = backend_gru, initial_state[:1], {"reset_after": True}
        try:
            result = kernel(
                sequences,
                *states,
                mask,
                kernel=cell.kernel,
                recurrent_kernel=cell.recurrent_kernel,
                bias=cell.bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
                **options,
            )
        except NotImplementedError:  # a mask, or no cuDNN for this backend
            return None
        if keras.backend.backend() == "tensorflow":
            self.supports_jit = False  # cuDNN ops do not compile with XLA
        return result

    def get_config(self):
        return {
            **super().get_config(),
            "hoist_inputs": self.hoist_inputs,
            "fused": self.fused,
        }
