"""The gated recurrent unit: update gate Γu and relevance (reset) gate Γr."""

import keras
from keras import ops

from seqzoo.cells.base import RecurrentCell
from seqzoo.cells.base import get_activation


@keras.saving.register_keras_serializable(package="seqzoo")
class GRUCell(RecurrentCell):
    """One GRU step, with Keras's `keras.layers.GRUCell` weights and numbers.

    The course writes, with c<t> = a<t>,

        Γu = σ(Wu [c<t-1>, x<t>] + bu)
        Γr = σ(Wr [c<t-1>, x<t>] + br)
        c̃<t> = tanh(Wc [Γr * c<t-1>, x<t>] + bc)
        c<t> = Γu * c̃<t> + (1 - Γu) * c<t-1>

    Keras (like cuDNN and PyTorch) names the update gate z and writes
    c<t> = z * c<t-1> + (1 - z) * c̃<t>, so Keras's z is the course's 1 - Γu;
    this cell follows Keras so that weights copy one to one. Gates are laid
    out side by side in Keras's order z, r, h.

    `reset_after=True` (Keras's default, the cuDNN/PyTorch form) applies Γr
    after the recurrent matrix product, Γr * (Wc c<t-1> + bc'), with a second
    bias row; `reset_after=False` is the course's form above. `minimal=True`
    drops Γr altogether (the course's simplified GRU): c̃<t> = tanh(Wc
    [c<t-1>, x<t>] + bc), with gates z, h only.

    Args:
        units: positive integer, the size of c<t>.
        activation: for c̃<t>, default `"tanh"`.
        recurrent_activation: σ of the gates, default `"sigmoid"`.
        reset_after: where Γr is applied, as above.
        minimal: whether to drop Γr.
        **kwargs: the other arguments of `keras.layers.GRUCell`
            (`use_bias`, initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout`, `seed`).

    Example:

    >>> rnn = keras.layers.RNN(seqzoo.cells.GRUCell(4, reset_after=False))
    >>> rnn(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        reset_after=True,
        minimal=False,
        **kwargs,
    ):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = get_activation(recurrent_activation, "recurrent_activation")
        self.reset_after = reset_after
        self.minimal = minimal
        self.state_size = units

    @property
    def gate_names(self):
        return ("update", "candidate") if self.minimal else ("update", "reset", "candidate")

    def _bias_shape(self):
        width = self.gate_count * self.units
        return (2, width) if self.reset_after else (width,)

    @property
    def input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _step(self, projected_inputs, states, training):
        c_prev = states[0] if isinstance(states, (list, tuple)) else states
        dropped = self.drop_recurrent(c_prev, training)
        # `ops.split`, not slicing: in a TensorFlow loop the gradient of each
        # slice is a zero-padded copy of the whole tensor per step (0.8x
        # Keras's GRU); that of a split is one concatenation (1.2x).
        x_parts = ops.split(projected_inputs, self.gate_count, axis=-1)
        # Γr before the product (the course's form) needs a second product for
        # the candidate; otherwise one product serves every gate, as in Keras.
        reset_before = not self.minimal and not self.reset_after
        kernel = self.recurrent_kernel
        if reset_before:
            kernel, candidate_kernel = ops.split(kernel, [2 * self.units], axis=-1)
        recurrent = ops.matmul(dropped, kernel)
        if self.use_bias and self.reset_after:
            recurrent = recurrent + self.bias[1]
        recurrent_parts = ops.split(recurrent, kernel.shape[-1] // self.units, axis=-1)
        z = self.recurrent_activation(x_parts[0] + recurrent_parts[0])
        recorded = {"update": z}
        if self.minimal:
            recurrent_candidate = recurrent_parts[1]
        else:
            r = self.recurrent_activation(x_parts[1] + recurrent_parts[1])
            recorded["reset"] = r
            if reset_before:
                recurrent_candidate = ops.matmul(r * dropped, candidate_kernel)
            else:
                recurrent_candidate = r * recurrent_parts[2]
        candidate = self.activation(x_parts[-1] + recurrent_candidate)
        recorded["candidate"] = candidate
        c = z * c_prev + (1.0 - z) * candidate
        new_states = [c] if isinstance(states, (list, tuple)) else c
        return c, new_states, recorded

    def get_config(self):
        config = {
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
            "minimal": self.minimal,
        }
        return {**super().get_config(), **config}
