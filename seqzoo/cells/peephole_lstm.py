"""The LSTM cell with peephole connections from the memory cell to the gates."""

import keras
from keras import constraints
from keras import initializers
from keras import regularizers

from seqzoo.cells.lstm import LSTMCell


@keras.saving.register_keras_serializable(package="seqzoo")
class PeepholeLSTMCell(LSTMCell):
    """One step of an LSTM whose gates also see the memory cell c.

    As in Gers & Schmidhuber (2000) and Sak et al. (2014), and as TF Addons'
    `PeepholeLSTMCell` did, the input and forget gates see c<t-1> and the
    output gate sees the new c<t>, through diagonal (elementwise) weights:

        Γu = σ(Wu [a<t-1>, x<t>] + pu * c<t-1> + bu)
        Γf = σ(Wf [a<t-1>, x<t>] + pf * c<t-1> + bf)
        c<t> = Γu * c̃<t> + Γf * c<t-1>
        Γo = σ(Wo [a<t-1>, x<t>] + po * c<t> + bo)

    The three vectors are the weights `input_gate_peephole_weights`,
    `forget_gate_peephole_weights` and `output_gate_peephole_weights`, each
    of shape `(units,)`; all other weights are those of `LSTMCell`, so with
    zero peepholes this cell equals `LSTMCell` (and Keras's).

    Args:
        units: positive integer, the size of a<t> and c<t>.
        peephole_initializer: initializer of the three peephole vectors,
            default `"glorot_uniform"`.
        peephole_regularizer, peephole_constraint: as for the other weights.
        **kwargs: the arguments of `LSTMCell`.

    Example:

    >>> rnn = keras.layers.RNN(seqzoo.cells.PeepholeLSTMCell(4))
    >>> rnn(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(
        self,
        units,
        peephole_initializer="glorot_uniform",
        peephole_regularizer=None,
        peephole_constraint=None,
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        self.peephole_initializer = initializers.get(peephole_initializer)
        self.peephole_regularizer = regularizers.get(peephole_regularizer)
        self.peephole_constraint = constraints.get(peephole_constraint)

    def build(self, input_shape):
        super().build(input_shape)
        for gate in ("input", "forget", "output"):
            weight = self.add_weight(
                shape=(self.units,),
                name=f"{gate}_gate_peephole_weights",
                initializer=self.peephole_initializer,
                regularizer=self.peephole_regularizer,
                constraint=self.peephole_constraint,
            )
            setattr(self, f"{gate}_gate_peephole_weights", weight)

    def _peepholes(self, c_prev):
        return (
            self.input_gate_peephole_weights * c_prev,
            self.forget_gate_peephole_weights * c_prev,
        )

    def _output_peephole(self, c):
        return self.output_gate_peephole_weights * c

    def get_config(self):
        config = {
            "peephole_initializer": initializers.serialize(self.peephole_initializer),
            "peephole_regularizer": regularizers.serialize(self.peephole_regularizer),
            "peephole_constraint": constraints.serialize(self.peephole_constraint),
        }
        return {**super().get_config(), **config}
