"""Batches of a few fixed shapes: one compiled step per shape, and the metrics of unpadded batches."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.tasks.bucketing import bucketed_batches


def shapes(batches):
    return {tuple(tuple(value.shape) for value in tf.nest.flatten(batch)) for batch in batches}


def ragged(lengths, width=None, condition=False, sequence_target=False):
    """`(x, y)` examples whose x<t> are t (so never the padding 0), one per length."""

    def examples():
        for length in lengths:
            steps = np.arange(1, length + 1)
            x = steps[:, None].repeat(width, 1).astype("float32") if width else steps
            if condition:
                x = {"condition": np.int64(length % 2), "inputs": x}
            yield x, (steps if sequence_target else np.int64(length % 3))

    def spec(value):
        return tf.TensorSpec((None, width)[: np.ndim(value)], tf.as_dtype(np.asarray(value).dtype))

    return tf.data.Dataset.from_generator(examples, output_signature=tf.nest.map_structure(spec, next(examples())))


sequence_length = seqzoo.tasks.Task.sequence_length
CASES = {  # Each topology's example structure: features -> a class, a char LM, a conditioned generator.
    "features": dict(width=3),
    "language_model": dict(sequence_target=True),
    "conditioned": dict(condition=True, sequence_target=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bucket_has_one_shape_and_every_example_once(case):
    lengths = [1, 3, 8, 9, 15, 16, 17, 29, 31, 33, 7, 2, 10, 11, 12]
    data = ragged(lengths, **CASES[case])
    batches = list(bucketed_batches(data.shuffle(20, seed=1), sequence_length, 4, fill_rows=True))
    found = shapes(batches)
    assert {leaves[0][0] for leaves in found} == {4}  # Every batch 4 rows, the last of a bucket filled.
    steps = {leaf[1] for leaves in found for leaf in leaves if len(leaf) > 1}
    assert steps == {8, 16, 32, 64} and len(found) == 4  # One shape per bucket: lengths up to 8, 16, 32, 64.
    # Every example once: the rows of an example hold its steps then 0s, the filler rows only 0s.
    rows = [tf.nest.flatten(batch[0])[-1].numpy() for batch in batches]
    rows = np.concatenate([np.pad(r, [(0, 0), (0, 64 - r.shape[1])] + [(0, 0)] * (r.ndim - 2)) for r in rows])
    rows = rows.reshape(len(rows), 64, -1)[..., 0]
    real = rows[:, 0] != 0
    assert sorted(int((row != 0).sum()) for row in rows[real]) == sorted(lengths) and not rows[~real].any()
    # Each target's weight: 0 for a filler row; 1 for a label, the padded length for a sequence's steps.
    for x, y, weight in batches:
        example = tf.nest.flatten(x)[-1].numpy().reshape(4, -1)[:, 0] != 0
        weight = weight.numpy().reshape(4, -1)
        expected = np.where(example, y.shape[1] if y.ndim == 2 else 1, 0)[:, None]
        np.testing.assert_array_equal(weight, np.broadcast_to(expected, weight.shape))


def test_seq2seq_pads_source_and_target_to_one_boundary():
    def examples():
        for source, target in [(5, 12), (20, 3), (9, 9)]:
            x = {"inputs": np.arange(1, source + 1), "decoder_inputs": np.arange(1, target + 1)}
            yield x, np.arange(1, target + 1)

    spec = tf.TensorSpec((None,), tf.int64)
    data = tf.data.Dataset.from_generator(examples, output_signature=({"inputs": spec, "decoder_inputs": spec}, spec))
    found = shapes(bucketed_batches(data, sequence_length, 2))
    assert found == {((2, 16), (2, 16), (2, 16), (2, 16)), ((1, 32), (1, 32), (1, 32), (1, 32))}


@pytest.fixture(scope="module")
def vowels(data_dir):
    return seqzoo.load_task("japanese_vowels", data_dir=data_dir)


@pytest.fixture(scope="module")
def names(data_dir):
    return seqzoo.load_task("names", data_dir=data_dir)


def test_a_tasks_epochs_have_the_same_few_shapes(vowels, names):
    for task in (vowels, names):
        train = task.batches("train", 32, shuffle=True, seed=0)
        first, second = shapes(train), shapes(train)
        assert first == second and len(first) <= 3  # One shape per bucket, the same in the next epoch.
        validation = task.batches("validation", 32)
        assert shapes(validation) == shapes(validation)


def trimmed(x, y):
    """A batch cut to its own longest sequence: the batch as it was before fixed shapes."""
    leaves = [value for value in tf.nest.flatten((x, y)) if value.ndim >= 2]
    steps = max(int(np.flatnonzero(np.abs(v).reshape(len(v), v.shape[1], -1).sum((0, 2))).max()) + 1 for v in leaves)
    return tf.nest.map_structure(lambda value: value[:, :steps] if value.ndim >= 2 else value, (x, y))


def reference(model, batches):
    """Keras's loss on the unpadded batches (a mean per batch, batches weighed by rows), and NumPy's accuracy."""
    losses, rows, correct, count = [], [], 0, 0
    for x, y, _ in batches.as_numpy_iterator():
        x, y = trimmed(x, y)
        losses.append(model.evaluate(x, y, batch_size=len(y), verbose=0, return_dict=True)["loss"])
        rows.append(len(y))
        guesses = np.asarray(model.predict_on_batch(x)).argmax(-1)
        steps = tf.nest.flatten(x)[-1]
        real = (steps.reshape(y.shape + (-1,)) != 0).any(-1) if y.ndim >= 2 else np.ones(len(y), bool)
        correct, count = correct + int(((guesses == y) & real).sum()), count + int(real.sum())
    return np.average(losses, weights=rows), correct / count


@pytest.mark.parametrize("name", ["vowels", "names"])
def test_metrics_equal_those_of_unpadded_batches(name, vowels, names):
    task = {"vowels": vowels, "names": names}[name]
    model = seqzoo.build("gru_uni", task=task, **{"backbone.units": 8})
    # Validation and test: steps padded to the boundary are masked and count for nothing.
    validation = task.batches("validation", 16)
    fixed = model.evaluate(validation, verbose=0, return_dict=True)
    np.testing.assert_allclose([fixed["loss"], fixed["accuracy"]], reference(model, validation), rtol=1e-5)
    # Training: a bucket's last batch filled with rows of weight 0 has the loss and accuracy of its examples.
    x, y, weights = next(iter(task.batches("train", 64, shuffle=True)))
    keep = 64 - 7
    weights = tf.concat([weights[:keep], tf.zeros_like(weights[keep:])], 0)  # The last 7 rows as fillers.
    real = tf.nest.map_structure(lambda value: value[:keep], (x, y))
    filled = tf.nest.map_structure(lambda value: tf.concat([value[:keep], tf.zeros_like(value[keep:])], 0), (x, y))
    results = model.evaluate(*filled, sample_weight=weights, batch_size=64, verbose=0, return_dict=True)
    expected = model.evaluate(*real, sample_weight=weights[:keep], batch_size=64, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        [results["loss"], results["accuracy"]], [expected["loss"], expected["accuracy"]], rtol=1e-5
    )


class CompilationCounter(keras.callbacks.Callback):
    """The programs compiled (JAX) or the traces of the train and test steps (TensorFlow) at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.counts, self.compiled = [], 0
        if keras.backend.backend() == "jax":
            import jax

            jax.monitoring.register_event_duration_secs_listener(self._on_event)

    def _on_event(self, event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            self.compiled += 1

    def traces(self):
        functions = [self.model.train_function, self.model.test_function]
        cells = [cell.cell_contents for function in functions if function for cell in function.__closure__ or ()]
        return sum(
            cell.experimental_get_tracing_count() for cell in cells if hasattr(cell, "experimental_get_tracing_count")
        )

    def on_epoch_end(self, epoch, logs=None):
        self.counts.append(self.compiled if keras.backend.backend() == "jax" else self.traces())

    def close(self):
        if keras.backend.backend() == "jax":
            import jax

            jax.monitoring.unregister_event_duration_listener(self._on_event)


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="PyTorch runs Keras's steps eagerly: nothing compiles")
def test_the_second_epoch_compiles_nothing(vowels):
    model = seqzoo.build("gru_uni", task=vowels, **{"backbone.units": 8})
    counter = CompilationCounter()
    try:
        model.fit(
            vowels.batches("train", 32, shuffle=True),
            validation_data=vowels.batches("validation", 32),
            epochs=2,
            shuffle=False,  # The batches are shuffled.
            verbose=0,
            callbacks=[counter],
        )
    finally:
        counter.close()
    first, second = counter.counts
    assert first > 0 and second == first
