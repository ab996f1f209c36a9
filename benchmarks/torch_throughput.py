"""Training throughput on the PyTorch backend: seqzoo, Keras's layers and plain PyTorch, in one process.

The case of `throughput.py` (one recurrent layer, `return_sequences=True`,
inputs of width 128, 256 units, T=100, MSE and an Adam step) with
`KERAS_BACKEND=torch`: `seqzoo` is `RecurrentStack(cell, units=256)` as
`seqzoo.build` makes it (PyTorch's own kernels, `seqzoo.fused.torch_kernels`),
`keras` is Keras's built-in layer on the PyTorch backend, and `torch` is
PyTorch's `nn.RNN`, `nn.GRU` or `nn.LSTM` trained by hand. The three are timed
alternately (A B C A B C ...) for each batch size; each reports the median
tokens (batch x time steps) per second and per CPU second, and the table
gives ratios against plain PyTorch and against Keras's layer. The table goes
into `benchmarks/RESULTS.md` (section `throughput-torch`).

Usage:

    python benchmarks/torch_throughput.py [--repeats 5] [--batches 64 8] [--cells rnn gru lstm]

Benchmarks are never tests: nothing here asserts a time.
"""

import argparse
import datetime
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ["KERAS_BACKEND"] = "torch"
# As in throughput.py's TensorFlow process: OpenMP threads that spin while they wait lose their
# turn to other processes on a shared machine; passive waiting keeps the numbers meaningful.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(HERE))

from machine_info import machine  # noqa: E402
from machine_info import threads  # noqa: E402
from results_md import write_section  # noqa: E402
from throughput import FEATURES  # noqa: E402
from throughput import UNITS  # noqa: E402
from throughput import alternate  # noqa: E402
from throughput import keras_contenders  # noqa: E402
from throughput import keras_step  # noqa: E402
from throughput import torch_step  # noqa: E402

TIME_STEPS = 100
STEPS_PER_RUN = 2


def measure(cell, batch, repeats):
    """Times the three contenders of one case, alternately; returns its record."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((batch, TIME_STEPS, FEATURES), dtype="float32")
    targets = rng.standard_normal((batch, TIME_STEPS, UNITS), dtype="float32")
    keras.utils.set_random_seed(0)
    builds = keras_contenders(cell, TIME_STEPS, batch, "torch")
    runners = {
        "seqzoo": keras_step(builds["seqzoo"], inputs, targets),
        "keras": keras_step(builds["keras"], inputs, targets),
        "torch": torch_step(cell, inputs, targets),
    }
    load_before = os.getloadavg()[0]
    for run in runners.values():  # warm up
        run()
    seconds, cpu_seconds = alternate(runners, repeats, STEPS_PER_RUN)
    tokens = batch * TIME_STEPS
    record = {
        "cell": cell,
        "batch": batch,
        "tokens_per_second": {name: tokens / statistics.median(v) for name, v in seconds.items()},
        "tokens_per_cpu_second": {name: tokens / statistics.median(v) for name, v in cpu_seconds.items()},
        "spread": max((max(v) - min(v)) / statistics.median(v) for v in seconds.values()),
        "load": (load_before + os.getloadavg()[0]) / 2,
    }
    tps, cpu = record["tokens_per_second"], record["tokens_per_cpu_second"]
    print(
        f"{cell} B={batch} (load {record['load']:.1f}, spread {record['spread']:.0%}): "
        + "; ".join(f"{n} {v:,.0f} tok/s (CPU {cpu[n]:,.0f})" for n, v in tps.items())
        + f"; seqzoo/torch {tps['seqzoo'] / tps['torch']:.2f} (CPU {cpu['seqzoo'] / cpu['torch']:.2f}), "
        f"seqzoo/keras {tps['seqzoo'] / tps['keras']:.2f} (CPU {cpu['seqzoo'] / cpu['keras']:.2f})",
        flush=True,
    )
    return record


def write_results(records, repeats):
    info = machine()
    lines = [
        f"Written by `python benchmarks/torch_throughput.py --repeats {repeats}` on "
        f"{datetime.date.today().isoformat()}. Machine: {info['cpu']}, {info['cores']} cores, "
        f"`torch.set_num_threads({info['threads']})`, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + ".",
        "",
        f"KERAS_BACKEND=torch. One recurrent layer, input width {FEATURES}, {UNITS} units, T={TIME_STEPS}, "
        "`return_sequences=True`, MSE on a random target, Adam: forward + backward + optimizer step. Plain "
        "PyTorch's tokens (batch x time steps) per second, and the others' as ratios: medians of "
        f"{repeats} runs alternated in one process (CPU: the same ratio in CPU time; spread: the largest "
        "(max - min) / median of the wall times; load: the 1-minute load average during the case).",
        "",
        "| cell | batch | torch tok/s | seqzoo / torch | seqzoo / keras | keras / torch "
        "| CPU: seqzoo / torch | CPU: seqzoo / keras | spread | load |",
        "|" + " --- |" * 10,
    ]
    for r in records:
        tps, cpu = r["tokens_per_second"], r["tokens_per_cpu_second"]
        lines.append(
            f"| {r['cell']} | {r['batch']} | {tps['torch']:,.0f} | {tps['seqzoo'] / tps['torch']:.2f} | "
            f"{tps['seqzoo'] / tps['keras']:.2f} | {tps['keras'] / tps['torch']:.2f} | "
            f"{cpu['seqzoo'] / cpu['torch']:.2f} | {cpu['seqzoo'] / cpu['keras']:.2f} | "
            f"{r['spread']:.0%} | {r['load']:.1f} |"
        )
    write_section("throughput-torch", "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", choices=("rnn", "gru", "lstm"), default=["lstm", "gru", "rnn"])
    parser.add_argument("--batches", nargs="+", type=int, default=[64, 8])
    parser.add_argument("--repeats", type=int, default=5, help="alternated rounds per case")
    parser.add_argument("--print-only", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(threads())
    records = [measure(cell, batch, args.repeats) for batch in args.batches for cell in args.cells]
    if not args.print_only:
        write_results(records, args.repeats)


if __name__ == "__main__":
    main()
