"""How long the `seqzoo` command takes to answer, against `python -c "import tensorflow"` alone.

Each round runs every command once in a fresh process, in turn (so a busy
machine slows them alike); the table gives each command's median seconds
and its ratio to the median TensorFlow import: `generate preset:names` is
the one that needs TensorFlow (issue 25 aims at 1.2x); `tasks`, `list`,
`show NAME` (read from the index of the named models), a misspelt `--task`
and a missing run folder answer without it.

Usage:

    python benchmarks/cli_startup.py [--rounds 3]    # writes its section of RESULTS.md
    python benchmarks/cli_startup.py --no-write

Benchmarks are never tests: nothing here asserts a time.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from machine_info import processor
from results_md import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
SEQZOO = [sys.executable, "-m", "seqzoo"]
COMMANDS = {
    'python -c "import tensorflow"': [sys.executable, "-c", "import tensorflow"],
    "seqzoo generate preset:names --num 5": [*SEQZOO, "generate", "preset:names", "--num", "5"],
    "seqzoo tasks": [*SEQZOO, "tasks"],
    "seqzoo list": [*SEQZOO, "list"],
    "seqzoo show gru_bi": [*SEQZOO, "show", "gru_bi"],
    "seqzoo train gru_bi --task namez": [*SEQZOO, "train", "gru_bi", "--task", "namez"],
    "seqzoo generate no/such/run": [*SEQZOO, "generate", "no/such/run"],
}


def measure(rounds):
    """`{command: [seconds, ...]}`, the commands taking turns within each round."""
    env = {**os.environ, "PYTHONPATH": os.path.dirname(HERE), "TF_CPP_MIN_LOG_LEVEL": "3"}
    seconds = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=False)
            seconds[name].append(time.perf_counter() - start)
            print(f"{name}: {seconds[name][-1]:.2f} s", file=sys.stderr)
    return seconds


def table(seconds, rounds, loads):
    baseline = statistics.median(seconds['python -c "import tensorflow"'])
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Processor: {processor()}, {os.cpu_count()} cores; {rounds} rounds, the commands in turn; "
        f"load average {loads[0]:.1f} before, {loads[1]:.1f} after; {when}.",
        "",
        "| command | median s | runs | / import tensorflow |",
        "|---|---|---|---|",
    ]
    for name, values in seconds.items():
        median = statistics.median(values)
        runs = ", ".join(f"{value:.1f}" for value in values)
        lines.append(f"| `{name}` | {median:.2f} | {runs} | {median / baseline:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print the table instead of writing RESULTS.md")
    args = parser.parse_args()
    before = os.getloadavg()[0]
    seconds = measure(args.rounds)
    text = table(seconds, args.rounds, (before, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        write_section("cli_startup", "## Command-line start-up: `benchmarks/cli_startup.py`\n\n" + text)


if __name__ == "__main__":
    main()
