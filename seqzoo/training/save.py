"""`save_run`: a finished run folder for a model trained elsewhere (a sweep's best trial, a preset)."""

from seqzoo.runs.folder import CURVE
from seqzoo.runs.folder import METRICS
from seqzoo.runs.folder import MODEL
from seqzoo.runs.folder import RunFolder
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
            run.save_figure(training_curve(list(history)), CURVE)
        run.save_model(model, MODEL)
        run.set_stage("trained")
        run.write_json(METRICS, task_metrics(task, model, "test", record["batch_size"]))
        run.set_stage("finished")
    return run
