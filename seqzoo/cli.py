"""The `seqzoo` command line."""

import argparse
import contextlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _list(args):
    import seqzoo

    rows = [("name", "topology", "cell", "direction", "depth", "parameters")]
    for name in seqzoo.list_models(args.pattern):
        config = seqzoo.get_config(name)
        backbone = config["backbone"]
        rows.append(
            (
                name,
                config["topology"],
                backbone["cell"],
                "bi" if backbone["bidirectional"] else "uni",
                str(backbone["depth"]),
                f"{seqzoo.build(name).count_params():,}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def _show(args):
    import yaml

    import seqzoo

    config = seqzoo.get_config(args.name)
    print(yaml.safe_dump(config, sort_keys=False).rstrip())
    seqzoo.build(args.name).summary()


def _tasks(args):
    import seqzoo
    from seqzoo.tasks.catalog import OFFLINE_TASKS
    from seqzoo.tasks.catalog import TASKS

    for name in seqzoo.list_tasks():
        task_class, arguments = TASKS[name]
        where = "offline" if name in OFFLINE_TASKS else "download"
        print(f"{name:28} {task_class.topology:16} {where:9} {arguments['description']}")


def _train(args):
    import seqzoo

    overrides = dict(_parse_override(item) for item in args.set)
    with contextlib.redirect_stdout(sys.stderr):  # Progress (Keras, TFDS) to stderr: stdout is the JSON.
        folder = seqzoo.train(
            args.model,
            args.task,
            epochs=args.epochs,
            batch_size=args.batch_size,
            out=args.out,
            from_run=args.from_run,
            freeze_backbone=args.freeze_backbone,
            data_dir=args.data_dir,
            tensorboard=args.tensorboard,
            strategy=args.strategy,
            **overrides,
        )
    from seqzoo.run_folder import METRICS, read_json

    print(json.dumps({"run": folder, **read_json(os.path.join(folder, METRICS))}))


def _evaluate(args):
    import seqzoo

    with contextlib.redirect_stdout(sys.stderr):  # TFDS's messages to stderr: stdout is the JSON.
        metrics = seqzoo.evaluate(args.run, task=args.task, split=args.split, data_dir=args.data_dir)
    print(json.dumps({"run": args.run, **metrics}))


def _generate(args):
    import seqzoo
    from seqzoo import music
    from seqzoo.run_folder import TASK, read_json

    texts = list(args.texts) + list(args.prefix or [])
    sequences = seqzoo.generate(
        args.run,
        num=args.num,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        beam=args.beam,
        prefix=texts or None,
        condition=args.condition,
        seed=args.seed,
        max_length=args.max_length,
        context=args.context,
        greedy=args.greedy,
        length_penalty=args.length_penalty,
        forbid_unk=not args.allow_unk,
        data_dir=args.data_dir,
    )
    if args.out is None:
        for sequence in sequences:
            print(sequence)
        return
    record = read_json(os.path.join(args.run, TASK))
    if seqzoo.load_task(record["task"]).tokenizer == "integers":  # Melodies: MIDI pitches, 0 a rest.
        stem = os.path.splitext(args.out)[0]
        for index, sequence in enumerate(sequences, 1):
            path = stem if len(sequences) == 1 else f"{stem}_{index}"
            for written in music.write_melody([int(token) for token in sequence.split()], path):
                print(written)
        return
    with open(args.out, "w") as file:
        file.writelines(f"{sequence}\n" for sequence in sequences)
    print(args.out)


def _tune(args):
    import seqzoo

    overrides = dict(_parse_override(item) for item in args.set)
    try:
        result = seqzoo.tune(
            args.model,
            args.task,
            tuner=args.tuner,
            max_trials=args.max_trials or None,
            epochs=args.epochs,
            out=args.out,
            data_dir=args.data_dir,
            objective=args.objective,
            direction=args.direction,
            executions_per_trial=args.executions_per_trial,
            overwrite=args.overwrite,
            workers=args.workers,
            batch_size=args.batch_size,
            seed=args.seed,
            hyperparameters=json.loads(args.hyperparameters) if args.hyperparameters else None,
            oracle_ip=args.oracle_ip,
            oracle_port=args.oracle_port,
            worker_timeout=args.worker_timeout,
            verbose=args.verbose,
            top=args.top,
            **overrides,
        )
    except RuntimeError as error:  # The chief of a --workers sweep failed: its log says why.
        raise SystemExit(f"seqzoo tune: error: {error}") from error
    if result is not None:  # None: a worker process of a chief/worker sweep.
        print(json.dumps({"out": result.out, "best_run": result.best_run, "objective": result.objective, "best": result.best}))


TUNE_EPILOG = """\
distributed sweeps (keras-tuner's chief/worker mode):
  --workers N starts a chief (the oracle, a gRPC service) and N worker processes
  on this machine and prints how to add workers elsewhere. To run the processes
  yourself (e.g. on several machines sharing OUT), run this same command in each
  with keras-tuner's variables set:
    KERASTUNER_TUNER_ID=chief | tuner0 | tuner1 | ...   (one chief, a distinct id per worker)
    KERASTUNER_ORACLE_IP=127.0.0.1                      (the address the chief listens on)
    KERASTUNER_ORACLE_PORT=PORT                         (a free port)
  The chief's gRPC service has no authentication: it listens on 127.0.0.1 unless
  --oracle-ip (or KERASTUNER_ORACLE_IP) says otherwise; use another address only
  on a trusted network. A worker silent for --worker-timeout seconds counts as
  dead; its trial goes to another worker. Running the same command again
  resumes an interrupted sweep.
"""


def _parse_override(item):
    """`backbone.units=64` -> `("backbone.units", 64)`, the value read as YAML."""
    import yaml

    key, separator, value = item.partition("=")
    if not separator:
        raise ValueError(f"Received --set {item!r}; expected KEY=VALUE, e.g. backbone.units=64.")
    return key, yaml.safe_load(value)


def parser():
    """The argument parser of the `seqzoo` command."""
    root = argparse.ArgumentParser(prog="seqzoo", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="the named models, as a table")
    listing.add_argument("pattern", nargs="?", help="an fnmatch pattern, e.g. 'lstm_*'")
    listing.set_defaults(handler=_list)

    show = commands.add_parser("show", help="a model's resolved config and summary")
    show.add_argument("name")
    show.set_defaults(handler=_show)

    tasks = commands.add_parser("tasks", help="the ready-made tasks")
    tasks.set_defaults(handler=_tasks)

    train = commands.add_parser("train", help="train a model on a task; prints the test metrics as JSON")
    train.add_argument("model", help="a name from `seqzoo list`")
    train.add_argument("--task", required=True, help="a name from `seqzoo tasks`")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--out", help="the run folder; an unfinished one is resumed")
    train.add_argument("--from", dest="from_run", help="fine-tune from this finished run folder")
    train.add_argument("--freeze-backbone", action="store_true", help="with --from, keep the recurrent layers fixed")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override, e.g. backbone.units=64")
    train.add_argument("--data-dir", help="the TFDS data folder")
    train.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to OUT/logs")
    train.add_argument(
        "--strategy",
        choices=["mirrored", "multiworker"],
        help="tf.distribute: mirrored (this machine's GPUs) or multiworker (the machines in TF_CONFIG; "
        "run the same command on each, the chief writes OUT); TensorFlow backend only",
    )
    train.set_defaults(handler=_train)

    tune = commands.add_parser(
        "tune",
        help="search a model's hyperparameters (its config's search space) with keras-tuner",
        description="Searches the hyperparameters in a named config's `search` section (its values are the "
        "defaults) on a task, with keras-tuner. Writes OUT/results.csv, results.md and results.png (trials, "
        "best first) and OUT/best_run/ (the best model as a run folder), prints the best trials and a JSON "
        "line. Running the same command again resumes the sweep.",
        epilog=TUNE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("model", help="a name from `seqzoo list`")
    tune.add_argument("--task", required=True, help="a name from `seqzoo tasks`")
    tune.add_argument("--tuner", default="random", help="random (default), hyperband, bayesian or grid")
    tune.add_argument("--max-trials", type=int, default=10, help="the most trials (default 10; 0: the tuner's own end, for grid and hyperband)")
    tune.add_argument("--epochs", type=int, default=5, help="epochs per trial (hyperband: the most per model; default 5)")
    tune.add_argument("--out", help="the sweep folder (default runs/tune-MODEL-TASK-TUNER); an unfinished sweep is resumed")
    tune.add_argument("--objective", default="val_loss", help="a metric the trials log, e.g. val_loss (default) or val_accuracy")
    tune.add_argument("--direction", choices=["min", "max"], help="default: max for accuracies, min otherwise")
    tune.add_argument("--executions-per-trial", type=int, default=1, help="models trained per trial, scores averaged")
    tune.add_argument("--batch-size", type=int, default=32)
    tune.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override for every trial; fixes a searched key")
    tune.add_argument("--data-dir", help="the TFDS data folder")
    tune.add_argument("--seed", type=int, help="the tuner's random seed")
    tune.add_argument("--overwrite", action="store_true", help="start over, deleting the sweep in OUT")
    tune.add_argument("--workers", type=int, default=0, help="start a chief and N worker processes on this machine")
    tune.add_argument("--oracle-ip", default="127.0.0.1", help="the address the chief listens on (default 127.0.0.1; no authentication)")
    tune.add_argument("--oracle-port", type=int, help="the chief's port (default: a free one)")
    tune.add_argument("--worker-timeout", type=float, default=60.0, help="seconds of silence after which a worker counts as dead (default 60)")
    tune.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2], help="keras-tuner's and Keras's verbosity")
    tune.add_argument("--top", type=int, default=10, help="how many of the best trials to print")
    tune.add_argument("--hyperparameters", help=argparse.SUPPRESS)  # keras-tuner HyperParameters as JSON, for --workers.
    tune.set_defaults(handler=_tune)

    evaluate = commands.add_parser("evaluate", help="a run's metrics on its task's test split, as JSON")
    evaluate.add_argument("run")
    evaluate.add_argument("--task", help="another task to evaluate on")
    evaluate.add_argument("--split", default="test", choices=["test", "validation"])
    evaluate.add_argument("--data-dir")
    evaluate.set_defaults(handler=_evaluate)

    generate = commands.add_parser(
        "generate",
        help="novel sequences from a generative run (names, ISO dates, melodies), one per line",
        description="Samples (or greedy / beam-search decodes) from a finished run of a language, "
        "one-to-many or encoder-decoder model. Prints one sequence per line, or with --out writes them "
        "(a melody run: OUT's stem as .mid and .musicxml) and prints the written paths.",
    )
    generate.add_argument("run", help="a finished run folder")
    generate.add_argument("texts", nargs="*", metavar="TEXT", help="source text(s) to translate, or prefixes (as --prefix), right after RUN")
    generate.add_argument("--num", type=int, default=1, help="sequences per prefix / condition / source (default 1)")
    generate.add_argument("--temperature", type=float, help="> 0: sampling temperature (default 1 when sampling)")
    generate.add_argument("--top-k", type=int, help="sample among the K most likely tokens")
    generate.add_argument("--top-p", type=float, help="sample from the nucleus of mass P, in (0, 1]")
    generate.add_argument("--beam", type=int, help="beam search of this width (deterministic)")
    generate.add_argument("--length-penalty", type=float, default=0.7, help="beam search: divide log P by Ty^A (default 0.7)")
    generate.add_argument("--greedy", action="store_true", help="pick the most likely token each step")
    generate.add_argument("--prefix", action="append", help="start each sequence with this text (a source text for a translator); repeatable")
    generate.add_argument("--condition", action="append", help="a class of the task, e.g. female or minor; repeatable")
    generate.add_argument("--context", help="a translator's context before each source, e.g. en_US for dates")
    generate.add_argument("--seed", type=int, help="seed for reproducible sampling")
    generate.add_argument("--max-length", type=int, help="most tokens to generate after the prefix (default 100)")
    generate.add_argument("--allow-unk", action="store_true", help="let the unknown token be generated")
    generate.add_argument("--out", help="write here instead (melodies: OUT.mid and OUT.musicxml)")
    generate.add_argument("--data-dir", help="the TFDS data folder (for the task's class names)")
    generate.set_defaults(handler=_generate)
    return root


def main(argv=None):
    """Runs the `seqzoo` command; a user's mistake prints one line, not a traceback."""
    args = parser().parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(f"seqzoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
