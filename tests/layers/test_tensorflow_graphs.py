"""The fused loops in a TensorFlow graph: the registry's gradient is the tape's, and a freed graph leaves nothing.

The TensorFlow loops have their gradient through `tf.custom_gradient`, which
in a graph registers it process-wide; `seqzoo._compat.graph_owned_custom_gradient`
ties that entry to the graph, so that a traced graph is freed with its function.
"""

import gc
import weakref

import keras
import numpy as np
import pytest
from twin_layers import ATOL
from twin_layers import RTOL
from twin_layers import inputs
from twin_layers import padding_mask
from twin_layers import twins

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's graphs")
# One per TensorFlow loop: the fused cells' (`tensorflow_loops.run`, one and two shards) and the minimal cells'
# (`linear_recurrence`).
CASES = ["gru", "lstm", "mingru"]


def custom_gradients():
    from tensorflow.python.framework import ops

    return {name for name in ops._gradient_registry.list() if name.startswith("CustomGradient-")}


def gradients_in_a_graph(layer, x, mask):
    """In one traced function: the gradients of a weighted sum of the outputs by the tape and by `tf.gradients`.

    `tf.gradients` differentiates the graph op by op, through the gradient
    registered for each op, as a SavedModel's traced gradients and a
    function called under an outer tape do; a tape inside the function
    records its own.
    """
    import tensorflow as tf

    weights = np.random.default_rng(2).normal(size=(x.shape[0], x.shape[1], layer.cell.units)).astype("float32")

    @tf.function
    def both(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, mask=mask)[0] * weights)
        sources = [x, *layer.trainable_variables]
        return tape.gradient(loss, sources), tf.gradients(loss, sources)

    return both, both(tf.constant(x))


@pytest.mark.parametrize("case", CASES)
def test_the_registrys_gradients_equal_the_tapes(case):
    x = inputs()
    _, fused = twins(case, x, fused=True)
    _, (by_tape, by_registry) = gradients_in_a_graph(fused, x, padding_mask())
    for tape, registry in zip(by_tape, by_registry, strict=True):
        assert np.abs(tape.numpy()).max() > 1e-3
        np.testing.assert_allclose(registry.numpy(), tape.numpy(), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("case", CASES)
def test_a_freed_graph_leaves_nothing_registered(case):
    x = inputs()
    _, fused = twins(case, x, fused=True)
    gc.collect()  # Graphs of earlier tests, freed.
    before = custom_gradients()
    function, _ = gradients_in_a_graph(fused, x, padding_mask())
    graph = weakref.ref(function.get_concrete_function(x).graph)
    assert len(custom_gradients() - before) >= 1  # A live graph keeps its gradients.
    del function
    gc.collect()
    assert graph() is None
    assert custom_gradients() == before
