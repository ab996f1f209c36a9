"""get_config round trips and `.keras` save/load with identical predictions."""

import inspect

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

from seqzoo.cells import GRUCell
from seqzoo.cells import LSTMCell
from seqzoo.cells import PeepholeLSTMCell
from seqzoo.cells import SimpleRNNCell
from seqzoo.cells.base import RecurrentCell

from .common import FEATURES
from .common import TIME
from .common import UNROLL
from .common import random_inputs

# Every constructor argument away from its default.
BASE_ARGUMENTS = dict(
    activation="relu",
    use_bias=False,
    kernel_initializer="he_normal",
    recurrent_initializer="glorot_normal",
    bias_initializer="ones",
    kernel_regularizer=keras.regularizers.L2(0.01),
    recurrent_regularizer=keras.regularizers.L1(0.02),
    bias_regularizer=keras.regularizers.L1L2(0.03, 0.04),
    kernel_constraint="non_neg",
    recurrent_constraint=keras.constraints.MaxNorm(2.0),
    bias_constraint=keras.constraints.UnitNorm(),
    dropout=0.1,
    recurrent_dropout=0.2,
    seed=3,
)
GATED = dict(recurrent_activation="hard_sigmoid")
ARGUMENTS = {
    SimpleRNNCell: dict(BASE_ARGUMENTS),
    GRUCell: dict(BASE_ARGUMENTS, **GATED, reset_after=False, minimal=True),
    LSTMCell: dict(BASE_ARGUMENTS, **GATED, unit_forget_bias=False, cell_clip=3.0),
    PeepholeLSTMCell: dict(
        BASE_ARGUMENTS,
        **GATED,
        unit_forget_bias=False,
        cell_clip=3.0,
        peephole_initializer="ones",
        peephole_regularizer=keras.regularizers.L2(0.5),
        peephole_constraint="non_neg",
    ),
}
CLASSES = list(ARGUMENTS)
CLASS_IDS = [cls.__name__ for cls in CLASSES]


def _constructor_arguments(cls):
    """Every named argument of `cls.__init__` and of its seqzoo bases."""
    names = set()
    for klass in cls.__mro__:
        if klass is RecurrentCell or (issubclass(klass, RecurrentCell) and "__init__" in vars(klass)):
            for parameter in inspect.signature(klass.__init__).parameters.values():
                if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and parameter.name != "self":
                    names.add(parameter.name)
    return names


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_the_non_default_arguments_cover_the_constructor(cls):
    assert _constructor_arguments(cls) == set(ARGUMENTS[cls]) | {"units"}


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_get_config_round_trips_every_argument(cls):
    cell = cls(5, name="my_cell", **ARGUMENTS[cls])
    config = cell.get_config()
    assert _constructor_arguments(cls) <= set(config)
    assert config["units"] == 5 and config["name"] == "my_cell"
    for key in (
        "use_bias",
        "dropout",
        "recurrent_dropout",
        "seed",
        "reset_after",
        "minimal",
        "unit_forget_bias",
        "cell_clip",
    ):
        if key in ARGUMENTS[cls]:
            assert config[key] == ARGUMENTS[cls][key], key
    assert config["activation"] == "relu"

    clone = cls.from_config(config)
    assert type(clone) is cls
    assert clone.get_config() == config
    # Through Keras's generic serialization too, by registered name.
    serialized = keras.saving.serialize_keras_object(cell)
    assert serialized["registered_name"] == f"seqzoo>{cls.__name__}"
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is cls and revived.get_config() == config


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_registered_under_seqzoo(cls):
    assert keras.saving.get_registered_name(cls) == f"seqzoo>{cls.__name__}"
    assert keras.saving.get_registered_object(f"seqzoo>{cls.__name__}") is cls


# Cells for the saved models: non-default numbers-changing arguments, and
# dropout with a seed (inactive at inference, but part of the config).
MODEL_CELLS = {
    "rnn": lambda: SimpleRNNCell(4, activation="relu", dropout=0.1, seed=3),
    "gru_reset_before": lambda: GRUCell(4, reset_after=False, recurrent_dropout=0.1, seed=3),
    "gru_minimal": lambda: GRUCell(4, minimal=True),
    "lstm": lambda: LSTMCell(4, cell_clip=3.0, unit_forget_bias=False, dropout=0.1, seed=3),
    "peephole": lambda: PeepholeLSTMCell(4, peephole_initializer="ones", cell_clip=3.0),
}


def _bidirectional(make_cell):
    inputs = keras.Input((TIME, FEATURES))
    outputs = keras.layers.Bidirectional(keras.layers.RNN(make_cell(), return_sequences=True, unroll=UNROLL))(inputs)
    return keras.Model(inputs, outputs)


def _stacked(make_cell):
    inputs = keras.Input((TIME, FEATURES))
    x = keras.layers.RNN([make_cell(), make_cell()], return_sequences=True, unroll=UNROLL)(inputs)
    outputs = keras.layers.RNN(make_cell(), return_sequences=True)(x)
    return keras.Model(inputs, outputs)


def _cells(model):
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer.cell, layer.backward_layer.cell]
        elif isinstance(layer, keras.layers.RNN):
            cell = layer.cell
            found += list(cell.cells) if hasattr(cell, "cells") else [cell]
    return found


@pytest.mark.parametrize("topology", [_bidirectional, _stacked], ids=["bidirectional", "stacked"])
@pytest.mark.parametrize("make_cell", list(MODEL_CELLS.values()), ids=list(MODEL_CELLS))
def test_keras_file_round_trip(tmp_path, make_cell, topology):
    model = topology(make_cell)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    x = random_inputs(0)
    expected = to_numpy(model(x))

    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: registered

    np.testing.assert_allclose(to_numpy(loaded(x)), expected, atol=1e-7, rtol=0)
    ours, theirs = _cells(model), _cells(loaded)
    assert len(ours) == len(theirs) == (2 if topology is _bidirectional else 3)
    for original, revived in zip(ours, theirs):
        assert type(revived) is type(original)
        assert revived.get_config() == original.get_config()
    for w, v in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(to_numpy(v), to_numpy(w))


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_numpy_integer_units_give_a_plain_int_config(cls):
    # Keras's cells take any integer (e.g. np.int64 from a NumPy computation);
    # the config must still be plain JSON.
    import json

    cell = cls(np.int64(4))
    config = cell.get_config()
    assert type(config["units"]) is int and config["units"] == 4
    assert json.loads(json.dumps(config)) == config
