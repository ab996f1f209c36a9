"""The training curve of a run, drawn on a `matplotlib.figure.Figure` (never pyplot's backend)."""

from matplotlib.figure import Figure


def training_curve(rows):
    """One panel per logged metric, train and validation, against the epoch.

    Args:
        rows: the rows of `history.csv`, dicts of strings (`epoch`, `loss`,
            `val_loss`, ...).

    Returns:
        A `matplotlib.figure.Figure`, or `None` when there is no row.
    """
    if not rows:
        return None
    metrics = [key for key in rows[0] if key != "epoch" and not key.startswith("val_") and key != "learning_rate"]
    figure = Figure(figsize=(5 * len(metrics), 3.5))
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    epochs = [int(row["epoch"]) + 1 for row in rows]
    for axis, metric in zip(axes, metrics):
        axis.plot(epochs, [float(row[metric]) for row in rows], marker="o", label="train")
        if f"val_{metric}" in rows[0]:
            axis.plot(epochs, [float(row[f"val_{metric}"]) for row in rows], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.tight_layout()
    return figure
