"""The minimal GRU of Feng et al. 2024: an update gate and a candidate, both from x<t> alone."""

import keras
from keras import ops

from seqzoo.cells.minimal import MinimalCell


@keras.saving.register_keras_serializable(package="seqzoo")
class MinGRUCell(MinimalCell):
    """One minGRU step ("Were RNNs All We Needed?", Feng et al. 2024).

    The course's GRU with the state taken out of its gates: no relevance
    gate Γr, and Γu and the candidate read x<t> only,

        Γu = σ(Wu x<t> + bu)                       (the paper's z<t>)
        c̃<t> = g(Wc x<t> + bc)
        c<t> = (1 - Γu) * c<t-1> + Γu * c̃<t>

    with g(x) = x + 0.5 for x >= 0 and σ(x) below (the paper's positive
    activation; c<t> = a<t> is both state and output). Unlike Keras's GRU,
    whose z is the course's 1 - Γu, the gate here is Γu itself, as in the
    paper. So c<t> = a<t> * c<t-1> + b<t> with a<t> = 1 - Γu and b<t> =
    Γu * c̃<t> = σ(zu) g(zc), which `seqzoo.layers.Recurrent` computes for
    every t after one product (`seqzoo.fused.scan`), with a<t> as
    σ(-zu) rather than 1 - σ(zu).

    Weights: `kernel` `(input_dim, 2 * units)` and `bias` `(2 * units,)`,
    gates side by side in the order u (update), c (candidate); there is no
    `recurrent_kernel`.

    Args:
        units: positive integer, the size of c<t>.
        use_bias: whether to add bu and bc.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: as in Keras.
        dropout: fraction of x<t> units to drop, in training only (one mask
            per sequence).
        seed: seed of the dropout mask.

    Example:

    >>> rnn = keras.layers.RNN(seqzoo.cells.MinGRUCell(4))
    >>> rnn(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    gate_names = ("update", "candidate")

    def _step(self, projected_inputs, states, training):
        c_prev = states[0] if isinstance(states, (list, tuple)) else states
        z_u, z_c = ops.split(projected_inputs, 2, axis=-1)
        update = ops.sigmoid(z_u)
        candidate = self.activation(z_c)
        c = (1.0 - update) * c_prev + update * candidate
        new_states = [c] if isinstance(states, (list, tuple)) else c
        return c, new_states, {"update": update, "candidate": candidate}

    def scan_coefficients(self, projected_inputs):
        z_u, z_c = ops.split(projected_inputs, 2, axis=-1)
        return ops.sigmoid(-z_u), ops.sigmoid(z_u) * self.activation(z_c)
