"""seqzoo's recurrent cells: one time step each, with Keras's weight layout."""

from seqzoo.cells.gru import GRUCell
from seqzoo.cells.lstm import LSTMCell
from seqzoo.cells.mingru import MinGRUCell
from seqzoo.cells.minimal import MinimalCell
from seqzoo.cells.minlstm import MinLSTMCell
from seqzoo.cells.peephole_lstm import PeepholeLSTMCell
from seqzoo.cells.simple_rnn import SimpleRNNCell
from seqzoo.errors import unknown_name_error

CELLS = {
    "rnn": SimpleRNNCell,
    "gru": GRUCell,
    "lstm": LSTMCell,
    "peephole": PeepholeLSTMCell,
    "mingru": MinGRUCell,
    "minlstm": MinLSTMCell,
}


def get(name):
    """Returns the cell class for `"rnn"`, `"gru"`, `"lstm"`, `"peephole"`, `"mingru"` or `"minlstm"`."""
    if name not in CELLS:
        raise unknown_name_error("cell", name, CELLS)
    return CELLS[name]


__all__ = [
    "SimpleRNNCell",
    "GRUCell",
    "LSTMCell",
    "PeepholeLSTMCell",
    "MinGRUCell",
    "MinLSTMCell",
    "MinimalCell",
    "CELLS",
    "get",
]
