"""The basic RNN cell of the course: a<t> = g(Wa [a<t-1>, x<t>] + ba)."""

import keras
from keras import ops

from seqzoo.cells.base import RecurrentCell


@keras.saving.register_keras_serializable(package="seqzoo")
class SimpleRNNCell(RecurrentCell):
    """One step of a fully connected RNN, as in `keras.layers.SimpleRNNCell`.

    In the course's notation, with column vectors,

        a<t> = g(Waa a<t-1> + Wax x<t> + ba) = g(Wa [a<t-1>, x<t>] + ba)

    where Wa = [Waa | Wax] stacks the two matrices side by side. Keras stores
    the transposes, acting on row vectors: `kernel` is Wax^T, of shape
    `(input_dim, units)`, and `recurrent_kernel` is Waa^T, of shape
    `(units, units)`; `stacked_kernel` gives Wa itself. The output y<t> of the
    course is a head on a<t> (e.g. a `Dense` layer), not part of the cell.

    Args:
        units: positive integer, the size of a<t>.
        activation: g, default `"tanh"`.
        use_bias: whether to add ba.
        kernel_initializer, recurrent_initializer, bias_initializer:
            initializers of Wax^T, Waa^T and ba.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint:
            as in Keras.
        dropout: fraction of x<t> units to drop, in training only.
        recurrent_dropout: fraction of a<t-1> units to drop, in training only.
        seed: seed of the dropout masks.

    Example:

    >>> rnn = keras.layers.RNN(seqzoo.cells.SimpleRNNCell(4))
    >>> rnn(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    gate_names = ("candidate",)

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.state_size = units

    @property
    def stacked_kernel(self):
        """Wa = [Waa | Wax], shape `(units, units + input_dim)`."""
        return ops.concatenate(
            [ops.transpose(self.recurrent_kernel), ops.transpose(self.kernel)],
            axis=1,
        )

    def _step(self, projected_inputs, states, training):
        a_prev = states[0] if isinstance(states, (list, tuple)) else states
        a_prev = self.drop_recurrent(a_prev, training)
        a = self.activation(projected_inputs + ops.matmul(a_prev, self.recurrent_kernel))
        new_states = [a] if isinstance(states, (list, tuple)) else a
        return a, new_states, {"candidate": a}
