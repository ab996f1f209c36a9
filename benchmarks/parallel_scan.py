"""Training throughput of the parallel-scan cells (minGRU, minLSTM) against the GRU and LSTM, over T.

Every case trains one recurrent layer (`return_sequences=True`, batch 16,
inputs of width 128, 256 units) on a regression target: forward pass, mean
squared error, backward pass and an Adam step (`model.train_on_batch`,
compiled; the first two steps, which compile, are not timed). The
contenders:

- `mingru`, `minlstm`: `seqzoo.layers.RecurrentStack("mingru" | "minlstm")`,
  the whole sequence at once: every gate from one product over all steps,
  then h<t> = a<t> h<t-1> + b<t> (`seqzoo.fused.scan`): on a CPU, as here,
  by the backend's own elementwise loop (`tf.scan` over chunks of steps,
  `lax.scan`) with the same loop run backwards for the gradient; on a GPU
  by `keras.ops.associative_scan`, O(log T) sequential depth;
- `gru`, `lstm`: seqzoo's fused GRU and LSTM kernels (`RecurrentStack("gru")`,
  `"lstm"`), one step after another;
- `keras_gru`: Keras's built-in `keras.layers.GRU`;
- `mingru_keras`: the `MinGRU` layer of the PyPI package `mingru-keras`
  (the same kind of scan, without the paper's g), when it is installed; on
  TensorFlow its output loses its static shape, so it is reshaped to
  `(batch, T, units)` (no copy).

The contenders of a sequence length are timed in one process, alternately
(A B C A B C ...), several rounds; each reports the median wall time and CPU
time of a step, and the table gives its tokens (batch x time steps) per second
as a ratio to seqzoo's fused GRU at the same T. Memory per step is measured
apart (`--memory-lengths`, T=1024 by default), one fresh process per
contender and backend (T ascending): the peak
resident memory a training step adds to the process (`ru_maxrss` after the
steps minus the resident size before them).

The main process also checks `mingru_keras` against seqzoo's minGRU on
copied weights, where the two are the same equations (see
`mingru_keras_difference`).

The Keras backend is fixed per process, so each backend runs in its own
process. Without `--backend` this script runs them one after the other, then
writes its tables into `benchmarks/RESULTS.md` (with the processor and the load
while it ran) and the ratio over T into `benchmarks/parallel_scan.png`.

Usage:

    python benchmarks/parallel_scan.py [--quick]                 # everything; RESULTS.md and the PNG
    python benchmarks/parallel_scan.py --backend jax [--quick]   # one backend, printed
    python benchmarks/parallel_scan.py --backend tensorflow --lengths 1024 --contenders mingru gru

Benchmarks are never tests: nothing here asserts a time.
"""

import argparse
import datetime
import gc
import json
import os
import resource
import statistics
import subprocess
import sys

from machine_info import machine
from results_md import write_section
from tbptt_memory import resident_mib
from throughput import alternate
from throughput import keras_step

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax")
CONTENDERS = ("mingru", "minlstm", "gru", "lstm", "keras_gru", "mingru_keras")
PARALLEL = ("mingru", "minlstm")
BASELINE = "gru"
BATCH, FEATURES, UNITS = 16, 128, 256
LENGTHS = (64, 256, 1024, 4096)
TARGET_T, TARGET_RATIO = 1024, 5.0  # issue 24: each parallel cell >= 5x the fused GRU at T=1024
PLOT = os.path.join(HERE, "parallel_scan.png")
LABELS = {
    "mingru": "seqzoo minGRU",
    "minlstm": "seqzoo minLSTM",
    "gru": "seqzoo GRU (fused)",
    "lstm": "seqzoo LSTM (fused)",
    "keras_gru": "keras.layers.GRU",
    "mingru_keras": "mingru-keras MinGRU",
}


def rounds(time_steps, quick):
    """`(steps_per_run, repeats)` of a sequence length: about the same tokens per run."""
    steps = max(1, 1024 // time_steps)
    return steps, (3 if quick else 7 if time_steps < 4096 else 5)


def make_layer(name):
    """A fresh recurrent layer of the contender `name`, returning every step."""
    import keras

    import seqzoo

    if name == "keras_gru":
        return keras.layers.GRU(UNITS, return_sequences=True)
    if name == "mingru_keras":
        import mingru_keras

        class ShapedMinGRU(mingru_keras.MinGRU):
            def call(self, inputs):  # its scan's output has no static shape under tf.function: give it one
                return keras.ops.reshape(super().call(inputs), (-1, inputs.shape[1], UNITS))

        return ShapedMinGRU(UNITS)
    return seqzoo.layers.RecurrentStack(name, units=UNITS)


def compiled_model(name, time_steps, batch=BATCH):
    """The contender's layer in a compiled `keras.Sequential` with MSE and Adam."""
    import keras

    model = keras.Sequential([keras.Input((time_steps, FEATURES), batch_size=batch), make_layer(name)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def available(names):
    """`names` without `mingru_keras` when the package is not installed (said on stderr)."""
    if "mingru_keras" not in names:
        return list(names)
    try:
        import mingru_keras  # noqa: F401
    except ImportError:
        print("mingru-keras is not installed (pip install mingru-keras): left out", file=sys.stderr)
        return [name for name in names if name != "mingru_keras"]
    return list(names)


def mingru_keras_difference():
    """`(max |difference|, smallest candidate pre-activation)`: `mingru_keras.MinGRU` against seqzoo's minGRU.

    Both compute z<t> = sigmoid(Wz x<t> + bz), h<t> = (1 - z<t>) * h<t-1> +
    z<t> * h~<t> from h<0> = 0, with h~<t> = Wh x<t> + bh in `mingru-keras`
    and h~<t> = g(Wh x<t> + bh) in seqzoo, where g(v) = v + 0.5 for v >= 0.
    The forms match where every candidate pre-activation is >= 0: there the
    weights are copied as they are (seqzoo's `kernel` is [Wz | Wh], `bias`
    [bz | bh]) but for seqzoo's bh, which is `mingru-keras`'s minus 0.5, and
    `mingru-keras`'s bh is set to 3 with a small Wh so that the branch holds.
    """
    import keras
    import mingru_keras
    import numpy as np

    import seqzoo

    x = np.random.default_rng(1).standard_normal((2, 33, FEATURES)).astype("float32")
    theirs = mingru_keras.MinGRU(UNITS)
    theirs(x)
    numpy = keras.ops.convert_to_numpy
    theirs.candidate.kernel.assign(0.05 * numpy(theirs.candidate.kernel))
    theirs.candidate.bias.assign(np.full(UNITS, 3.0, "float32"))
    theirs.gate.bias.assign(np.random.default_rng(2).uniform(-1, 1, UNITS).astype("float32"))
    ours = seqzoo.layers.RecurrentStack("mingru", units=UNITS)
    ours(x)
    kernel = np.concatenate([numpy(theirs.gate.kernel), numpy(theirs.candidate.kernel)], axis=1)
    bias = np.concatenate([numpy(theirs.gate.bias), numpy(theirs.candidate.bias) - 0.5])
    ours.set_weights([kernel, bias])
    smallest = float((x @ kernel[:, UNITS:] + bias[UNITS:]).min())
    difference = np.abs(numpy(ours(x)) - numpy(theirs(x))).max()
    return float(difference), smallest


def run_backend(backend, quick, lengths, names, json_path=None):
    """Times every contender at every T on one backend (this process); returns the records.

    With `json_path`, the records so far are written there after each T, so
    a run stopped during a long T keeps the shorter ones.
    """
    os.environ["KERAS_BACKEND"] = backend
    import keras
    import numpy as np

    names = available(names)
    records = []
    rng = np.random.default_rng(0)
    for time_steps in lengths:
        inputs = rng.standard_normal((BATCH, time_steps, FEATURES), dtype="float32")
        targets = rng.standard_normal((BATCH, time_steps, UNITS), dtype="float32")
        keras.utils.set_random_seed(0)
        runners = {
            name: keras_step(lambda name=name: compiled_model(name, time_steps), inputs, targets) for name in names
        }
        load_before = os.getloadavg()[0]
        for run in runners.values():  # compile and warm up
            run()
            run()
        steps, repeats = rounds(time_steps, quick)
        seconds, cpu_seconds = alternate(runners, repeats, steps)
        tokens = BATCH * time_steps
        medians = {name: statistics.median(values) for name, values in seconds.items()}
        record = {
            "backend": backend,
            "time_steps": time_steps,
            "steps_per_run": steps,
            "repeats": repeats,
            "tokens_per_second": {name: tokens / median for name, median in medians.items()},
            "tokens_per_cpu_second": {name: tokens / statistics.median(cpu_seconds[name]) for name in medians},
            "spread": {name: (max(seconds[name]) - min(seconds[name])) / median for name, median in medians.items()},
            "load": (load_before + os.getloadavg()[0]) / 2,
        }
        print(format_record(record), flush=True)
        records.append(record)
        if json_path:
            with open(json_path, "w") as out:
                json.dump(records, out)
        del runners
        gc.collect()
    return records


def format_record(record):
    tps, cpu = record["tokens_per_second"], record["tokens_per_cpu_second"]
    base, cpu_base = tps.get(BASELINE), cpu.get(BASELINE)
    parts = [
        f"{name} {value:,.0f} tok/s"
        + (f" ({value / base:.2f}x the GRU, CPU time {cpu[name] / cpu_base:.2f}x)" if base else "")
        for name, value in tps.items()
    ]
    return f"{record['backend']} T={record['time_steps']} (load {record['load']:.1f}): " + "; ".join(parts)


def measure_memory(backend, name, lengths):
    """Peak resident MiB a training step adds, at each T in ascending order (this fresh process)."""
    os.environ["KERAS_BACKEND"] = backend
    import numpy as np

    rng = np.random.default_rng(0)
    growth = {}
    for time_steps in sorted(lengths):
        inputs = rng.standard_normal((BATCH, time_steps, FEATURES), dtype="float32")
        targets = rng.standard_normal((BATCH, time_steps, UNITS), dtype="float32")
        step = keras_step(lambda: compiled_model(name, time_steps), inputs, targets)
        before = resident_mib()
        step()
        step()
        growth[time_steps] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
        del step
        gc.collect()
    return growth


def memory_records(backend, names, lengths):
    """`{contender: {T: MiB}}`, one fresh process per contender."""
    memory = {}
    for name in names:
        result = subprocess.run(
            [sys.executable, __file__, "--memory-case", backend, name, "--memory-lengths", *map(str, lengths)],
            check=True,
            capture_output=True,
            text=True,
        )
        memory[name] = {int(t): mib for t, mib in json.loads(result.stdout.strip().splitlines()[-1]).items()}
        print(f"{backend} {name} memory per step (MiB): {memory[name]}", flush=True)
    return memory


def write_plot(records, path):
    """Each contender's tokens per second over the fused GRU's, against T (log-log), one panel per backend."""
    from matplotlib.figure import Figure

    backends = [b for b in BACKENDS if any(r["backend"] == b for r in records)]
    figure = Figure(figsize=(5.5 * len(backends), 4.2))
    axes = figure.subplots(1, len(backends), squeeze=False)[0]
    for ax, backend in zip(axes, backends):
        rows = [r for r in records if r["backend"] == backend]
        lengths = [r["time_steps"] for r in rows]
        for name in rows[0]["tokens_per_second"]:
            if name == BASELINE:
                continue
            ratios = [r["tokens_per_second"][name] / r["tokens_per_second"][BASELINE] for r in rows]
            style = "o-" if name in PARALLEL else "s--"
            ax.plot(lengths, ratios, style, label=LABELS[name], linewidth=2 if name in PARALLEL else 1)
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.axhline(
            TARGET_RATIO, color="red", linestyle=":", linewidth=1, label=f"target {TARGET_RATIO:g}x at T={TARGET_T}"
        )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("training tokens/s over seqzoo's fused GRU")
        ax.set_title(f"{backend}: batch {BATCH}, {FEATURES} inputs, {UNITS} units")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def results_text(records, memory, quick, parity):
    info = machine()
    command = "python benchmarks/parallel_scan.py" + (" --quick" if quick else "")
    names = list(records[0]["tokens_per_second"])
    others = [name for name in names if name != BASELINE]
    lines = [
        f"Written by `{command}` on {datetime.date.today().isoformat()}. Machine: {info['cpu']}, "
        f"{info['cores']} cores, {info['threads']} threads; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + f". Load (1-minute average, on {info['cores']} cores) while it ran: "
        + f"{min(r['load'] for r in records):.1f}-{max(r['load'] for r in records):.1f}.",
        "",
        f"One recurrent layer, batch {BATCH}, input width {FEATURES}, {UNITS} units, `return_sequences=True`, "
        "MSE on a random target, Adam: forward + backward + optimizer step (`train_on_batch`, compiled, warm-up "
        "excluded). seqzoo's fused GRU's tokens (batch x time steps) per second, and every other contender's as a "
        "ratio to it: medians of runs alternated in one process; `CPU` columns: the same ratio in CPU time; "
        "spread: the largest (max - min) / median of the wall times.",
        "",
        "| backend | T | GRU (fused) tok/s | "
        + " | ".join(f"{n} / GRU" for n in others)
        + " | "
        + " | ".join(f"{n} CPU / GRU" for n in PARALLEL if n in names)
        + " | spread | load |",
        "|" + " --- |" * (5 + len(others) + len([n for n in PARALLEL if n in names])),
    ]
    for r in records:
        tps, cpu = r["tokens_per_second"], r["tokens_per_cpu_second"]
        bold = "**" if r["time_steps"] == TARGET_T else ""
        # The parallel cells' ratios at the target's T in bold, as the T.
        ratios = [
            f"{bold}{tps[n] / tps[BASELINE]:.2f}{bold}" if n in PARALLEL else f"{tps[n] / tps[BASELINE]:.2f}"
            for n in others
        ]
        ratios += [f"{cpu[n] / cpu[BASELINE]:.2f}" for n in PARALLEL if n in names]
        lines.append(
            f"| {r['backend']} | {bold}{r['time_steps']}{bold} | {tps[BASELINE]:,.0f} | "
            + " | ".join(ratios)
            + f" | {max(r['spread'].values()):.0%} | {r['load']:.1f} |"
        )
    lengths = sorted({t for by_name in memory.values() for growth in by_name.values() for t in growth})
    lines += (
        []
        if not memory
        else [
            "",
            "Memory per training step: the peak resident MiB a step adds to a fresh process (T ascending, one process "
            "per contender and backend).",
            "",
            "| backend | contender | " + " | ".join(f"T={t}" for t in lengths) + " |",
            "|" + " --- |" * (2 + len(lengths)),
        ]
    )
    for backend, by_name in memory.items():
        for name, growth in by_name.items():
            lines.append(f"| {backend} | {name} | " + " | ".join(f"{growth[t]:,.0f}" for t in lengths) + " |")
    if parity is not None:
        difference, smallest = parity
        lines += [
            "",
            f'`mingru_keras.MinGRU` against `RecurrentStack("mingru")` on copied weights (TensorFlow, batch 2, '
            "T=33), where their forms match: seqzoo's candidate is g(v) = v + 0.5 for v >= 0 (every candidate "
            f"pre-activation here >= {smallest:.2f}) and seqzoo's candidate bias is mingru-keras's - 0.5; "
            f"max |difference| {difference:.1e}. `mingru-keras` has no g (its candidate can be negative) and no "
            "minLSTM.",
        ]
    lines += ["", "![ratio over T](parallel_scan.png)"]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--quick", action="store_true", help="T=64 and 1024 only, 3 rounds")
    parser.add_argument(
        "--lengths", nargs="+", type=int, help=f"sequence lengths (default {' '.join(map(str, LENGTHS))})"
    )
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument(
        "--memory-lengths",
        nargs="*",
        type=int,
        default=[TARGET_T],
        help=f"sequence lengths of the memory table (default {TARGET_T}; none: no memory table)",
    )
    parser.add_argument("--json", help="where a single-backend run writes its records")
    parser.add_argument(
        "--records",
        nargs="+",
        default=[],
        help="records that single-backend runs wrote (--json), used instead of timing those backends again",
    )
    parser.add_argument("--memory-case", nargs=2, metavar=("BACKEND", "CONTENDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    lengths = args.lengths or ([64, 1024] if args.quick else list(LENGTHS))
    sys.path.insert(0, os.path.dirname(HERE))  # the checkout's seqzoo, installed or not
    if args.memory_case:
        backend, name = args.memory_case
        print(json.dumps(measure_memory(backend, name, args.memory_lengths)))
        return
    if BASELINE not in args.contenders:
        parser.error(f"--contenders must include {BASELINE!r}: the ratios are against it")
    if args.backend:
        run_backend(args.backend, args.quick, lengths, args.contenders, args.json)
        return
    records, memory = [], {}
    for path in args.records:
        with open(path) as saved:
            records.extend(json.load(saved))
    for backend in BACKENDS:
        if any(record["backend"] == backend for record in records):
            continue
        path = os.path.join(HERE, f".parallel_scan_{backend}.json")
        command = [sys.executable, __file__, "--backend", backend, "--json", path, "--lengths", *map(str, lengths)]
        command += ["--contenders", *args.contenders] + (["--quick"] if args.quick else [])
        subprocess.run(command, check=True)
        with open(path) as out:
            records.extend(json.load(out))
        os.remove(path)
    records.sort(key=lambda record: (BACKENDS.index(record["backend"]), record["time_steps"]))
    os.environ["KERAS_BACKEND"] = BACKENDS[0]
    names = list(records[0]["tokens_per_second"])
    for backend in BACKENDS if args.memory_lengths else ():
        memory[backend] = memory_records(backend, names, args.memory_lengths)
    parity = mingru_keras_difference() if "mingru_keras" in names else None
    write_plot(records, PLOT)
    write_section("parallel-scan", results_text(records, memory, args.quick, parity))


if __name__ == "__main__":
    main()
