"""The fused kernels give the numbers of the SimpleRNN, GRU and (peephole) LSTM cells' step loops."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy
from backend_helpers import value_and_gradients
from twin_layers import ATOL
from twin_layers import CELL_CASES
from twin_layers import CELL_CLIP
from twin_layers import UNITS
from twin_layers import B
from twin_layers import F
from twin_layers import T
from twin_layers import assert_same_outputs_and_gradients
from twin_layers import inputs
from twin_layers import leading_padding_mask
from twin_layers import padding_mask
from twin_layers import twins

import seqzoo
from seqzoo.cells import GRUCell
from seqzoo.cells import LSTMCell
from seqzoo.cells import PeepholeLSTMCell
from seqzoo.cells import SimpleRNNCell
from seqzoo.fused import BACKENDS as FUSED_BACKENDS
from seqzoo.layers.recurrent import Recurrent

HAS_KERNEL = keras.backend.backend() in FUSED_BACKENDS
with_kernel = pytest.mark.skipif(not HAS_KERNEL, reason=f"seqzoo's fused kernels run on {FUSED_BACKENDS}")
# Every form each step module computes: biases or none, GRU reset before or
# after the product or no reset gate, cell_clip on the LSTM and the peephole LSTM.
FUSED_CASES = [
    "rnn",
    "rnn_no_bias",
    "gru",
    "gru_no_bias",
    "gru_reset_before",
    "gru_minimal",
    "gru_minimal_reset_before",
    "lstm",
    "lstm_cell_clip",
    "peephole",
    "peephole_cell_clip",
]
# One of each step module.
MODULE_CASES = [
    "rnn",
    "gru",
    "gru_reset_before",
    "gru_minimal",
    "lstm",
    "peephole_cell_clip",
]


@with_kernel
@pytest.mark.parametrize("case", FUSED_CASES)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("mask", [None, padding_mask, leading_padding_mask])
def test_outputs_and_gradients_equal_the_step_loop(case, go_backwards, mask):
    x = inputs()
    plain, fused = twins(case, x, fused=True, go_backwards=go_backwards)
    assert fused._tries_fused
    kwargs = {"mask": mask()} if mask else {}
    assert_same_outputs_and_gradients(plain, fused, x, **kwargs)


@with_kernel
@pytest.mark.parametrize("case", MODULE_CASES)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
def test_last_output_equals_the_step_loop(case, go_backwards):
    x = inputs()
    plain, fused = twins(case, x, fused=True, go_backwards=go_backwards, return_sequences=False)
    assert_same_outputs_and_gradients(plain, fused, x, mask=padding_mask())


def test_lstm_cell_clip_bites_in_the_tests():
    x = inputs()
    plain, _ = twins("lstm", x)
    _, _, c = plain(x)
    assert np.abs(to_numpy(c)).max() > CELL_CLIP


@with_kernel
@pytest.mark.parametrize("case", MODULE_CASES)
def test_zero_output_for_mask_equals_the_step_loop(case):
    x = inputs()
    plain, fused = twins(case, x, fused=True, zero_output_for_mask=True)
    assert_same_outputs_and_gradients(plain, fused, x, mask=leading_padding_mask())
    masked_output = to_numpy(fused(x, mask=leading_padding_mask())[0])[0, :2]
    np.testing.assert_array_equal(masked_output, 0.0)


@with_kernel
def test_initial_state_without_bias_equals_the_step_loop():
    x = inputs()
    plain, fused = twins("lstm", x, cell_kwargs={"use_bias": False}, fused=True)
    rng = np.random.default_rng(3)
    state = [keras.ops.convert_to_tensor(rng.normal(size=(B, UNITS)).astype("float32")) for _ in range(2)]
    assert_same_outputs_and_gradients(plain, fused, x, initial_state=state)


@with_kernel
@pytest.mark.parametrize("case", MODULE_CASES)
def test_gradients_reach_the_initial_state(case):
    x = inputs()
    plain, fused = twins(case, x, fused=True)
    state_size = plain.cell.state_size
    count = len(state_size) if isinstance(state_size, list) else 1
    state = np.random.default_rng(4).normal(size=(count, B, UNITS)).astype("float32")
    cotangent = np.random.default_rng(5).normal(size=(B, T, UNITS)).astype("float32")

    def loss(layer):
        def fn(state):
            outputs, *final_states = layer(x, initial_state=[state[i] for i in range(count)])
            return keras.ops.sum(outputs * cotangent) + keras.ops.sum(final_states[-1])

        return fn

    _, _, expected = value_and_gradients(loss(plain), [], state)
    _, _, got = value_and_gradients(loss(fused), [], state)
    assert np.abs(expected).max() > 1e-2
    np.testing.assert_allclose(got, expected, atol=ATOL)


@with_kernel
@pytest.mark.parametrize("case", MODULE_CASES)
def test_input_dropout_in_training_uses_the_step_loops_masks(case):
    x = inputs()
    plain, fused = twins(case, x, cell_kwargs={"dropout": 0.3, "seed": 7}, fused=True)
    assert fused._tries_fused
    assert_same_outputs_and_gradients(plain, fused, x, training=True, mask=padding_mask())
    dropped = to_numpy(fused(x, training=True)[0])
    assert not np.allclose(dropped, to_numpy(fused(x)[0]), atol=1e-3)


# Every step module reading forwards; backwards (the same flip for every cell, in `fused.run`) for two of them.
DROPOUT_CASES = [(case, False) for case in FUSED_CASES] + [("gru", True), ("peephole_cell_clip", True)]


@with_kernel
@pytest.mark.parametrize(
    "case, go_backwards", DROPOUT_CASES, ids=[f"{c}-{'backwards' if b else 'forwards'}" for c, b in DROPOUT_CASES]
)
def test_recurrent_dropout_in_training_uses_the_step_loops_mask(case, go_backwards):
    x = inputs()
    cell_kwargs = {"dropout": 0.2, "recurrent_dropout": 0.4, "seed": 7}
    plain, fused = twins(case, x, cell_kwargs, fused=True, go_backwards=go_backwards)
    assert fused._tries_fused
    assert_same_outputs_and_gradients(plain, fused, x, training=True, mask=padding_mask())
    no_input_dropout = twins(case, x, {"recurrent_dropout": 0.4, "seed": 7}, fused=True)
    assert_same_outputs_and_gradients(*no_input_dropout, x, training=True)
    dropped = to_numpy(fused(x, training=True)[0])
    assert not np.allclose(dropped, to_numpy(fused(x)[0]), atol=1e-3)


@with_kernel
@pytest.mark.parametrize("case, merge_mode", [("gru", "concat"), ("lstm", "sum"), ("peephole", "concat")])
def test_bidirectional_equals_the_step_loop(case, merge_mode):
    x = inputs()
    plain_rnn, fused_rnn = twins(case, x, fused=True)
    plain = keras.layers.Bidirectional(plain_rnn, merge_mode=merge_mode)
    fused = keras.layers.Bidirectional(fused_rnn, merge_mode=merge_mode)
    plain(x)
    fused(x)
    assert fused.backward_layer._tries_fused
    fused.set_weights(plain.get_weights())
    assert_same_outputs_and_gradients(plain, fused, x, mask=padding_mask())


@with_kernel
def test_stateful_carries_the_state_between_calls():
    x = inputs()
    plain, fused = twins("lstm", x, fused=True, stateful=True, return_state=False)
    plain.reset_state()
    fused.reset_state()
    for half in (x[:, :3], x[:, 3:]):
        np.testing.assert_allclose(to_numpy(fused(half)), to_numpy(plain(half)), atol=ATOL)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's shards")
@pytest.mark.parametrize("shards", [1, 2, 3])
def test_batch_shards_give_the_same_numbers(shards):
    import tensorflow as tf

    from seqzoo.fused import lstm_steps
    from seqzoo.fused import sequence
    from seqzoo.fused import tensorflow_loops

    rng = np.random.default_rng(6)
    batch = 7  # shards of unequal sizes
    x = tf.constant(rng.normal(size=(batch, T, F)), tf.float32)
    state = [tf.constant(rng.normal(size=(batch, UNITS)), tf.float32) for _ in range(2)]
    mask = rng.random((batch, T)) > 0.3
    step_mask = tf.constant(mask.T[:, :, None], tf.float32)
    cotangent = tf.constant(rng.normal(size=(batch, T, UNITS)), tf.float32)
    plain = keras.layers.RNN(LSTMCell(UNITS), return_sequences=True, return_state=True)
    plain(x)
    weights = plain.trainable_variables

    def sharded():
        states, (h, c) = tensorflow_loops.run(
            lstm_steps,
            tf.transpose(x, [1, 0, 2]),
            step_mask,
            state,
            weights,
            shards=shards,
        )
        outputs = sequence.read_outputs(states, step_mask, zero_output_for_mask=False)
        return tf.transpose(outputs, [1, 0, 2]), h, c

    results = []
    for run in (lambda: plain(x, initial_state=state, mask=tf.constant(mask)), sharded):
        with tf.GradientTape() as tape:
            tape.watch([x, *state])
            outputs, h, c = run()
            loss = tf.reduce_sum(outputs * cotangent) + tf.reduce_sum(h) + tf.reduce_sum(c)
        results.append(to_numpy([outputs, h, c, *tape.gradient(loss, [x, *state, *weights])]))
    for expected, got in zip(*results):
        np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's shards")
@pytest.mark.parametrize("case", ["gru", "peephole"])
def test_batch_shards_split_the_recurrent_dropout_mask(case):
    import tensorflow as tf

    from seqzoo.fused import tensorflow_loops
    from seqzoo.layers.recurrent import fused_kernel

    rng = np.random.default_rng(7)
    batch = 7
    x = tf.constant(rng.normal(size=(T, batch, F)), tf.float32)
    drop = tf.constant((rng.random((batch, UNITS)) > 0.4) / 0.6, tf.float32)
    layer = Recurrent(CELL_CASES[case][0](UNITS))
    layer(inputs())
    states = [tf.zeros((batch, UNITS)) for _ in layer.cell.get_initial_state(1)]
    cotangent = tf.constant(rng.normal(size=(T, batch, UNITS)), tf.float32)
    results = []
    for shards in (1, 3):
        with tf.GradientTape() as tape:
            tape.watch(x)
            steps, weights = fused_kernel(layer.cell)
            outputs, _ = tensorflow_loops.run(steps, x, None, states, weights, drop, shards=shards)
            loss = tf.reduce_sum(outputs * cotangent)
        results.append(to_numpy([outputs, *tape.gradient(loss, [x, *layer.trainable_variables])]))
    for one, three in zip(*results):
        np.testing.assert_allclose(three, one, atol=ATOL, rtol=1e-5)


@with_kernel
def test_any_batch_size_through_a_model_with_an_unknown_batch():
    # With the batch unknown when the step is traced, every TensorFlow
    # thread gets a shard, some of them empty for a batch of one.
    models = []
    for fused in (False, True):
        keras.utils.set_random_seed(1)
        models.append(
            keras.Sequential(
                [
                    keras.Input((None, F)),
                    Recurrent(LSTMCell(UNITS), fused=fused, return_sequences=True),
                ]
            )
        )
    for batch in (1, 5):
        x = inputs(batch, shape=(batch, T, F))
        np.testing.assert_allclose(models[1].predict(x, verbose=0), models[0].predict(x, verbose=0), atol=ATOL)


@with_kernel
def test_training_steps_equal_the_step_loop():
    x = inputs()
    y = inputs(1, shape=(B, T, UNITS))
    models = []
    for fused in (False, True):
        keras.utils.set_random_seed(2)
        model = keras.Sequential(
            [
                keras.Input((T, F)),
                seqzoo.layers.RecurrentStack("lstm", units=UNITS, depth=2, fused=fused),
            ]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        models.append(model)
    losses = [[model.train_on_batch(x, y) for _ in range(5)] for model in models]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    assert losses[0][-1] < losses[0][0]
    for got, expected in zip(models[1].get_weights(), models[0].get_weights()):
        np.testing.assert_allclose(got, expected, atol=ATOL)


@with_kernel
def test_the_stack_tries_a_fused_kernel_where_there_may_be_one():
    def tries_fused(**kwargs):
        stack = seqzoo.layers.RecurrentStack(units=UNITS, bidirectional=True, **kwargs)
        return [layer.forward_layer._tries_fused for layer in stack.recurrent_layers]

    assert tries_fused(cell="lstm", depth=2) == [True, True]
    assert tries_fused(cell="gru") == [True]  # cuDNN's, on a GPU
    assert tries_fused(cell="lstm", fused=False) == [False]
    assert tries_fused(cell="lstm", recurrent_dropout=0.1) == [True]
    assert tries_fused(cell="gru", cell_options={"reset_after": False}) == [True]
    assert tries_fused(cell="gru", cell_options={"minimal": True}) == [True]
    assert tries_fused(cell="rnn") == [True]
    assert tries_fused(cell="rnn", cell_options={"activation": "relu"}) == [False]
    assert tries_fused(cell="peephole") == [True]
    assert tries_fused(cell="lstm", cell_options={"cell_clip": 3.0}) == [True]


class _LayerNormLSTMCell(LSTMCell):
    """A cell whose arithmetic no fused kernel knows."""


@pytest.mark.parametrize(
    "cell, reason",
    [
        (_LayerNormLSTMCell(UNITS), "the cell is a _LayerNormLSTMCell"),
        (
            PeepholeLSTMCell(UNITS, recurrent_activation="hard_sigmoid"),
            "recurrent_activation='sigmoid'",
        ),
        (GRUCell(UNITS, minimal=True, activation="relu"), "activation='tanh'"),
        (LSTMCell(UNITS, activation="relu"), "activation='tanh'"),
        (SimpleRNNCell(UNITS, activation="relu"), "activation='tanh'"),
        (
            LSTMCell(UNITS, recurrent_activation="hard_sigmoid"),
            "recurrent_activation='sigmoid'",
        ),
    ],
)
def test_fused_true_says_why_there_is_no_kernel(cell, reason):
    with pytest.raises(ValueError, match=reason):
        Recurrent(cell, fused=True)


def test_fused_takes_auto_true_or_false():
    with pytest.raises(ValueError, match=r"fused='yes'.*'auto', True, False"):
        Recurrent(LSTMCell(UNITS), fused="yes")
