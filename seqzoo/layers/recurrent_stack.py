"""A stack of recurrent layers built from one backbone description."""

import keras

from seqzoo import _compat
from seqzoo import cells
from seqzoo.layers.recurrent import Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave")


@keras.saving.register_keras_serializable(package="seqzoo")
class RecurrentStack(keras.layers.Layer):
    """`depth` recurrent layers of one seqzoo cell, one on top of the other.

    Each layer is a `seqzoo.layers.Recurrent` over a seqzoo cell (fused
    where the cell and backend have a fused kernel), wrapped in
    `keras.layers.Bidirectional` when `bidirectional=True`. Between layers
    sit dropout and, when `residual=True`, a skip connection that adds a
    layer's input to its output wherever the two have the same width (a deep
    RNN of the course with the shortcut of ResNets). Every layer but the last
    returns its whole sequence; the last returns it when
    `return_sequences=True`, else only its final output.

    Args:
        cell: `"rnn"`, `"gru"`, `"lstm"`, `"peephole"`, `"mingru"` or
            `"minlstm"` (whose layers run a parallel scan).
        units: positive integer, the size of a<t> in every layer.
        depth: number of stacked layers.
        bidirectional: whether each layer reads the sequence both ways.
        merge_mode: how the two directions combine: one of `MERGE_MODES`.
        residual: whether to add skip connections between layers of equal
            width.
        dropout: fraction of units dropped between layers, in training.
        recurrent_dropout: the cells' dropout on a<t-1>, in training.
        cell_options: further arguments of the cell, e.g.
            `{"reset_after": False}` for a GRU.
        return_sequences: whether to return every step of the last layer.
        return_state: whether to also return the final states of every
            layer, as a flat list, layer after layer (forward states before
            backward ones, as `keras.layers.Bidirectional` gives them).
        fused: whether the layers run a fused kernel where there is one, as
            in `seqzoo.layers.Recurrent`: `"auto"`, `True` or `False`.

    Example:

    >>> stack = seqzoo.layers.RecurrentStack("lstm", units=8, depth=2)
    >>> stack(np.zeros((2, 5, 3))).shape
    (2, 5, 8)
    """

    def __init__(
        self,
        cell="lstm",
        units=128,
        depth=1,
        bidirectional=False,
        merge_mode="concat",
        residual=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        cell_options=None,
        return_sequences=True,
        return_state=False,
        fused="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        cell_class = cells.get(cell)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"Received depth={depth!r}; it must be an integer >= 1.")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Received merge_mode={merge_mode!r}; allowed: {', '.join(MERGE_MODES)}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"Received dropout={dropout!r}; it must be in [0, 1).")
        self.cell = cell
        self.units = units
        self.depth = depth
        self.bidirectional = bidirectional
        self.merge_mode = merge_mode
        self.residual = residual
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.cell_options = dict(cell_options or {})
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.fused = fused
        self.supports_masking = True

        self.recurrent_layers = []
        for index in range(depth):
            last = index == depth - 1
            rnn = Recurrent(
                cell_class(
                    units,
                    recurrent_dropout=recurrent_dropout,
                    **self.cell_options,
                    name=f"{cell}_cell_{index}",
                ),
                return_sequences=return_sequences or not last,
                return_state=True,
                hoist_inputs=False,
                fused=fused,
                name=f"rnn_{index}",
            )
            if bidirectional:
                with _compat.independent_copies():
                    rnn = keras.layers.Bidirectional(rnn, merge_mode=merge_mode, name=f"bidirectional_{index}")
            self.recurrent_layers.append(rnn)
        self.dropout_layer = keras.layers.Dropout(dropout) if dropout else None

    @property
    def output_width(self):
        """The size of each output step."""
        doubled = self.bidirectional and self.merge_mode == "concat"
        return self.units * (2 if doubled else 1)

    @property
    def cells(self):
        """The forward cells, bottom layer first."""
        return [(layer.forward_layer if self.bidirectional else layer).cell for layer in self.recurrent_layers]

    def _has_skip(self, index, input_width):
        """Whether layer `index` adds its input: between recurrent layers, over sequences of equal width."""
        returns_sequence = self.return_sequences or index < self.depth - 1
        return self.residual and index > 0 and returns_sequence and input_width == self.output_width

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.recurrent_layers:
            layer.build(shape)
            shape = shape[:-1] + (self.output_width,)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        """Runs the stack.

        Args:
            inputs: `(batch, time, features)`.
            mask: optional `(batch, time)` booleans; masked steps carry the
                state through.
            training: whether dropout is active.
            initial_state: optional list with one list of states per layer.
        """
        x = inputs
        final_states = []
        for index, layer in enumerate(self.recurrent_layers):
            if index > 0 and self.dropout_layer is not None:
                x = self.dropout_layer(x, training=training)
            result = layer(
                x,
                mask=mask,
                training=training,
                initial_state=None if initial_state is None else initial_state[index],
            )
            output, states = result[0], list(result[1:])
            if self._has_skip(index, x.shape[-1]):
                output = output + x
            final_states.extend(states)
            x = output
        if self.return_state:
            return [x] + final_states
        return x

    def compute_mask(self, inputs, mask=None):
        if self.return_state:
            return [mask if self.return_sequences else None] + [None] * self.state_count
        return mask if self.return_sequences else None

    @property
    def state_count(self):
        """How many state tensors `call` returns with `return_state=True`."""
        per_cell = len(self.state_sizes_per_layer[0])
        return self.depth * per_cell * (2 if self.bidirectional else 1)

    @property
    def state_sizes_per_layer(self):
        """Each layer's state sizes, forward direction."""
        sizes = []
        for cell in self.cells:
            size = cell.state_size
            sizes.append(list(size) if isinstance(size, (list, tuple)) else [size])
        return sizes

    def get_initial_state(self, batch_size):
        """Zero states for `step`: one list per layer."""
        return [cell.get_initial_state(batch_size) for cell in self.cells]

    def step(self, inputs, states):
        """Advances a unidirectional stack by one time step, in inference mode.

        This is the course's sampling loop: O(1) work per generated token.

        Args:
            inputs: x<t>, shape `(batch, features)`.
            states: one list of states per layer, as from `get_initial_state`.

        Returns:
            `(output, new_states)`: the top layer's a<t> and the new states.
        """
        if self.bidirectional:
            raise ValueError(
                "A bidirectional stack reads the whole sequence both ways and "
                "cannot be stepped one token at a time; use bidirectional=False "
                "for a model that generates autoregressively."
            )
        x = inputs
        new_states = []
        for index, cell in enumerate(self.cells):
            output, cell_states = cell(x, list(states[index]), training=False)
            cell_states = cell_states if isinstance(cell_states, (list, tuple)) else [cell_states]
            if self._has_skip(index, x.shape[-1]):
                output = output + x
            new_states.append(list(cell_states))
            x = output
        return x, new_states

    def compute_output_shape(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        output = (batch, time, self.output_width) if self.return_sequences else (batch, self.output_width)
        if not self.return_state:
            return output
        state_shapes = []
        for sizes in self.state_sizes_per_layer:
            state_shapes.extend([(batch, size) for size in sizes] * (2 if self.bidirectional else 1))
        return [output] + state_shapes

    def get_config(self):
        config = {
            "cell": self.cell,
            "units": self.units,
            "depth": self.depth,
            "bidirectional": self.bidirectional,
            "merge_mode": self.merge_mode,
            "residual": self.residual,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "cell_options": self.cell_options,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "fused": self.fused,
        }
        return {**super().get_config(), **config}
