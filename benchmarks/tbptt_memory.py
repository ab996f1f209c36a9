"""Peak memory of truncated BPTT (`seqzoo.tbptt.fit_truncated`) as sequences grow.

Each case runs in a fresh process, which reports its peak resident memory
(`resource.getrusage(...).ru_maxrss`; TensorFlow's and XLA's allocations do
not show in `tracemalloc`) and the resident memory it had before training.
The data is computed chunk by chunk as it is read (a sine per sequence and
feature), so it takes no memory either: what grows with T is the training
alone. Full BPTT (one `train_on_batch` on the whole sequence) is measured
for contrast at the shorter lengths.

Usage:

    python benchmarks/tbptt_memory.py [--backend tensorflow|jax] [--quick]

It prints a Markdown table and writes it into `benchmarks/RESULTS.md`.
"""

import argparse
import json
import os
import resource
import subprocess
import sys

import numpy as np
from results_md import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, FEATURES, UNITS, CHUNK = 64, 128, 256, 100


class SyntheticSequences:
    """A `(batch, time, width)` array-like whose time slices are computed when read."""

    def __init__(self, batch, time_steps, width, seed):
        rng = np.random.default_rng(seed)
        self.shape = (batch, time_steps, width)
        self.frequency = rng.uniform(0.01, 0.3, size=(batch, 1, width)).astype("float32")
        self.phase = rng.uniform(0, 2 * np.pi, size=(batch, 1, width)).astype("float32")

    def __getitem__(self, index):
        batch, steps = index
        t = np.arange(steps.start, steps.stop, dtype="float32")[None, :, None]
        return np.sin(t * self.frequency + self.phase)[batch]


def resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_case(mode, time_steps):
    """Trains once in this process; returns its memory record."""
    sys.path.insert(0, os.path.dirname(HERE))
    import keras

    import seqzoo
    from seqzoo.tbptt import fit_truncated

    stateful = mode == "truncated"
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(BATCH, None, FEATURES)),
            seqzoo.layers.Recurrent(seqzoo.cells.LSTMCell(UNITS), stateful=stateful, return_sequences=True),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    x = SyntheticSequences(BATCH, time_steps, FEATURES, seed=0)
    y = SyntheticSequences(BATCH, time_steps, 1, seed=1)
    before = resident_mib()
    if stateful:
        loss = fit_truncated(model, x, y, CHUNK, verbose=0).history["loss"][-1]
    else:
        everything = (slice(None), slice(0, time_steps))
        loss = float(model.train_on_batch(x[everything], y[everything]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mode": mode,
        "time_steps": time_steps,
        "before_mib": before,
        "peak_mib": peak,
        "loss": loss,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--quick", action="store_true", help="shorter sequences")
    parser.add_argument("--case", nargs=2, metavar=("MODE", "TIME_STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]))))
        return
    scale = 10 if args.quick else 1
    cases = [
        ("truncated", 1000 // scale),
        ("truncated", 10000 // scale),
        ("full", 1000 // scale),
        ("full", 2000 // scale),
    ]
    records = []
    for mode, time_steps in cases:
        result = subprocess.run(
            [sys.executable, __file__, "--case", mode, str(time_steps)],
            env={**os.environ, "KERAS_BACKEND": args.backend},
            check=True,
            capture_output=True,
            text=True,
        )
        records.append(json.loads(result.stdout.strip().splitlines()[-1]))
    first = records[0]
    lines = [
        f"Written by `python benchmarks/tbptt_memory.py --backend {args.backend}"
        f"{' --quick' if args.quick else ''}`. Batch {BATCH}, input width {FEATURES}, "
        f"LSTM of {UNITS} units (`seqzoo.layers.Recurrent`) and a Dense head, Adam; "
        f"truncated BPTT in chunks of {CHUNK} steps with `seqzoo.tbptt.fit_truncated`, "
        "full BPTT as one `train_on_batch`. Peak resident memory of a fresh process.",
        "",
        f"| {args.backend}: training | T | resident before training (MiB) | peak (MiB) "
        f"| peak / truncated T={first['time_steps']} | growth over 'before' (MiB) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        lines.append(
            f"| {r['mode']} BPTT | {r['time_steps']} | {r['before_mib']:.0f} | "
            f"{r['peak_mib']:.0f} | {r['peak_mib'] / first['peak_mib']:.2f}x | "
            f"{r['peak_mib'] - r['before_mib']:.0f} |"
        )
    text = "\n".join(lines)
    print(text)
    write_section(f"tbptt-memory-{args.backend}", text)


if __name__ == "__main__":
    main()
