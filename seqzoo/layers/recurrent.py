"""A sequence layer for seqzoo cells: fused kernels, hoisted input projection, stateful on every backend."""

import keras
from keras import activations
from keras import ops

from seqzoo import fused
from seqzoo._compat import backend_gru
from seqzoo._compat import backend_lstm
from seqzoo._compat import backend_rnn
from seqzoo.cells.gru import GRUCell
from seqzoo.cells.lstm import LSTMCell
from seqzoo.cells.minimal import MinimalCell
from seqzoo.cells.peephole_lstm import PeepholeLSTMCell
from seqzoo.cells.simple_rnn import SimpleRNNCell
from seqzoo.fused import gru_reset_before_steps
from seqzoo.fused import gru_steps
from seqzoo.fused import lstm_steps
from seqzoo.fused import minimal_gru_steps
from seqzoo.fused import peephole_lstm_steps
from seqzoo.fused import scan
from seqzoo.fused import simple_rnn_steps

# The cells that seqzoo's own fused kernels run (`fused_kernel` picks the steps).
FUSED_CELLS = (SimpleRNNCell, GRUCell, LSTMCell, PeepholeLSTMCell)

FUSED_MODES = ("auto", True, False)


def _has_gpu():
    """Whether TensorFlow or JAX sees a GPU (on PyTorch, `keras.distribution` is None)."""
    if keras.distribution is None:
        return False
    try:
        return bool(keras.distribution.list_devices("gpu"))
    except RuntimeError:  # JAX's answer when it has no GPU platform
        return False


def fused_kernel(cell):
    """The step module of `seqzoo.fused` that runs `cell`, and the cell's weights in its order.

    Args:
        cell: a standard cell of `FUSED_CELLS` (tanh and sigmoid).

    Returns:
        `(steps, weights)`, the weights a tuple of tensors (zeros for a bias
        the cell has not).
    """
    kernel, recurrent_kernel = cell.kernel, cell.recurrent_kernel
    zeros = ops.zeros(kernel.shape[-1:], kernel.dtype)
    bias = zeros if cell.bias is None else cell.bias
    if isinstance(cell, SimpleRNNCell):
        return simple_rnn_steps, (kernel, recurrent_kernel, bias)
    if isinstance(cell, LSTMCell):
        if type(cell) is LSTMCell and cell.cell_clip is None:
            return lstm_steps, (kernel, recurrent_kernel, bias)
        if isinstance(cell, PeepholeLSTMCell):
            gates = ("input", "forget", "output")
            peepholes = ops.stack([getattr(cell, f"{gate}_gate_peephole_weights").value for gate in gates])
        else:
            peepholes = ops.zeros((3, cell.units), kernel.dtype)
        clip = ops.convert_to_tensor(float("inf") if cell.cell_clip is None else cell.cell_clip, kernel.dtype)
        return peephole_lstm_steps, (kernel, recurrent_kernel, bias, peepholes, clip)
    if cell.minimal or cell.reset_after:
        # The bias of reset_after has two rows: the input's and the recurrent product's.
        biases = (bias[0], bias[1]) if cell.use_bias and cell.reset_after else (bias, zeros)
        return minimal_gru_steps if cell.minimal else gru_steps, (kernel, recurrent_kernel, *biases)
    recurrent_kernel_zr, recurrent_kernel_h = ops.split(recurrent_kernel, [2 * cell.units], axis=-1)
    return gru_reset_before_steps, (kernel, recurrent_kernel_zr, recurrent_kernel_h, bias)


def _keras_has_kernel(cell):
    """Whether Keras's LSTM or GRU kernel (cuDNN) computes this standard cell."""
    if type(cell) is LSTMCell:
        return cell.cell_clip is None
    return type(cell) is GRUCell and cell.reset_after and not cell.minimal


def _torch_has_kernel(cell):
    """Whether PyTorch's LSTM, GRU or tanh RNN kernel computes this standard cell."""
    return type(cell) is SimpleRNNCell or _keras_has_kernel(cell)


@keras.saving.register_keras_serializable(package="seqzoo")
class Recurrent(keras.layers.RNN):
    """`keras.layers.RNN` for seqzoo cells, with fused kernels and a hoisted projection.

    A standard `SimpleRNNCell`, `GRUCell` (any form), `LSTMCell` or
    `PeepholeLSTMCell` (tanh and sigmoid, not unrolled) runs as one fused
    kernel when `fused` allows: on a GPU, Keras's own for the GRU
    (`reset_after=True`, not `minimal`) and the LSTM (no `cell_clip`) when
    there is no mask and, in training, no recurrent dropout (cuDNN, exactly
    what `keras.layers.GRU` and `LSTM` run there); else, on TensorFlow and
    JAX, `seqzoo.fused`, whose backward pass gets the weights' gradients in
    one product over every step, and whose batch shards run on separate
    cores on TensorFlow. Recurrent dropout runs inside it with one mask per
    sequence, as in the step loop. On PyTorch, the SimpleRNN, the GRU
    (`reset_after=True`, not `minimal`) and the LSTM (no `cell_clip`) run
    PyTorch's own kernels (`seqzoo.fused.torch_kernels`: oneDNN on a CPU,
    cuDNN on a GPU), masks that pad sequences on one side included; other
    masks and recurrent dropout in training run step by step. The numbers
    are the cell's, masks included; see `benchmarks/RESULTS.md` for the
    speed.

    A `MinGRUCell` or `MinLSTMCell` (not unrolled), whose gates read x<t>
    only, runs its whole sequence at once on every backend: one product
    gives every step's (a<t>, b<t>), and the elementwise recurrence
    h<t> = a<t> h<t-1> + b<t> runs by the backend's own loop on a CPU and
    by a parallel (associative) scan on a GPU or TPU, in O(log T)
    sequential steps (`seqzoo.fused.scan`); on PyTorch on a GPU, where
    Keras's scan does not run, it runs step by step.

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
        fused: `"auto"` runs a fused kernel (or the minimal cells' whole-sequence form) where
            there is one for the cell and backend, `True` insists (a
            `ValueError` says why there is none), `False` always runs step
            by step.
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
            raise ValueError(f"Received fused={fused!r}; allowed: {', '.join(map(repr, FUSED_MODES))}.")
        self.hoist_inputs = hoist_inputs
        self.fused = fused
        unfusable = self._unfusable_reason()
        if fused is True and unfusable:
            raise ValueError(f"Received fused=True, but {unfusable}.")
        self._tries_fused = fused is not False and not unfusable

    def _unfusable_reason(self):
        """Why the cell has no fused kernel, or `None` if it may have one."""
        cell = self.cell
        if isinstance(cell, MinimalCell):
            return "a parallel scan does not unroll" if self.unroll else None
        if type(cell) not in FUSED_CELLS:
            return (
                "only a standard SimpleRNNCell, GRUCell, LSTMCell or PeepholeLSTMCell has a fused "
                f"kernel, and a MinGRUCell or MinLSTMCell a parallel scan (the cell is a {type(cell).__name__})"
            )
        if cell.activation is not activations.tanh:
            return "a fused kernel needs activation='tanh'"
        if not isinstance(cell, SimpleRNNCell) and cell.recurrent_activation is not activations.sigmoid:
            return "a fused kernel needs recurrent_activation='sigmoid'"
        if self.unroll:
            return "a fused kernel does not unroll"
        backend = keras.backend.backend()
        if backend == "torch" and not _torch_has_kernel(cell):
            return (
                "on the torch backend only a SimpleRNNCell, a GRUCell with reset_after=True (not "
                "minimal) and an LSTMCell without cell_clip have a fused kernel (PyTorch's)"
            )
        if backend not in (*fused.BACKENDS, "torch") and not _has_gpu():
            return (
                f"fused kernels run on {', '.join(fused.BACKENDS)} and torch, and Keras's (cuDNN) "
                f"on a GPU; the {backend} backend here has no GPU"
            )
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
            try:
                return self._fused_loop(sequences, initial_state, mask, training)
            except NotImplementedError as error:  # PyTorch's kernels or Keras's scan, for this call
                if self.fused is True:
                    raise ValueError(
                        f"Received fused=True, but {error}; pass fused='auto' to run the step loop."
                    ) from None
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
        """The whole sequence through a fused kernel or scan (`NotImplementedError` where it does not apply)."""
        cell = self.cell
        if isinstance(cell, MinimalCell):
            outputs, states = scan.run(
                cell,
                sequences,
                initial_state,
                mask=mask,
                go_backwards=self.go_backwards,
                zero_output_for_mask=self.zero_output_for_mask,
                training=training,
            )
            return outputs[:, -1], outputs, states
        if training and cell.dropout > 0:
            dropout_mask = cell.get_dropout_mask(sequences[:, 0])
            sequences = sequences * ops.expand_dims(dropout_mask, 1)
        drop = None
        if training and cell.recurrent_dropout > 0:
            drop = cell.get_recurrent_dropout_mask(initial_state[0])
        if drop is None and keras.backend.backend() != "torch" and _keras_has_kernel(cell) and _has_gpu():
            # On a CPU, Keras's kernels are step loops; on PyTorch, its kernels are PyTorch's.
            result = self._keras_fused_loop(sequences, initial_state, mask)
            if result is not None:
                return result
        steps, weights = fused_kernel(cell)
        outputs, states = fused.run(
            steps,
            sequences,
            initial_state,
            weights,
            mask=mask,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            recurrent_dropout_mask=drop,
        )
        return outputs[:, -1], outputs, states

    def _keras_fused_loop(self, sequences, initial_state, mask):
        """Keras's own LSTM or GRU kernel (cuDNN), as its layers call it, or `None`."""
        cell = self.cell
        if isinstance(cell, LSTMCell):
            kernel, states, options = backend_lstm, initial_state[:2], {}
        else:
            kernel, states, options = (
                backend_gru,
                initial_state[:1],
                {"reset_after": True},
            )
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
