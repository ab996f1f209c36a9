"""The minimal LSTM of Feng et al. 2024: normalized forget and input gates from x<t> alone."""

import keras
from keras import ops

from seqzoo.cells.minimal import MinimalCell


@keras.saving.register_keras_serializable(package="seqzoo")
class MinLSTMCell(MinimalCell):
    """One minLSTM step ("Were RNNs All We Needed?", Feng et al. 2024).

    The course's LSTM with the state taken out of its gates, no output gate
    Γo and no separate memory (a<t> = c<t>), and the forget and update gates
    normalized to sum to one, so the state's scale does not depend on time:

        Γu = σ(Wu x<t> + bu)                       (Keras: input gate i)
        Γf = σ(Wf x<t> + bf)                       (forget gate f)
        Γf' = Γf / (Γf + Γu),   Γu' = Γu / (Γf + Γu)
        c̃<t> = g(Wc x<t> + bc)
        c<t> = Γf' * c<t-1> + Γu' * c̃<t>

    with g(x) = x + 0.5 for x >= 0 and σ(x) below. The normalized gates are
    computed from the gates' logs, Γf' = σ(log Γf - log Γu), which never
    divides 0 by 0. So c<t> = a<t> * c<t-1> + b<t> with a<t> = Γf' and
    b<t> = Γu' * c̃<t>, which `seqzoo.layers.Recurrent` computes for every t
    after one product (`seqzoo.fused.scan`): with d = log Γu -
    log Γf = softplus(-zf) - softplus(-zu), a<t> = σ(-d) and b<t> =
    σ(d) g(zc).

    Weights: `kernel` `(input_dim, 3 * units)` and `bias` `(3 * units,)`,
    gates side by side in Keras's LSTM order i (update), f (forget), c
    (candidate); there is no `recurrent_kernel` and no output gate. The
    recorded gates (`gate_activations`) are the normalized Γu', Γf'.

    Args:
        units: positive integer, the size of c<t>.
        **kwargs: as for `MinGRUCell` (`use_bias`, the kernel's and bias's
            initializers, regularizers and constraints, `dropout` on x<t>,
            `seed`).

    Example:

    >>> rnn = keras.layers.RNN(seqzoo.cells.MinLSTMCell(4))
    >>> rnn(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    gate_names = ("input", "forget", "candidate")

    def _log_gate_difference(self, z_i, z_f):
        """d = log Γu - log Γf, from the pre-activations."""
        return ops.softplus(-z_f) - ops.softplus(-z_i)

    def _step(self, projected_inputs, states, training):
        c_prev = states[0] if isinstance(states, (list, tuple)) else states
        z_i, z_f, z_c = ops.split(projected_inputs, 3, axis=-1)
        difference = self._log_gate_difference(z_i, z_f)
        forget = ops.sigmoid(-difference)
        update = ops.sigmoid(difference)
        candidate = self.activation(z_c)
        c = forget * c_prev + update * candidate
        new_states = [c] if isinstance(states, (list, tuple)) else c
        return c, new_states, {"input": update, "forget": forget, "candidate": candidate}

    def scan_coefficients(self, projected_inputs):
        z_i, z_f, z_c = ops.split(projected_inputs, 3, axis=-1)
        difference = self._log_gate_difference(z_i, z_f)
        return ops.sigmoid(-difference), ops.sigmoid(difference) * self.activation(z_c)
