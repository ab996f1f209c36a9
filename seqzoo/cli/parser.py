"""The `seqzoo` command's argument parser; its defaults are the library's own constants."""

import argparse

from seqzoo import _version
from seqzoo.cli import arguments
from seqzoo.cli import commands as run
from seqzoo.cli import use
from seqzoo.training import options as training
from seqzoo.tuning import defaults as tuning

TUNE_EPILOG = """\
distributed sweeps (keras-tuner's chief/worker mode):
  --workers N starts a chief (the oracle, a gRPC service) and N worker processes on
  this machine and prints how to add workers elsewhere. Each process runs
  `python -m seqzoo.tuning OUT`, which reads the sweep's own OUT/sweep.json, with
  keras-tuner's variables set:
    KERASTUNER_TUNER_ID=chief | tuner0 | tuner1 | ...   (one chief, a distinct id per worker)
    KERASTUNER_ORACLE_IP=127.0.0.1                      (the address the chief listens on)
    KERASTUNER_ORACLE_PORT=PORT                         (a free port)
  The chief's gRPC service has no authentication: it listens on 127.0.0.1 unless
  --oracle-ip says otherwise; use another address only on a trusted network. A worker
  silent for --worker-timeout seconds counts as dead; its trial goes to another worker.
"""


DESCRIPTION = (
    "A zoo of recurrent sequence models for Keras 3 (SimpleRNN, GRU, LSTM, peephole LSTM): build named models, train "
    "them on ready-made tasks that work offline, evaluate, generate names, dates and melodies, export and tune. "
    "A command's result goes to stdout; progress and messages to stderr."
)
RUN_HELP = "a finished run folder, or preset:NAME (see `seqzoo presets`)"
JSON_HELP = "one JSON object per line, naming the input, condition or prefix it answers"


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (what was received, what is allowed) instead of the usage text."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser():
    """The argument parser of the `seqzoo` command."""
    root = _Parser(prog="seqzoo", description=DESCRIPTION)
    root.add_argument("--version", action="version", version=f"seqzoo {_version.__version__}")
    root.set_defaults(needs_tensorflow=True, check=None)
    commands = root.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="the named models, as a table")
    listing.add_argument("pattern", nargs="?", help="an fnmatch pattern, e.g. 'lstm_*'")
    listing.set_defaults(handler=run.list_models, needs_tensorflow=False)

    show = commands.add_parser("show", help="a model's or a run's resolved config (stdout) and summary (stderr)")
    show.add_argument(
        "model", type=arguments.model_or_run, help="a name from `seqzoo list`, a YAML file, a run folder or preset:NAME"
    )
    show.set_defaults(handler=run.show, needs_tensorflow=False)

    tasks = commands.add_parser("tasks", help="the ready-made tasks, offline ones first")
    tasks.set_defaults(handler=run.tasks, needs_tensorflow=False)

    presets = commands.add_parser(
        "presets", help="the trained presets shipped with seqzoo: name, task, model, test metric, overrides"
    )
    presets.set_defaults(handler=run.presets, needs_tensorflow=False)

    train = commands.add_parser("train", help="train a model on a task; prints the test metrics as JSON")
    train.add_argument(
        "model",
        nargs="?",
        type=arguments.model,
        help="a name from `seqzoo list`, or a YAML config file; with --from, omit it to build the run's own model",
    )
    _task_arguments(train, required=True)
    train.add_argument(
        "--epochs", type=arguments.count(1), default=training.EPOCHS, help=f"(default {training.EPOCHS})"
    )
    train.add_argument(
        "--batch-size", type=arguments.count(1), default=training.BATCH_SIZE, help=f"(default {training.BATCH_SIZE})"
    )
    train.add_argument(
        "--patience",
        type=arguments.count(1),
        default=training.PATIENCE,
        help="epochs without a better val_loss before stopping",
    )
    train.add_argument(
        "--seed",
        type=arguments.count(0),
        default=training.SEED,
        help=f"random seed, recorded in the run (default {training.SEED})",
    )
    train.add_argument("--out", help="the run folder; running the same command again resumes it")
    train.add_argument(
        "--from",
        dest="from_run",
        type=arguments.run,
        help="fine-tune: start from every weight of this finished run (or preset:NAME)",
    )
    train.add_argument("--freeze-backbone", action="store_true", help="with --from, keep the recurrent layers fixed")
    train.add_argument(
        "--partial", action="store_true", help="with --from, copy the layers that fit and start the others afresh"
    )
    train.add_argument(
        "--set",
        action=arguments.overrides,
        default={},
        metavar="KEY=VALUE",
        help="config override (repeatable)",
    )
    train.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to OUT/logs")
    train.add_argument(
        "--strategy",
        choices=["mirrored", "multiworker"],
        help="tf.distribute: mirrored (this machine's GPUs) or multiworker (the machines in TF_CONFIG; run the same "
        "command on each, the chief writes OUT); TensorFlow backend only",
    )
    train.set_defaults(handler=run.train)

    tune = commands.add_parser(
        "tune",
        epilog=TUNE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="search a model's hyperparameters (its config's search space) with keras-tuner",
        description="Searches the hyperparameters in a config's `search` section (its values are the defaults) on a "
        "task, with keras-tuner. Writes OUT/results.csv, results.md and results.png and OUT/best_run/ (the best "
        "model as a run folder), prints the table on stderr and a JSON line on stdout. Running the same command "
        "again resumes the sweep; Ctrl-C stops it at once.",
    )
    tune.add_argument("model", type=arguments.model, help="a name from `seqzoo list`, or a YAML config file")
    tune.add_argument("--task", required=True, type=arguments.task, help="a name from `seqzoo tasks`")
    tune.add_argument(
        "--tuner",
        default=tuning.TUNER,
        type=arguments.choice("tuner", tuning.TUNER_NAMES),
        help=", ".join(tuning.TUNER_NAMES),
    )
    tune.add_argument(
        "--max-trials",
        type=arguments.count(0),
        default=tuning.MAX_TRIALS,
        help=f"the most trials (default {tuning.MAX_TRIALS}; 0: the tuner's own end, "
        f"{' and '.join(tuning.OWN_END)} only)",
    )
    tune.add_argument(
        "--epochs",
        type=arguments.count(1),
        default=tuning.EPOCHS,
        help="epochs per trial (hyperband: the most per model)",
    )
    tune.add_argument("--out", help="the sweep folder; an unfinished sweep is resumed")
    tune.add_argument(
        "--objective", default=tuning.OBJECTIVE, help="a metric the trials log, e.g. val_loss or val_accuracy"
    )
    tune.add_argument("--direction", choices=["min", "max"], help="default: max for accuracies, min otherwise")
    tune.add_argument(
        "--executions-per-trial",
        type=arguments.count(1),
        default=tuning.EXECUTIONS_PER_TRIAL,
        help="models trained per trial, scores averaged",
    )
    tune.add_argument("--batch-size", type=arguments.count(1), default=training.BATCH_SIZE)
    tune.add_argument(
        "--set",
        action=arguments.overrides,
        default={},
        metavar="KEY=VALUE",
        help="override for every trial; fixes a searched key",
    )
    tune.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder")
    tune.add_argument("--seed", type=arguments.count(0), default=training.SEED, help="the tuner's random seed")
    tune.add_argument("--overwrite", action="store_true", help="start over, deleting the sweep in OUT")
    tune.add_argument(
        "--workers", type=arguments.count(0), default=0, help="start a chief and N worker processes on this machine"
    )
    tune.add_argument(
        "--oracle-ip",
        default=tuning.LOOPBACK,
        help="where the chief listens (no authentication: keep it on loopback or a trusted network)",
    )
    tune.add_argument("--oracle-port", type=arguments.count(1), help="the chief's port (default: a free one)")
    tune.add_argument(
        "--worker-timeout",
        type=float,
        default=tuning.WORKER_TIMEOUT,
        help="seconds of silence after which a worker counts as dead",
    )
    tune.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    tune.add_argument("--top", type=arguments.count(1), default=tuning.TOP, help="how many of the best trials to print")
    tune.set_defaults(handler=run.tune)

    evaluate = commands.add_parser("evaluate", help="a run's metrics on its task's test split, as JSON")
    evaluate.add_argument("run", type=arguments.run, help=RUN_HELP)
    evaluate.add_argument(
        "--task", type=arguments.task, help="another task to evaluate on (with the run's vocabularies)"
    )
    evaluate.add_argument("--split", default="test", choices=["test", "validation"])
    evaluate.add_argument("--batch-size", type=arguments.count(1), help="default: the run's own")
    evaluate.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder (default: the run's own)")
    evaluate.add_argument("--json", action="store_true", help="name the run, task and split beside the metrics")
    evaluate.set_defaults(handler=run.evaluate)

    generate = commands.add_parser(
        "generate",
        help="novel sequences from a generative run (names, ISO dates, melodies), one per line",
        description="Samples (or greedy / beam-search decodes) from a finished run of a language, one-to-many or "
        "encoder-decoder model. Prints one sequence per line, or with --out writes them (a melody run: OUT's stem "
        "as .mid and .musicxml) and prints the written paths.",
    )
    generate.add_argument("run", type=arguments.run, help=RUN_HELP)
    generate.add_argument(
        "texts", nargs="*", metavar="TEXT", help="source texts to translate, or prefixes (as --prefix)"
    )
    generate.add_argument("--num", type=arguments.count(1), default=1, help="sequences per prefix / condition / source")
    generate.add_argument("--temperature", type=float, help="> 0: sampling temperature (default 1 when sampling)")
    generate.add_argument("--top-k", type=arguments.count(1), help="sample among the K most likely tokens")
    generate.add_argument("--top-p", type=float, help="sample from the nucleus of mass P, in (0, 1]")
    generate.add_argument("--beam", type=arguments.count(1), help="beam search of this width (deterministic)")
    generate.add_argument("--length-penalty", type=float, help="beam search: divide log P by Ty^A (default 0.7)")
    generate.add_argument("--greedy", action="store_true", help="pick the most likely token each step")
    generate.add_argument(
        "--prefix", action="append", default=[], help="start each sequence with this text (repeatable)"
    )
    generate.add_argument("--condition", action="append", help="a class of the task, e.g. female or minor (repeatable)")
    generate.add_argument(
        "--context", help="a translator's context before each source (dates: a locale, default en_US)"
    )
    generate.add_argument("--seed", type=arguments.count(0), help="seed for reproducible sampling")
    generate.add_argument(
        "--max-length", type=arguments.count(1), help="most tokens to generate after the prefix (default 100)"
    )
    generate.add_argument("--allow-unk", action="store_true", help="let the unknown token be generated")
    generate.add_argument("--out", help="write here instead (melodies: OUT.mid and OUT.musicxml)")
    generate.add_argument("--json", action="store_true", help=JSON_HELP)
    generate.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder (for the task's class names)")
    generate.set_defaults(handler=run.generate, check=run.check_generate)

    export = commands.add_parser(
        "export",
        help="a run as a TensorFlow SavedModel that serves strings (generation loop and vocabularies inside)",
        description="Writes a finished run as a TensorFlow SavedModel: `serve` (the model on ids), and for a "
        "generative run `generate(texts, temperature, seed, beam)` with the whole decoding loop, or for a "
        "classifier `classify(texts)` -> class probabilities. Loading it needs only TensorFlow: "
        "tf.saved_model.load(OUT).generate(tf.constant([...])). Prints a JSON line with the endpoints.",
    )
    export.add_argument("run", type=arguments.run, help=RUN_HELP)
    export.add_argument("--out", required=True, help="the SavedModel folder to write: new or empty")
    export.add_argument(
        "--overwrite", action="store_true", help="replace the SavedModel in OUT (a folder of other files is refused)"
    )
    export.add_argument("--max-length", type=arguments.count(1), help="most tokens a generation writes (default 100)")
    export.add_argument("--allow-unk", action="store_true", help="let the unknown token be generated")
    export.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder (for class names)")
    export.set_defaults(handler=run.export)
    _use_commands(commands)
    return root


def _use_commands(commands):
    """`seqzoo predict` and `seqzoo score`: ask a trained run about your own inputs."""
    predict = commands.add_parser(
        "predict",
        help="a classifier's label, a tagger's tags or the harmonizer's bass line for your inputs",
        description="Predicts with a finished classifier or tagger run: a label and its probabilities per input, or "
        "one tag per token (the chorales harmonizer: the bass line for a soprano line). Prints one line per input.",
    )
    predict.add_argument("run", type=arguments.run, help=RUN_HELP)
    predict.add_argument("inputs", nargs="*", metavar="INPUT", help="texts (or a soprano line: MIDI pitches)")
    predict.add_argument(
        "--input",
        dest="input_file",
        type=arguments.input_file,
        metavar="FILE",
        help="text lines, a CSV/TSV with a text column, .npy/.npz frames, or a melody (.mid, .musicxml)",
    )
    predict.add_argument("--json", action="store_true", help=JSON_HELP)
    predict.add_argument(
        "--out", help="write the lines here (a melody: the harmonized score as OUT.mid and OUT.musicxml)"
    )
    predict.add_argument("--batch-size", type=arguments.count(1), default=64, help="inputs per call of the model")
    predict.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder (for class names)")
    predict.set_defaults(handler=use.predict, check=use.check_predict)

    score = commands.add_parser(
        "score",
        help="how likely a language model finds each text: bits per token, perplexity, log-probabilities",
        description="Scores texts under a finished language model (or one-to-many model, with --condition): the "
        "log-probability of each text and of each of its tokens, bits per token and perplexity. Prints one line per "
        "text: log-probability, bits per token, perplexity, text.",
    )
    score.add_argument("run", type=arguments.run, help=RUN_HELP)
    score.add_argument("texts", nargs="+", metavar="TEXT", help="the texts to score")
    score.add_argument("--condition", help="a one-to-many run's class every text is scored under, e.g. female")
    score.add_argument("--json", action="store_true", help=JSON_HELP)
    score.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder (for condition names)")
    score.set_defaults(handler=use.score)


def _task_arguments(command, required):
    command.add_argument(
        "--task",
        required=required,
        type=arguments.task,
        help="a name from `seqzoo tasks`, tfds:NAME, csv:PATH or folder:PATH",
    )
    command.add_argument(
        "--task-option",
        action=arguments.key_values("text_column=review"),
        default={},
        metavar="KEY=VALUE",
        help="an option of the task (repeatable), e.g. topology=many_to_one for tfds:NAME",
    )
    command.add_argument("--data-dir", type=arguments.folder, help="the TFDS data folder")
