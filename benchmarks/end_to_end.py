"""End-to-end training time as a user sees it: the README's commands on TensorFlow and on JAX.

Each case is a `seqzoo train` command, run in a fresh process per backend,
alternately (TF, JAX, TF, JAX, ...) so that a busy machine slows both alike.
For each run it records the wall time, the test metric, the time of epoch 1
(where JAX compiles its programs) against the mean of the other epochs (from
Keras's progress bar: steps x time per step), and whether stderr mentions
tf.function "retracing". The table, with the processor and the load average,
goes into `benchmarks/RESULTS.md`.

Usage:

    python benchmarks/end_to_end.py [--rounds 3] [--data-dir /tmp/tfds]   # writes RESULTS.md
    python benchmarks/end_to_end.py --rounds 1 --cases headline --no-write

Benchmarks are never tests: nothing here asserts a time.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from machine_info import processor
from results_md import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax")
CASES = {  # name -> (seqzoo train arguments, the metric the table shows)
    "headline": (["gru_bi", "--task", "japanese_vowels", "--epochs", "30"], "accuracy"),
    "language_model": (["gru_char_lm", "--task", "names", "--epochs", "3"], "perplexity"),
}
# Keras's progress bar at an epoch's end: "9/9 ━━━━ 2s 199ms/step".
EPOCH_END = re.compile(r"(\d+)/\1 \S+ \d+m?s (\d+(?:\.\d+)?)(s|ms|us)/step")
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def epoch_seconds(stderr):
    """Each epoch's seconds, from the progress bar's last line of the epoch."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", stderr).replace("\r", "\n")
    return [int(steps) * float(value) * UNITS[unit] for steps, value, unit in EPOCH_END.findall(text)]


def run_case(arguments, backend, data_dir, out):
    """One `seqzoo train` in a fresh process: wall seconds, the result line, stderr."""
    import json

    command = [sys.executable, "-m", "seqzoo", "train", *arguments, "--data-dir", data_dir, "--out", out]
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.path.dirname(HERE)}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def measure(cases, rounds, data_dir):
    """`{(case, backend): [record, ...]}`, the backends alternating within each round."""
    records = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in cases:  # Prepares each dataset once, outside the timing.
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import seqzoo; seqzoo.load_task({CASES[name][0][2]!r}, data_dir={data_dir!r}).raw('train')",
                ],
                env={**os.environ, "PYTHONPATH": os.path.dirname(HERE)},
                check=True,
                capture_output=True,
            )
        for index in range(rounds):
            for name in cases:
                arguments, metric = CASES[name]
                for backend in BACKENDS:
                    load = os.getloadavg()[0]
                    out = os.path.join(scratch, f"{name}-{backend}-{index}")
                    wall, result, stderr = run_case(arguments, backend, data_dir, out)
                    epochs = epoch_seconds(stderr)
                    record = {
                        "wall": wall,
                        "metric": result[metric],
                        "first": epochs[0] if epochs else float("nan"),
                        "rest": statistics.mean(epochs[1:]) if len(epochs) > 1 else float("nan"),
                        "retracing": "retracing" in stderr,
                        "load": load,
                    }
                    records.setdefault((name, backend), []).append(record)
                    print(name, backend, {key: round(value, 3) for key, value in record.items()}, file=sys.stderr)
    return records


def table(records, rounds):
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Processor: {processor()}, {os.cpu_count()} cores; {rounds} alternated rounds (TF, JAX, TF, JAX, ...) "
        f"on {when}; medians, with the 1-minute load average at each run's start.",
        "",
        "| case | backend | wall s (runs) | / TF | metric | epoch 1 s | other epochs s | load | retracing |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, backend), runs in records.items():
        arguments, metric = CASES[name]
        wall = statistics.median(run["wall"] for run in runs)
        tensorflow = statistics.median(run["wall"] for run in records[(name, "tensorflow")])
        walls = ", ".join(f"{run['wall']:.0f}" for run in runs)
        loads = ", ".join(f"{run['load']:.1f}" for run in runs)
        cells = [
            f"`{' '.join(arguments)}`",
            backend,
            f"{wall:.1f} ({walls})",
            f"{wall / tensorflow:.2f}",
            f"{metric} {statistics.median(run['metric'] for run in runs):.4f}",
            f"{statistics.median(run['first'] for run in runs):.1f}",
            f"{statistics.median(run['rest'] for run in runs):.2f}",
            loads,
            "yes" if any(run["retracing"] for run in runs) else "no",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "seqzoo_end_to_end_tfds"))
    parser.add_argument("--no-write", action="store_true", help="print the table instead of writing RESULTS.md")
    args = parser.parse_args()
    text = table(measure(args.cases, args.rounds, args.data_dir), args.rounds)
    print(text)
    if not args.no_write:
        write_section("end_to_end", "## End to end: `benchmarks/end_to_end.py`\n\n" + text)


if __name__ == "__main__":
    main()
