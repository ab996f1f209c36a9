"""Many-to-one: one output read off the whole (padded) sequence."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.architectures import many_to_one


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_trailing_padding_does_not_change_the_output(cell, bidirectional):
    model = seqzoo.build("lstm_uni", backbone={"cell": cell, "units": 8, "depth": 2, "bidirectional": bidirectional})
    x = np.random.default_rng(0).integers(1, 10000, size=(3, 5)).astype("int32")
    padded = np.concatenate([x, np.zeros((3, 4), dtype="int32")], axis=1)
    expected = numpy(model(x))
    assert expected.shape == (3, 1)
    np.testing.assert_allclose(numpy(model(padded)), expected, atol=1e-6, rtol=0)


def test_feature_inputs_mask_all_zero_steps():
    model = many_to_one(
        {"cell": "gru", "units": 8, "bidirectional": True},
        {"type": "features", "dim": 4},
        {"type": "classes", "size": 9},
    )
    x = np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")
    padded = np.concatenate([x, np.zeros((2, 3, 4), "float32")], axis=1)
    expected = numpy(model(x))
    assert expected.shape == (2, 9)
    np.testing.assert_allclose(numpy(model(padded)), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "outputs,shape,loss",
    [
        ({"type": "binary"}, (2, 1), "BinaryCrossentropy"),
        ({"type": "classes", "size": 3}, (2, 3), "SparseCategoricalCrossentropy"),
        ({"type": "regression", "size": 2}, (2, 2), "MeanSquaredError"),
    ],
)
def test_output_types_give_their_head_and_loss(outputs, shape, loss):
    model = seqzoo.build("gru_uni", backbone={"units": 4}, outputs=outputs)
    assert numpy(model(np.ones((2, 3), "int32"))).shape == shape
    assert type(model.loss).__name__ == loss


def test_dropout_between_layers_is_active_only_in_training():
    model = seqzoo.build("lstm_uni_deep", backbone={"units": 8, "dropout": 0.5})
    x = np.random.default_rng(0).integers(1, 10000, size=(4, 6)).astype("int32")
    inference = numpy(model(x, training=False))
    np.testing.assert_array_equal(numpy(model(x, training=False)), inference)
    np.testing.assert_allclose(numpy(model.predict_on_batch(x)), inference, atol=1e-6, rtol=0)
    assert np.abs(numpy(model(x, training=True)) - inference).max() > 1e-6
