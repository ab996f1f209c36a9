"""The `seqzoo` command line: argparse only; each command calls the library.

Nothing heavy is imported until a command runs, so `seqzoo --help` and an
argument error answer without loading TensorFlow. A command's result goes to
stdout (one JSON line for train, evaluate and tune); progress and messages go
to stderr. A user's mistake is one line on stderr and exit code 2; Ctrl-C is
exit code 130, and the same command resumes.
"""

import contextlib
import os
import sys

from seqzoo.cli import parser
from seqzoo.cli.quiet_import import import_tensorflow_quietly
from seqzoo.runs.lock import FolderLock
from seqzoo.runs.lock import FolderLockedError


@contextlib.contextmanager
def _locked_before_tensorflow(args):
    """Takes the lock of `train`'s or `tune`'s existing `--out` folder before TensorFlow loads.

    A folder that another process works in is refused at once, not after
    TensorFlow's 10 s import. `train` keeps the lock (its own lock inside is
    then nested); `tune` lets it go again, as its chief may be another
    process. A folder that is not there yet is not locked here: nothing is
    written before `train` has checked every argument.
    """
    out = getattr(args, "out", None)
    if args.command not in ("train", "tune") or out is None or not os.path.isdir(out):
        yield
        return
    lock = FolderLock(out).acquire()
    if args.command == "tune":
        lock.release()
    try:
        yield
    finally:
        lock.release()


def main(argv=None):
    """Runs the `seqzoo` command; a user's mistake prints one line, not a traceback."""
    try:
        args = parser.parser().parse_args(argv)
    except SystemExit as exit:  # --help, --version, or a usage error (one line, exit code 2).
        return exit.code
    try:
        with _locked_before_tensorflow(args):
            if args.check is not None:  # What argparse cannot check alone, before TensorFlow loads.
                args.check(args)
            if args.needs_tensorflow:
                import_tensorflow_quietly()
            args.handler(args)
    except (ValueError, FileNotFoundError, FolderLockedError) as error:
        print(f"seqzoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"seqzoo {args.command}: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    return 0
