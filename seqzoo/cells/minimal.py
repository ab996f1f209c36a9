"""The shared machinery of the minimal cells (Feng et al. 2024), whose gates read x<t> only."""

import keras
from keras import ops

from seqzoo.cells.base import RecurrentCell

# Options of `RecurrentCell` that a cell without a recurrent kernel cannot honour.
RECURRENT_OPTIONS = ("recurrent_initializer", "recurrent_regularizer", "recurrent_constraint")


@keras.saving.register_keras_serializable(package="seqzoo")
def g(x):
    """The minimal cells' candidate activation: x + 0.5 for x >= 0, σ(x) below.

    Continuous at 0 (σ(0) = 0.5), positive everywhere, and linear for large x,
    so a candidate h̃<t> is never negative and a state is not squashed.
    """
    return ops.where(x >= 0, x + 0.5, ops.sigmoid(x))


class MinimalCell(RecurrentCell):
    """Base class of a cell whose step is h<t> = a<t> * h<t-1> + b<t>, a<t> and b<t> from x<t> alone.

    Because no gate reads h<t-1>, the cell has no `recurrent_kernel`, and a
    whole sequence can run at once: `seqzoo.layers.Recurrent` computes every
    (a<t>, b<t>) in one product over every step (`scan_coefficients`) and the
    elementwise recurrence by a loop on a CPU, a parallel scan on a GPU
    (`seqzoo.fused.scan`). In
    `keras.layers.RNN` the cell runs step by step, O(1) per token, as
    generation needs. The candidate's activation is the paper's `g`, fixed:
    g is what keeps the paper's log-space form defined (h̃ > 0); the scan
    here runs in linear space (see `seqzoo.fused.scan` for why).

    Options of the course's cells that cannot apply (`activation`,
    `recurrent_initializer`, `recurrent_regularizer`,
    `recurrent_constraint`, and a `recurrent_dropout` other than 0) are
    errors. Subclasses set `gate_names` and implement `_step` and
    `scan_coefficients`.
    """

    has_recurrent_kernel = False

    def __init__(self, units, **kwargs):
        name = type(self).__name__
        if "activation" in kwargs:
            raise ValueError(
                f"Received activation={kwargs['activation']!r}; {name}'s candidate activation is "
                "the paper's g (x + 0.5 for x >= 0, sigmoid below), fixed: `activation` does not apply."
            )
        for option in RECURRENT_OPTIONS:
            if option in kwargs:
                raise ValueError(
                    f"Received {option}={kwargs[option]!r}; {name} has no recurrent kernel (its gates "
                    f"read x<t> only), so `{option}` does not apply."
                )
        if kwargs.get("recurrent_dropout", 0.0) != 0.0:
            raise ValueError(
                f"Received recurrent_dropout={kwargs['recurrent_dropout']!r}; {name} has no recurrent "
                "kernel to drop a<t-1> before (its gates read x<t> only); allowed: 0. Use `dropout` "
                "on x<t>, or dropout between layers."
            )
        super().__init__(units, activation=g, **kwargs)
        self.state_size = self.units

    def scan_coefficients(self, projected_inputs):
        """`(a<t>, b<t>)` of h<t> = a<t> h<t-1> + b<t>, from x<t> Wx + b of any shape.

        a<t> lies in (0, 1) and b<t> >= 0 (g is positive); each is computed
        as one sigmoid of the pre-activations (σ(-z), not 1 - σ(z)), so
        neither loses digits to a cancellation.
        """
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        for option in ("activation", *RECURRENT_OPTIONS, "recurrent_dropout"):
            del config[option]
        return config
