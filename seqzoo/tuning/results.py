"""A sweep's results: one row per trial, best first; the tables; how much each hyperparameter explains.

`results.csv` and `results.md` in the sweep folder hold every trial, best
first: rank (empty for a trial that did not finish), trial id, status,
score, the searched and fixed hyperparameters, the last value of each
metric, and the tuner process that ran it. `TuneResult` is what `tune`
returns; `read_results` reads it back from the folder.
"""

import csv
import dataclasses
import math
import os
import sys

from seqzoo import atomic
from seqzoo.tuning import trials
from seqzoo.tuning.spec import SweepSpec

RESULTS_CSV, RESULTS_MD, BEST_RUN = "results.csv", "results.md", "best_run"
TEXT_COLUMNS = (
    "trial",
    "status",
    "tuner",
    "tuner/trial_id",
)  # Trial ids such as "03" stay text.
# `importance` claims nothing from fewer finished trials than this: with a handful of trials, any
# hyperparameter "explains" most of the variance (3 trials of 2 hyperparameters: nearly always > 90%).
MIN_TRIALS = 8


@dataclasses.dataclass
class TuneResult:
    """A sweep's results.

    Attributes:
        out: the sweep folder.
        objective, direction: the metric optimized, `"min"` or `"max"`.
        rows: one dict per trial, best first (finished trials ranked 1, 2, ...; the others after, unranked).
        best_run: the best trial's run folder, or `None`.
    """

    out: str
    objective: str
    direction: str
    rows: list
    best_run: str = None

    @property
    def best(self):
        """The best trial's row (`None` when no trial finished)."""
        return self.rows[0] if self.rows and _finished(self.rows[0]) else None

    @property
    def finished(self):
        """How many trials finished (have a score)."""
        return sum(1 for row in self.rows if _finished(row))

    def summary(self):
        """The result as one JSON-able dict (what `seqzoo tune` prints as its one line on stdout)."""
        return {
            "out": self.out,
            "objective": self.objective,
            "direction": self.direction,
            "trials": len(self.rows),
            "finished": self.finished,
            "best": self.best,
            "best_run": self.best_run,
        }


def _finished(row):
    return row.get("rank") not in (None, "")


def collect_rows(search, hypermodel):
    """One row per trial of a keras-tuner `search`, finished ones ranked best first, then the others."""
    objective = search.oracle.objective
    finished, others = [], []
    for trial in sorted(search.oracle.trials.values(), key=lambda t: (len(t.trial_id), t.trial_id)):
        runs = trials.trial_runs(trials.trial_folder(search.project_dir, trial.trial_id))
        ends = [run for run in runs if run["event"] == "end"]
        values = trial.hyperparameters.values
        row = {
            "rank": "",
            "trial": trial.trial_id,
            "status": trial.status,
            "score": trial.score if trial.score is not None else "",
            **{key: values.get(key, "") for key in hypermodel.space},
            **{key: values.get(key, "") for key in hypermodel.fixed},
            **{key: value for key, value in values.items() if key.startswith("tuner/")},
            **{key: _last(trial, key) for key in trial.metrics.metrics},
            "tuner": (ends or runs or [{}])[-1].get("tuner_id", ""),
        }
        good = trial.status == "COMPLETED" and isinstance(row["score"], (int, float)) and math.isfinite(row["score"])
        (finished if good else others).append(row)
    finished.sort(key=lambda row: row["score"], reverse=objective.direction == "max")
    for rank, row in enumerate(finished, 1):
        row["rank"] = rank
    return finished + others


def _last(trial, metric):
    value = trial.metrics.get_last_value(metric)
    return "" if value is None else float(value)


def write_tables(rows, hypermodel, objective, out):
    """Writes `results.csv` and `results.md` atomically."""
    columns = ["rank", "trial", "status", "score", *hypermodel.space, *hypermodel.fixed]
    for row in rows:
        columns += [key for key in row if key not in columns and key != "tuner"]
    columns.append("tuner")
    with atomic.replacing(os.path.join(out, RESULTS_CSV)) as temporary:
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    atomic.write_text(
        os.path.join(out, RESULTS_MD),
        markdown(rows, columns, objective.name, objective.direction),
    )


def _format(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def markdown(rows, columns, objective, direction, count=None):
    """The rows (the first `count`) as a Markdown table, under a line on the objective and trials."""
    finished = sum(1 for row in rows if _finished(row))
    lines = [
        f"Objective: {objective} ({direction}); {finished} of {len(rows)} trials finished.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    shown = rows if count is None else rows[:count]
    lines += ["| " + " | ".join(_format(row.get(column, "")) for column in columns) + " |" for row in shown]
    return "\n".join(lines) + "\n"


def print_table(result, top):
    """Prints the `top` best trials and the best run on stderr."""
    if not result.rows:
        print("seqzoo tune: no trials.", file=sys.stderr)
        return
    columns = [column for column in result.rows[0] if column != ""]
    print(
        markdown(result.rows, columns, result.objective, result.direction, top),
        end="",
        file=sys.stderr,
    )
    best = result.best
    if best is not None:
        print(
            f"best: trial {best['trial']}, {result.objective} {_format(best['score'])}; run folder {result.best_run}",
            file=sys.stderr,
        )


def read_results(out):
    """A sweep's `TuneResult`, read from `out/results.csv` and `out/sweep.json`."""
    spec = SweepSpec.read(out)
    with open(os.path.join(out, RESULTS_CSV), newline="") as file:
        rows = [
            {key: value if key in TEXT_COLUMNS else parse(value) for key, value in row.items()}
            for row in csv.DictReader(file)
        ]
    best_run = os.path.join(out, BEST_RUN)
    finished = os.path.exists(os.path.join(best_run, "metrics.json"))
    return TuneResult(out, spec.objective, spec.direction, rows, best_run if finished else None)


def parse(text):
    """A CSV cell as the value it was: bool, int, float, or the text."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def importance(rows, hypermodel, min_trials=MIN_TRIALS):
    """How much of the score's variation each searched hyperparameter explains, in [0, 1].

    For a numeric range, the squared correlation of the score with the value
    (its logarithm for log sampling); for choices and booleans, the share of
    the score's variance between the groups of equal value (eta squared).
    Only finished trials count. Nothing is claimed from fewer than
    `min_trials` finished trials (an empty dict), nor for a hyperparameter
    that took fewer than two values.

    Args:
        rows: a `TuneResult`'s rows.
        hypermodel: the sweep's `HyperModel` (its `space` says what was searched, and how).
        min_trials: the fewest finished trials to say anything from.

    Returns:
        `{key: share}` for the searched keys that can be judged.

    Example:

    >>> seqzoo.tuning.importance(result.rows, seqzoo.tuning.HyperModel("gru_uni", "japanese_vowels"))
    {'backbone.units': 0.04, 'optimizer.learning_rate': 0.82}
    """
    finished = [row for row in rows if _finished(row)]
    if len(finished) < min_trials:
        return {}
    scores = [row["score"] for row in finished]
    result = {}
    for key, spec in hypermodel.space.items():
        values = [row[key] for row in finished]
        if len(set(map(str, values))) < 2:
            continue
        if "int" in spec or "float" in spec:
            xs = [math.log(v) if spec.get("sampling") == "log" else float(v) for v in values]
            result[key] = _correlation(xs, scores) ** 2
        else:
            result[key] = _eta_squared([str(v) for v in values], scores)
    return result


def _correlation(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return 0.0 if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def _eta_squared(groups, ys):
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys)
    if total == 0:
        return 0.0
    between = 0.0
    for group in set(groups):
        members = [y for g, y in zip(groups, ys) if g == group]
        between += len(members) * (sum(members) / len(members) - mean) ** 2
    return between / total
