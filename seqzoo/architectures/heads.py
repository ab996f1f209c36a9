"""Output heads and the loss and metrics that go with each."""

import keras

OUTPUT_TYPES = ("classes", "binary", "regression")


def output_head(spec, name="head"):
    """The `Dense` layer that maps a<t> to y<t>: logits, or values for regression."""
    units = 1 if spec["type"] == "binary" else spec["size"]
    return keras.layers.Dense(units, name=name)


# A batch's loss is the mean over its weighted items (rows, or steps under a mask), so the all-zero rows that fill
# a shuffled bucket's last batch (weight 0, see `seqzoo.tasks.bucketing`) change neither the loss nor its gradient.
REDUCTION = "mean_with_sample_weight"


def loss_and_metrics(spec):
    """Returns `(loss, metrics)` for an output spec; classes are logits."""
    if spec["type"] == "classes":
        return (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=REDUCTION),
            [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    if spec["type"] == "binary":
        return (
            keras.losses.BinaryCrossentropy(from_logits=True, reduction=REDUCTION),
            [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
        )
    return keras.losses.MeanSquaredError(reduction=REDUCTION), [keras.metrics.MeanAbsoluteError(name="mae")]
