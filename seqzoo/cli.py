"""The `seqzoo` command line."""

import argparse
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
        **overrides,
    )
    from seqzoo.run_folder import METRICS, read_json

    print(json.dumps({"run": folder, **read_json(os.path.join(folder, METRICS))}))


def _evaluate(args):
    import seqzoo

    metrics = seqzoo.evaluate(args.run, task=args.task, split=args.split, data_dir=args.data_dir)
    print(json.dumps({"run": args.run, **metrics}))


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
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser("evaluate", help="a run's metrics on its task's test split, as JSON")
    evaluate.add_argument("run")
    evaluate.add_argument("--task", help="another task to evaluate on")
    evaluate.add_argument("--split", default="test", choices=["test", "validation"])
    evaluate.add_argument("--data-dir")
    evaluate.set_defaults(handler=_evaluate)
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
