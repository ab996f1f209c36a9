"""The long short-term memory cell: update, forget and output gates."""

import keras
from keras import initializers
from keras import ops

from seqzoo.cells.base import RecurrentCell
from seqzoo.cells.base import get_activation


@keras.saving.register_keras_serializable(package="seqzoo")
class LSTMCell(RecurrentCell):
    """One LSTM step, with Keras's `keras.layers.LSTMCell` weights and numbers.

    In the course's notation, with a<t> the output and c<t> the memory cell,

        Γu = σ(Wu [a<t-1>, x<t>] + bu)          (Keras: input gate i)
        Γf = σ(Wf [a<t-1>, x<t>] + bf)          (forget gate f)
        c̃<t> = tanh(Wc [a<t-1>, x<t>] + bc)     (candidate c)
        Γo = σ(Wo [a<t-1>, x<t>] + bo)          (output gate o)
        c<t> = Γu * c̃<t> + Γf * c<t-1>
        a<t> = Γo * tanh(c<t>)

    Gates lie side by side in Keras's order i, f, c, o. The states are
    `[a<t>, c<t>]`.

    Args:
        units: positive integer, the size of a<t> and c<t>.
        activation: for c̃<t> and for c<t> before Γo, default `"tanh"`.
        recurrent_activation: σ of the gates, default `"sigmoid"`.
        unit_forget_bias: add 1 to bf at initialization (Jozefowicz et al.
            2015), as Keras does.
        cell_clip: if set, c<t> is clipped to `[-cell_clip, cell_clip]`
            before a<t> is computed (as in TF1's LSTMCell).
        **kwargs: the other arguments of `keras.layers.LSTMCell`
            (`use_bias`, initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout`, `seed`).

    Example:

    >>> rnn = keras.layers.RNN(seqzoo.cells.LSTMCell(4))
    >>> rnn(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    gate_names = ("input", "forget", "candidate", "output")

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        cell_clip=None,
        **kwargs,
    ):
        super().__init__(units, activation=activation, **kwargs)
        if cell_clip is not None and not cell_clip > 0:
            raise ValueError(f"Received cell_clip={cell_clip!r}; it must be positive or None.")
        self.recurrent_activation = get_activation(recurrent_activation, "recurrent_activation")
        self.unit_forget_bias = unit_forget_bias
        self.cell_clip = cell_clip
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units = self.units

        def bias_initializer(_, *args, **kwargs):
            return ops.concatenate(
                [
                    self.bias_initializer((units,), *args, **kwargs),
                    initializers.get("ones")((units,), *args, **kwargs),
                    self.bias_initializer((units * 2,), *args, **kwargs),
                ]
            )

        return bias_initializer

    def _peepholes(self, c_prev):
        """Peephole terms for the input and forget gates; none in a plain LSTM."""
        return 0.0, 0.0

    def _output_peephole(self, c):
        return 0.0

    def _step(self, projected_inputs, states, training):
        a_prev, c_prev = states[0], states[1]
        z = projected_inputs + ops.matmul(self.drop_recurrent(a_prev, training), self.recurrent_kernel)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        peep_i, peep_f = self._peepholes(c_prev)
        i = self.recurrent_activation(z_i + peep_i)
        f = self.recurrent_activation(z_f + peep_f)
        candidate = self.activation(z_c)
        c = f * c_prev + i * candidate
        if self.cell_clip is not None:
            c = ops.clip(c, -self.cell_clip, self.cell_clip)
        o = self.recurrent_activation(z_o + self._output_peephole(c))
        a = o * self.activation(c)
        gates = {"input": i, "forget": f, "candidate": candidate, "output": o}
        return a, [a, c], gates

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "cell_clip": self.cell_clip,
        }
        return {**super().get_config(), **config}
