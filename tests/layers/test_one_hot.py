"""OneHot: token ids -> the course's one-hot x<t>, with id 0 as masked padding."""

import keras
import numpy as np
import pytest

from seqzoo.layers import OneHot


def numpy(x):
    return keras.ops.convert_to_numpy(x)


IDS = np.array([[1, 3, 2, 0, 0], [4, 4, 1, 2, 3]], dtype="int32")


def test_ids_become_exact_one_hot_rows_and_padding_zero_vectors():
    vectors = numpy(OneHot(5)(IDS))
    expected = np.eye(5, dtype="float32")[IDS]
    expected[IDS == 0] = 0.0
    assert vectors.shape == (2, 5, 5)
    assert vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, expected)
    np.testing.assert_array_equal(vectors[0, 3:], np.zeros((2, 5)))
    # Each real step has exactly one 1.
    np.testing.assert_array_equal(vectors.sum(-1), (IDS != 0).astype("float32"))


def test_padding_is_masked():
    layer = OneHot(5)
    mask = numpy(layer.compute_mask(keras.ops.convert_to_tensor(IDS)))
    np.testing.assert_array_equal(mask, IDS != 0)


def test_mask_reaches_the_next_layer():
    """A masked average over time counts only the real steps."""
    ids = keras.Input((None,), dtype="int32")
    mean = keras.layers.GlobalAveragePooling1D()(OneHot(5)(ids))
    result = numpy(keras.Model(ids, mean)(IDS))
    expected = np.stack([np.eye(5)[row[row != 0]].mean(0) for row in IDS])
    np.testing.assert_allclose(result, expected, atol=1e-6)
    # Without the mask, row 0 would be averaged over 5 steps, not 3.
    assert not np.allclose(result[0], np.eye(5)[IDS[0]].mean(0))


def test_without_mask_zero_id_0_is_an_ordinary_token():
    layer = OneHot(5, mask_zero=False)
    vectors = numpy(layer(IDS))
    np.testing.assert_array_equal(vectors, np.eye(5, dtype="float32")[IDS])
    assert layer.compute_mask(keras.ops.convert_to_tensor(IDS)) is None


def test_compute_output_shape_and_symbolic_call():
    layer = OneHot(7)
    assert layer.compute_output_shape((None, 4)) == (None, 4, 7)
    assert tuple(layer(keras.Input((4,), dtype="int32")).shape) == (None, 4, 7)


@pytest.mark.parametrize("mask_zero", [True, False])
def test_config_round_trip(mask_zero):
    layer = OneHot(6, mask_zero=mask_zero, name="one_hot")
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, OneHot)
    assert restored.vocab_size == 6 and restored.mask_zero is mask_zero
    np.testing.assert_array_equal(numpy(restored(IDS)), numpy(layer(IDS)))
