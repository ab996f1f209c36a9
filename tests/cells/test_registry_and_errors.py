"""seqzoo.cells.get and the errors a user sees for bad arguments and inputs."""

import re

import keras
import numpy as np
import pytest

import seqzoo.cells
from seqzoo.cells import GRUCell
from seqzoo.cells import LSTMCell
from seqzoo.cells import MinGRUCell
from seqzoo.cells import MinLSTMCell
from seqzoo.cells import PeepholeLSTMCell
from seqzoo.cells import SimpleRNNCell

CLASSES = [SimpleRNNCell, GRUCell, LSTMCell, PeepholeLSTMCell]
CLASS_IDS = [cls.__name__ for cls in CLASSES]


@pytest.mark.parametrize(
    "name, cls",
    [
        ("rnn", SimpleRNNCell),
        ("gru", GRUCell),
        ("lstm", LSTMCell),
        ("peephole", PeepholeLSTMCell),
        ("mingru", MinGRUCell),
        ("minlstm", MinLSTMCell),
    ],
)
def test_get_returns_the_class(name, cls):
    assert seqzoo.cells.get(name) is cls


@pytest.mark.parametrize(
    "name, closest",
    [("lstn", "lstm"), ("gur", "gru"), ("rn", "rnn"), ("peep_hole", "peephole"), ("min_gru", "mingru")],
)
def test_get_unknown_name_names_it_and_the_closest(name, closest):
    with pytest.raises(ValueError) as info:
        seqzoo.cells.get(name)
    message = str(info.value)
    assert repr(name) in message
    assert f"Did you mean {closest!r}" in message
    for known in ("rnn", "gru", "lstm", "peephole"):
        assert known in message


def test_get_far_off_name_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"'transformer'.*Allowed: gru, lstm, mingru, minlstm, peephole, rnn"):
        seqzoo.cells.get("transformer")


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
@pytest.mark.parametrize("units", [0, -3, 2.5, "4", None, True])
def test_bad_units(cls, units):
    with pytest.raises(ValueError, match=re.escape(f"units={units!r}")):
        cls(units)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_unknown_activation_suggests_the_closest(cls):
    with pytest.raises(ValueError, match=r"'tanhh'.*Did you mean 'tanh'"):
        cls(4, activation="tanhh")


@pytest.mark.parametrize("cls", [GRUCell, LSTMCell, PeepholeLSTMCell], ids=CLASS_IDS[1:])
def test_unknown_recurrent_activation_suggests_the_closest(cls):
    with pytest.raises(ValueError, match=r"`recurrent_activation` 'sigmoidd'.*Did you mean 'sigmoid'"):
        cls(4, recurrent_activation="sigmoidd")


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
@pytest.mark.parametrize(
    "argument, rate",
    [("dropout", 1.5), ("dropout", -0.1), ("dropout", 1.0), ("recurrent_dropout", 1.5)],
)
def test_bad_dropout_rate(cls, argument, rate):
    with pytest.raises(ValueError, match=re.escape(f"{argument}={rate!r}")):
        cls(4, **{argument: rate})


@pytest.mark.parametrize("cls", [LSTMCell, PeepholeLSTMCell], ids=CLASS_IDS[2:])
@pytest.mark.parametrize("clip", [0.0, -1.0])
def test_bad_cell_clip(cls, clip):
    with pytest.raises(ValueError, match=re.escape(f"cell_clip={clip!r}")):
        cls(4, cell_clip=clip)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_four_d_sequence_into_rnn_names_the_received_shape(cls):
    # keras.layers.RNN itself checks nothing: it builds the cell with the
    # step shape (batch,) + sequence_shape[2:], so the cell's error is the one
    # the user sees. It names the step it received and the sequence shape
    # that step came from (time unknown to the cell).
    sequences = np.zeros((3, 5, 7, 2), "float32")
    with pytest.raises(ValueError, match=re.escape("(3, 7, 2)")) as info:
        keras.layers.RNN(cls(4))(sequences)
    assert cls.__name__ in str(info.value)
    assert "(3, time, 7, 2)" in str(info.value)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_two_d_sequence_into_rnn_names_the_received_shape(cls):
    with pytest.raises(ValueError, match=re.escape("(3, time)")):
        keras.layers.RNN(cls(4))(np.zeros((3, 5), "float32"))


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_sequence_into_the_cell_names_the_received_shape(cls):
    cell = cls(4)
    states = [np.zeros((3, 4), "float32")] * (2 if cls in (LSTMCell, PeepholeLSTMCell) else 1)
    with pytest.raises(ValueError, match=re.escape("(3, 7, 5)")) as info:
        cell(np.zeros((3, 7, 5), "float32"), states)
    assert "(batch, features)" in str(info.value)


MINIMAL = [MinGRUCell, MinLSTMCell]


@pytest.mark.parametrize("cls", MINIMAL, ids=[cls.__name__ for cls in MINIMAL])
@pytest.mark.parametrize(
    "argument, value",
    [
        ("activation", "tanh"),
        ("recurrent_initializer", "orthogonal"),
        ("recurrent_regularizer", "l2"),
        ("recurrent_constraint", "max_norm"),
        ("recurrent_dropout", 0.2),
    ],
)
def test_options_a_minimal_cell_cannot_apply_are_errors(cls, argument, value):
    with pytest.raises(ValueError, match=re.escape(f"Received {argument}={value!r}; {cls.__name__}")):
        cls(4, **{argument: value})


@pytest.mark.parametrize("cls", MINIMAL, ids=[cls.__name__ for cls in MINIMAL])
def test_minimal_cell_config_round_trips_without_the_options_it_refuses(cls):
    cell = cls(4, dropout=0.25, use_bias=False, seed=3, recurrent_dropout=0.0)
    config = cell.get_config()
    assert not {"activation", "recurrent_initializer", "recurrent_dropout"} & set(config)
    again = cls.from_config(config)
    assert (again.units, again.dropout, again.use_bias, again.seed) == (4, 0.25, False, 3)
    with pytest.raises(ValueError, match=re.escape("units=0")):
        cls(0)
