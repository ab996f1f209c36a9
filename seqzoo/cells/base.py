"""The shared machinery of seqzoo's recurrent cells."""

import numbers

import keras
from keras import activations
from keras import constraints
from keras import initializers
from keras import ops
from keras import regularizers

from seqzoo._compat import DropoutRNNCell
from seqzoo.errors import unknown_name_error

_ACTIVATION_NAMES = sorted(
    name
    for name in dir(keras.activations)
    if not name.startswith("_") and name not in ("get", "serialize", "deserialize")
)


def get_activation(identifier, argument):
    """Resolves an activation, or raises a `ValueError` naming the allowed ones."""
    try:
        return activations.get(identifier)
    except (ValueError, TypeError):
        raise unknown_name_error(f"activation for `{argument}`", identifier, _ACTIVATION_NAMES) from None


class RecurrentCell(keras.layers.Layer, DropoutRNNCell):
    """Base class of a one-step recurrent cell with Keras's weight layout.

    A cell holds `kernel` of shape `(input_dim, gates * units)`,
    `recurrent_kernel` of shape `(units, gates * units)` and `bias`, with the
    gates side by side in Keras's order, so weights copy one to one between a
    Keras cell and a seqzoo cell.

    A step is split in two: `project_inputs` (the input's share, x<t> Wx + b,
    which does not depend on the state and so can be computed for every time
    step in one matrix product) and `step` (everything that does). `call` runs
    both, so the cell works inside `keras.layers.RNN` like any Keras cell.

    Subclasses set `gate_names` and implement `_step`; a cell whose gates
    read x<t> only sets `has_recurrent_kernel = False` and holds no
    `recurrent_kernel`.
    """

    gate_names = ()
    has_recurrent_kernel = True

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"Received units={units!r}; `units` must be a positive integer.")
        for argument, rate in (
            ("dropout", dropout),
            ("recurrent_dropout", recurrent_dropout),
        ):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"Received {argument}={rate!r}; it must be in [0, 1).")
        super().__init__(**kwargs)
        self.units = int(units)  # a NumPy integer would not serialize to JSON
        self.activation = get_activation(activation, "activation")
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.output_size = units

    @property
    def gate_count(self):
        return len(self.gate_names)

    def build(self, input_shape):
        if len(input_shape) != 2:
            shape = tuple(input_shape)
            # keras.layers.RNN builds its cell with (batch,) + sequence[2:],
            # so also name the sequence shape that such a step comes from.
            sequence = ", ".join([str(shape[0]) if shape else "batch", "time"] + [str(d) for d in shape[1:]])
            raise ValueError(
                f"{type(self).__name__} processes one time step of shape "
                f"(batch, features) and a sequence layer such as "
                f"keras.layers.RNN takes (batch, time, features); received a "
                f"step of shape {shape} (inside keras.layers.RNN, a sequence "
                f"of shape ({sequence}))."
            )
        width = self.gate_count * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.has_recurrent_kernel:
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, width),
                name="recurrent_kernel",
                initializer=self.recurrent_initializer,
                regularizer=self.recurrent_regularizer,
                constraint=self.recurrent_constraint,
            )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _bias_shape(self):
        return (self.gate_count * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    @property
    def input_bias(self):
        """The bias added to the input projection, or `None`."""
        return self.bias

    def project_inputs(self, inputs, training=False):
        """The input's share of every gate: x<t> Wx + b (after input dropout).

        Works on one step `(batch, features)` or on a whole sequence
        `(batch, time, features)` at once.
        """
        if training and self.dropout > 0:
            mask = self.get_dropout_mask(inputs[:, 0] if len(inputs.shape) == 3 else inputs)
            inputs = inputs * (mask[:, None] if len(inputs.shape) == 3 else mask)
        projected = ops.matmul(inputs, self.kernel)
        if self.input_bias is not None:
            projected = projected + self.input_bias
        return projected

    def drop_recurrent(self, state, training):
        """Applies the recurrent dropout mask to a<t-1> in training."""
        if training and self.recurrent_dropout > 0:
            return state * self.get_recurrent_dropout_mask(state)
        return state

    def step(self, projected_inputs, states, training=False):
        """One time step from projected inputs; returns `(output, new_states)`."""
        output, new_states, _ = self._step(projected_inputs, states, training)
        return output, new_states

    def call(self, inputs, states, training=False):
        return self.step(self.project_inputs(inputs, training), states, training)

    def gate_activations(self, inputs, states):
        """The gates of one inference step, as a dict of `(batch, units)` tensors.

        Args:
            inputs: x<t>, shape `(batch, features)`.
            states: the states before the step, as `call` takes them.

        Returns:
            A dict from gate name (e.g. `"forget"`) to its activation.
        """
        return self._step(self.project_inputs(inputs), states, False)[2]

    def _step(self, projected_inputs, states, training):
        """Returns `(output, new_states, gates)`; implemented by each cell."""
        raise NotImplementedError

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
