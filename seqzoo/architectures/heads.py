"""Output heads and the loss and metrics that go with each."""

import keras

OUTPUT_TYPES = ("classes", "binary", "regression")


def output_head(spec, name="head"):
    """The `Dense` layer that maps a<t> to y<t>: logits, or values for regression."""
    units = 1 if spec["type"] == "binary" else spec["size"]
    return keras.layers.Dense(units, name=name)


def loss_and_metrics(spec):
    """Returns `(loss, metrics)` for an output spec; classes are logits."""
    if spec["type"] == "classes":
        return (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    if spec["type"] == "binary":
        return (
            keras.losses.BinaryCrossentropy(from_logits=True),
            [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
        )
    return keras.losses.MeanSquaredError(), [keras.metrics.MeanAbsoluteError(name="mae")]
