"""`python -m seqzoo.tuning OUT`: one process of the sweep in OUT, as its `sweep.json` describes it.

Alone it resumes the sweep; with keras-tuner's variables set
(`KERASTUNER_TUNER_ID=chief|tuner0|...`, `KERASTUNER_ORACLE_IP`,
`KERASTUNER_ORACLE_PORT`) it is the chief or a worker of a chief/worker
sweep, as `seqzoo.tune(..., workers=N)` starts them. The result (not in a
worker) is one JSON line on stdout; progress goes to stderr. Exit codes: 0
done, 2 a bad sweep folder, 130 interrupted (Ctrl-C).
"""

import argparse
import json
import sys

from seqzoo.tuning.sweep import resume


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m seqzoo.tuning", description=__doc__.split("\n")[0])
    parser.add_argument("out", help="a sweep folder (one that holds sweep.json)")
    parser.add_argument(
        "--top",
        type=int,
        default=10,
        help="how many of the best trials to print (default 10)",
    )
    arguments = parser.parse_args(argv)
    try:
        result = resume(arguments.out, top=arguments.top)
    except ValueError as error:
        print(f"python -m seqzoo.tuning: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if result is not None:
        print(json.dumps(result.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
