"""`save_run` (a finished run folder for a model trained elsewhere) and `finish_run`, the last stage of every run."""

from seqzoo.runs.folder import RunFolder
from seqzoo.runs.layout import CURVE
from seqzoo.runs.layout import METRICS
from seqzoo.runs.layout import MODEL
from seqzoo.runs.plots import training_curve
from seqzoo.training.evaluation import task_metrics


def save_run(out, model, task, record, history=()):
    """Writes `model` as a finished run folder, evaluated on the task's test split.

    Args:
        out: the new run folder (it must not hold a run).
        model: a seqzoo model, trained.
        task: its `Task`, with the vocabularies it was trained with.
        record: what `run.json` records (`model`, `task`, `task_options`,
            `batch_size`, ...; see `seqzoo.train`).
        history: the training's epochs, as `history.csv` rows.

    Returns:
        The `RunFolder`.
    """
    run = RunFolder(out)
    run.check_can_start()
    with run.lock():
        run.start(record, model.seqzoo_config, task.vocabularies)
        if history:
            run.write_history(list(history))
        run.set_stage("trained")
        finish_run(run, model, task, record["batch_size"])
    return run


def finish_run(run, model, task, batch_size):
    """From `trained` to `finished`: `model.keras`, the training curve, then `metrics.json` (test split)."""
    run.save_model(model, MODEL)
    figure = training_curve(run.history())
    if figure is not None:
        run.save_figure(figure, CURVE)
    run.write_json(METRICS, task_metrics(task, model, "test", batch_size))
    run.set_stage("finished")
