"""The parallel scan of the minimal cells gives the numbers of their step loop, on every backend."""

import keras
import numpy as np
import pytest
from backend_helpers import SUPPORTED_BACKENDS
from backend_helpers import to_numpy
from cells import numpy_reference as ref
from twin_layers import ATOL
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
from seqzoo.fused import scan
from seqzoo.layers import RecurrentStack
from seqzoo.layers.recurrent import Recurrent
from seqzoo.tbptt import TimeChunks

CASES = ["mingru", "minlstm"]
FORMS = ["sequential", "associative"]
# Each cell with one form: the cells' coefficients and the forms' recurrences are independent of each other,
# and the other tests run the form a CPU picks (sequential) on both cells.
CASES_AND_FORMS = pytest.mark.parametrize("case, form", list(zip(CASES, FORMS)), indirect=["form"])
REFERENCES = {"mingru": ref.mingru_step, "minlstm": ref.minlstm_step}


@pytest.fixture(params=FORMS)
def form(request, monkeypatch):
    """The form of the recurrence the test runs, and the forms that ran (the CPU's loop, or the associative scan).

    On a CPU the backend's sequential loop runs; for "associative" it raises
    `NotImplementedError`, as it does on a GPU, so the associative scan runs.
    """
    ran = []
    sequential = scan.sequential_recurrence

    def spy(a, b, initial_state):
        ran.append("sequential" if request.param == "sequential" else "associative")
        if request.param == "associative":
            raise NotImplementedError("the associative scan, as on a GPU")
        return sequential(a, b, initial_state)

    monkeypatch.setattr(scan, "sequential_recurrence", spy)
    return request.param, ran


def assert_ran(form):
    """The form asked for ran, and only it."""
    name, ran = form
    assert ran and set(ran) == {name}


def assert_same(plain, scanned, x, **call_kwargs):
    """Equal outputs and states, and on TensorFlow and JAX (the gradient helpers' backends) equal gradients."""
    if keras.backend.backend() in SUPPORTED_BACKENDS:
        assert_same_outputs_and_gradients(plain, scanned, x, **call_kwargs)
        return
    for expected, got in zip(to_numpy(list(plain(x, **call_kwargs))), to_numpy(list(scanned(x, **call_kwargs)))):
        np.testing.assert_allclose(got, expected, atol=ATOL)


def random_state(seed=3, scale=2.0):
    """h<0> with entries of both signs."""
    state = np.random.default_rng(seed).normal(scale=scale, size=(B, UNITS)).astype("float32")
    assert (state < 0).any() and (state > 0).any()
    return keras.ops.convert_to_tensor(state)


@CASES_AND_FORMS
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("mask", [None, padding_mask, leading_padding_mask], ids=["unmasked", "right", "left"])
def test_scan_outputs_and_gradients_equal_the_step_loop(case, go_backwards, mask, form):
    x = inputs()
    plain, scanned = twins(case, x, fused=True, go_backwards=go_backwards)
    assert scanned._tries_fused
    kwargs = {"mask": mask()} if mask else {}
    # Where the first steps read are masked, Keras's step loops disagree with one another once h<0> is not
    # zero: TensorFlow's outputs zeros there, JAX's h<0>. The scan (like seqzoo's fused kernels) outputs
    # zeros on every backend; the NumPy reference test below checks it from a random h<0>.
    leading = (mask is leading_padding_mask) != go_backwards if mask else False
    if not leading:
        kwargs["initial_state"] = [random_state()]
    assert_same(plain, scanned, x, **kwargs)
    assert_ran(form)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_last_output_and_masked_outputs_equal_the_step_loop(case, zero_output_for_mask):
    x = inputs()
    options = {"return_sequences": False, "zero_output_for_mask": zero_output_for_mask}
    plain, scanned = twins(case, x, fused=True, **options)
    assert_same(plain, scanned, x, mask=leading_padding_mask())
    plain, scanned = twins(case, x, fused=True, zero_output_for_mask=zero_output_for_mask)
    assert_same(plain, scanned, x, mask=padding_mask())


@pytest.mark.parametrize("case", CASES)
def test_scan_matches_the_numpy_reference_over_a_long_sequence(case, form):
    # 300 steps from a large state of either sign, with padding at both ends:
    # the associative scan's products of a<t> fall far below float32's smallest normal.
    length = 300
    x = inputs(4, shape=(B, length, F))
    mask = np.ones((B, length), dtype=bool)
    mask[0, :40] = False
    mask[1, 250:] = False
    layer = Recurrent(seqzoo.cells.get(case)(UNITS), return_sequences=True, return_state=True, fused=True)
    layer.build(x.shape)
    rng = np.random.default_rng(5)
    weights = [rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    start = 10.0 * to_numpy(random_state())

    got = to_numpy(layer(x, mask=keras.ops.convert_to_tensor(mask), initial_state=[start]))
    outputs, states = ref.run_sequence(lambda xt, s: REFERENCES[case](xt, s, weights), x, [start], mask)

    np.testing.assert_allclose(got[0], outputs, atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(got[1], states[0], atol=ATOL, rtol=1e-5)
    # The state moved far from h<0> (which the first row carries through its padding).
    assert np.abs(states[0] - start).min() > 1e-2
    np.testing.assert_allclose(got[0][0, 39], np.zeros(UNITS), atol=0)
    assert_ran(form)


@pytest.mark.parametrize("case", CASES)
def test_bidirectional_scan_equals_the_step_loop(case):
    x = inputs()
    plain_rnn, scanned_rnn = twins(case, x, fused=True)
    plain = keras.layers.Bidirectional(plain_rnn)
    scanned = keras.layers.Bidirectional(scanned_rnn)
    plain(x)
    scanned(x)
    assert isinstance(scanned.backward_layer, Recurrent) and scanned.backward_layer._tries_fused
    scanned.set_weights(plain.get_weights())
    assert_same(plain, scanned, x, mask=leading_padding_mask())


@pytest.mark.parametrize("case", CASES)
def test_input_dropout_in_training_uses_the_step_loops_mask(case):
    x = inputs()
    plain, scanned = twins(case, x, {"dropout": 0.3, "seed": 7}, fused=True)
    assert_same(plain, scanned, x, training=True, mask=padding_mask())
    assert not np.allclose(to_numpy(scanned(x, training=True)[0]), to_numpy(scanned(x)[0]), atol=1e-3)


@pytest.mark.parametrize("case", CASES)
def test_stateful_chunks_equal_the_whole_sequence(case):
    x = inputs()
    whole = Recurrent(seqzoo.cells.get(case)(UNITS), return_sequences=True, fused=True)
    chunked = Recurrent(seqzoo.cells.get(case)(UNITS), return_sequences=True, fused=True, stateful=True)
    whole.build(x.shape)
    chunked.build(x.shape)
    for ours, theirs in zip(chunked.trainable_variables, whole.trainable_variables):
        ours.assign(theirs)
    chunks = [to_numpy(chunked(chunk)) for (chunk,) in TimeChunks(x, None, 2)]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), to_numpy(whole(x)), atol=ATOL)


@pytest.mark.parametrize("case", CASES)
def test_keras_rnn_and_recurrent_stack_hold_the_same_weights_and_numbers(case):
    # The check kept with issue 24.
    x = inputs(shape=(B, T, 24))
    plain = keras.layers.RNN(seqzoo.cells.get(case)(24))
    stack = RecurrentStack(case, units=24, return_sequences=False)
    plain(x)
    stack(x)
    assert [tuple(w.shape) for w in stack.weights] == [tuple(w.shape) for w in plain.weights]
    assert [w.name for w in stack.weights] == ["kernel", "bias"]
    rng = np.random.default_rng(0)
    plain.set_weights([rng.normal(scale=0.3, size=w.shape) for w in plain.weights])
    stack.set_weights(plain.get_weights())
    np.testing.assert_allclose(to_numpy(stack(x)), to_numpy(plain(x)), atol=1e-4)


@pytest.mark.parametrize("case", CASES)
def test_keras_file_round_trip_predicts_the_same(case, tmp_path):
    x = inputs()
    model = keras.Sequential(
        [keras.Input((T, F)), RecurrentStack(case, units=UNITS, depth=2, bidirectional=True, residual=True)]
    )
    model.set_weights([np.random.default_rng(1).normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0].cells[0]) is seqzoo.cells.get(case)
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)


def test_half_precision_is_close_to_float32():
    x = inputs()
    full = Recurrent(seqzoo.cells.MinGRUCell(UNITS), return_sequences=True)
    half = Recurrent(
        seqzoo.cells.MinGRUCell(UNITS, dtype="mixed_float16"), return_sequences=True, dtype="mixed_float16"
    )
    full.build(x.shape)
    half.build(x.shape)
    half.set_weights(full.get_weights())
    got = to_numpy(half(x))
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), to_numpy(full(x)), atol=5e-3)


def test_unrolled_layer_refuses_the_scan():
    with pytest.raises(ValueError, match="does not unroll"):
        Recurrent(seqzoo.cells.MinLSTMCell(UNITS), fused=True, unroll=True)


def spy_on_the_doubling_scan(monkeypatch):
    """The lengths (`None` where unknown) of every sequence whose scan is traced by doubling."""
    lengths = []
    doubling_scan = scan._doubling_scan

    def spy(a, b):
        lengths.append(a.shape[0])
        return doubling_scan(a, b)

    monkeypatch.setattr(scan, "_doubling_scan", spy)
    return lengths


class TracedWithoutLength:
    """A layer called through a TensorFlow graph traced with the batch size and sequence length unknown."""

    def __init__(self, layer):
        import tensorflow as tf

        self.trainable_variables = layer.trainable_variables
        self._function = tf.function(lambda x, kwargs: layer(x, **kwargs))
        self._tf = tf

    def __call__(self, x, **kwargs):
        spec = self._tf.TensorSpec
        specs = {
            "mask": spec((None, None), "bool"),
            "initial_state": [spec((None, UNITS), "float32")],
        }
        traced = self._function.get_concrete_function(spec((None, None, F), "float32"), {k: specs[k] for k in kwargs})
        return traced(x, kwargs)


ONLY_TENSORFLOW = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="a TensorFlow graph's unknown length"
)


@ONLY_TENSORFLOW
@CASES_AND_FORMS
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("mask", [None, padding_mask, leading_padding_mask], ids=["unmasked", "right", "left"])
def test_scan_in_a_graph_without_the_length_equals_the_step_loop(case, form, go_backwards, mask, monkeypatch):
    lengths = spy_on_the_doubling_scan(monkeypatch)
    x = inputs()
    # fused=True: a step loop in its place would raise.
    plain, scanned = twins(case, x, fused=True, go_backwards=go_backwards)
    kwargs = {"mask": mask()} if mask else {}
    leading = (mask is leading_padding_mask) != go_backwards if mask else False  # as in the first test
    if not leading:
        kwargs["initial_state"] = [random_state()]
    assert_same(plain, TracedWithoutLength(scanned), x, **kwargs)
    # The CPU's loop takes any length; the associative scan doubles where the length is unknown.
    assert lengths == ([None] if form[0] == "associative" else [])
    assert_ran(form)


@ONLY_TENSORFLOW
@CASES_AND_FORMS
def test_batches_of_other_lengths_train_on_the_scan_as_the_step_loop_does(case, form, monkeypatch):
    # TensorFlow's `train_on_batch` retraces for a second length with the length unknown, where Keras's
    # scan cannot run: the CPU's loop or the doubling scan runs there, with the step loop's numbers.
    lengths = spy_on_the_doubling_scan(monkeypatch)

    def model(fused):
        stack = RecurrentStack(case, units=UNITS, return_sequences=False, fused=fused)
        built = keras.Sequential([keras.Input((None, F)), stack, keras.layers.Dense(1)])
        built.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return built

    # fused=True: a step loop in the scan's place would raise.
    scanned, stepped = model(True), model(False)
    stepped.set_weights(scanned.get_weights())
    target = np.ones((B, 1), "float32")
    for length in (3, 5, 7):
        x = inputs(length, shape=(B, length, F))
        np.testing.assert_allclose(scanned.train_on_batch(x, target), stepped.train_on_batch(x, target), rtol=1e-5)
    assert set(lengths) == ({None} if form[0] == "associative" else set())
    assert_ran(form)
