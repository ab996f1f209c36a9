"""A sweep's plot, `results.png`: the score of each trial, and the score against the hyperparameter that explains most.

Each panel says how many trials stand behind it. The right panel names a
share of the variance only from `results.MIN_TRIALS` finished trials or more
(see `results.importance`); with fewer it plots the score against the first
searched hyperparameter and says that the trials are too few to rank them.
"""

import os

from seqzoo import atomic
from seqzoo.tuning.results import MIN_TRIALS
from seqzoo.tuning.results import importance
from seqzoo.tuning.results import parse

RESULTS_PNG = "results.png"


def plot_results(rows, hypermodel, objective, path):
    """Draws the sweep's plot on a `matplotlib.figure.Figure` and saves it to `path` atomically.

    Args:
        rows: a `TuneResult`'s rows.
        hypermodel: the sweep's `HyperModel`.
        objective: the `keras_tuner.Objective`.
        path: where to write the PNG.

    Returns:
        The `matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure

    finished = [row for row in rows if row["rank"] != ""]
    finished.sort(key=lambda row: (len(str(row["trial"])), str(row["trial"])))
    figure = Figure(figsize=(11, 4))
    left, right = figure.subplots(1, 2)
    if finished:
        positions = list(range(len(finished)))
        scores = [row["score"] for row in finished]
        pick = max if objective.direction == "max" else min
        left.plot(positions, scores, "o", label="trial")
        left.plot(
            positions,
            [pick(scores[: i + 1]) for i in positions],
            "-",
            drawstyle="steps-post",
            label="best so far",
        )
        rotation = 90 if len(finished) > 20 else 0
        left.set_xticks(positions, [str(row["trial"]) for row in finished], rotation=rotation)
        left.legend()
    left.set_xlabel("trial")
    left.set_ylabel(f"{objective.name} ({objective.direction})")
    left.set_title(f"score per trial ({len(finished)} finished of {len(rows)})")
    _draw_importance(right, finished, hypermodel)
    right.set_ylabel(objective.name)
    figure.tight_layout()
    atomic.save_figure(figure, path)
    return figure


def _draw_importance(axes, finished, hypermodel):
    weights = importance(finished, hypermodel)
    varied = [key for key in hypermodel.space if len({str(row[key]) for row in finished}) > 1]
    if not varied:
        axes.text(
            0.5,
            0.5,
            "needs finished trials with\ndifferent hyperparameters",
            ha="center",
            va="center",
        )
        axes.set_title(f"score vs a hyperparameter ({len(finished)} finished trials)")
        return
    key = max(weights, key=weights.get) if weights else varied[0]
    spec = hypermodel.space[key]
    xs = [row[key] for row in finished]
    scores = [row["score"] for row in finished]
    if "int" in spec or "float" in spec:
        axes.plot(xs, scores, "o")
        if spec.get("sampling") == "log":
            from matplotlib.ticker import NullFormatter

            axes.set_xscale("log")
            if max(xs) >= 10 * min(xs):  # Labelled decades; matplotlib's minor labels would overlap them.
                axes.xaxis.set_minor_formatter(NullFormatter())
    else:
        labels = sorted({str(x) for x in xs}, key=_order)
        axes.plot([labels.index(str(x)) for x in xs], scores, "o")
        axes.set_xticks(range(len(labels)), labels)
    axes.set_xlabel(key)
    if weights:
        axes.set_title(f"score vs {key}\nexplains {weights[key]:.0%} of the variance ({len(finished)} trials)")
    else:
        axes.set_title(
            f"score vs {key}\n{len(finished)} trials: too few to rank the hyperparameters (needs {MIN_TRIALS})"
        )


def _order(text):
    """Numbers first, in order, then text."""
    value = parse(text)
    return (1, text) if isinstance(value, str) else (0, value)


def write_plot(rows, hypermodel, objective, out):
    """Writes `out/results.png`."""
    plot_results(rows, hypermodel, objective, os.path.join(out, RESULTS_PNG))
