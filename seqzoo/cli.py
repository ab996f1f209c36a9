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


def parser():
    """The argument parser of the `seqzoo` command."""
    root = argparse.ArgumentParser(prog="seqzoo", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="the named models, as a table")
    listing.add_argument("pattern", nargs="?", help="an fnmatch pattern, e.g. 'lstm_*'")
    listing.set_defaults(run=_list)

    show = commands.add_parser("show", help="a model's resolved config and summary")
    show.add_argument("name")
    show.set_defaults(run=_show)
    return root


def main(argv=None):
    """Runs the `seqzoo` command; a user's mistake prints one line, not a traceback."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(f"seqzoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
