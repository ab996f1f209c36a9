"""Training throughput of seqzoo's recurrent layers against Keras's and PyTorch's.

Every case trains one recurrent layer (`return_sequences=True`, inputs of
width 128, 256 units) on a regression target: forward pass, mean squared
error, backward pass and an Adam step, i.e. `model.train_on_batch` for Keras
models and the usual loop for PyTorch (`nn.RNN`, `nn.GRU`, `nn.LSTM`, when
torch is installed; in the TensorFlow process only, with TensorFlow's thread
count). The contenders of a case are timed in one process, alternately
(A B C A B C ...), several times; each reports the median tokens (batch x
time steps) per second, and the table gives ratios against Keras's built-in
layer (`SimpleRNN`, `GRU`, `LSTM`; the peephole cell against `LSTM`).

The Keras backend is fixed per process, so each backend runs in its own
process. Without `--backend` this script runs them one after the other,
then writes its table into `benchmarks/RESULTS.md` with the machine it ran
on. Other processes on the machine make the numbers noisy: the table gives
each case's spread. With `--busy` every case is timed twice: as the
machine is, and again with one core taken by a fixed load (`hog.py`: one
process spinning in pure Python), the table's "busy" columns.

Usage:

    python benchmarks/throughput.py [--quick] [--batch 64] [--busy]   # all; RESULTS.md
    python benchmarks/throughput.py --backend jax --quick --busy --json jax.json   # one part...
    python benchmarks/throughput.py --quick --busy --records tf.json jax.json      # ...the table from parts
    python benchmarks/throughput.py --backend jax [--quick]   # one backend, printed
    python benchmarks/throughput.py --quick --contenders seqzoo torch   # only these beside keras
    python benchmarks/throughput.py --backend tensorflow --quick --recurrent-dropout 0.2   # printed

Benchmarks are never tests: nothing here asserts a time.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import hog
from machine_info import machine
from machine_info import threads
from results_md import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax")
CELLS = ("rnn", "gru", "lstm", "peephole")
KERAS_LAYERS = {"rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM", "peephole": "LSTM"}
TORCH_MODULES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "peephole": "LSTM"}
BATCH, FEATURES, UNITS = 64, 128, 256  # the batch can be changed with --batch


def cases(quick):
    """`(time_steps, steps_per_run, repeats)` of each sequence length."""
    if quick:
        return [(100, 3, 5)]
    return [(100, 3, 9), (1000, 1, 3)]


def keras_contenders(cell, time_steps, batch, backend, recurrent_dropout=0.0):
    """Name -> a function building the compiled Keras model of one contender.

    `keras` is Keras's built-in layer, `seqzoo` the `RecurrentStack` as
    `seqzoo.build` makes it (every cell fused), `seqzoo_step` the stack with
    `fused=False`, `seqzoo_hoisted` a
    step loop that projects every input step at once, `seqzoo_xla` the
    stack compiled with XLA (off by default on a CPU-only TensorFlow).
    """
    import keras

    import seqzoo

    def model(layer, jit_compile="auto"):
        def build():
            model = keras.Sequential([keras.Input((time_steps, FEATURES), batch_size=batch), layer()])
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3),
                loss="mse",
                jit_compile=jit_compile,
            )
            return model

        return build

    builtin = getattr(keras.layers, KERAS_LAYERS[cell])
    cell_class = seqzoo.cells.get(cell)
    contenders = {
        "keras": model(lambda: builtin(UNITS, return_sequences=True, recurrent_dropout=recurrent_dropout)),
        "seqzoo": model(lambda: seqzoo.layers.RecurrentStack(cell, units=UNITS, recurrent_dropout=recurrent_dropout)),
    }
    contenders["seqzoo_step"] = model(
        lambda: seqzoo.layers.RecurrentStack(cell, units=UNITS, recurrent_dropout=recurrent_dropout, fused=False)
    )
    contenders["seqzoo_hoisted"] = model(
        lambda: seqzoo.layers.Recurrent(
            cell_class(UNITS, recurrent_dropout=recurrent_dropout), fused=False, return_sequences=True
        )
    )
    if backend == "tensorflow" and time_steps <= 100:  # XLA compiles long loops slowly
        contenders["seqzoo_xla"] = model(
            lambda: seqzoo.layers.RecurrentStack(cell, units=UNITS, recurrent_dropout=recurrent_dropout),
            jit_compile=True,
        )
    return contenders


def keras_step(build, inputs, targets):
    """One `train_on_batch` of the model `build` makes, on tensors made once."""
    import keras

    model = build()
    inputs = keras.ops.convert_to_tensor(inputs)
    targets = keras.ops.convert_to_tensor(targets)
    return lambda: model.train_on_batch(inputs, targets)


def torch_step(cell, inputs, targets):
    """PyTorch's own layer, trained the same way (`torch.set_num_threads` set)."""
    import torch

    rnn = getattr(torch.nn, TORCH_MODULES[cell])(FEATURES, UNITS, batch_first=True)
    optimizer = torch.optim.Adam(rnn.parameters(), lr=1e-3)
    inputs = torch.from_numpy(inputs)
    targets = torch.from_numpy(targets)

    def step():
        optimizer.zero_grad()
        outputs, _ = rnn(inputs)
        loss = torch.nn.functional.mse_loss(outputs, targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def alternate(runners, repeats, steps):
    """Runs each of `runners` `steps` times in turn, `repeats` rounds; its wall and CPU seconds per step."""
    seconds = {name: [] for name in runners}
    cpu_seconds = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(steps):
                run()
            seconds[name].append((time.perf_counter() - start) / steps)
            cpu_seconds[name].append((time.process_time() - cpu_start) / steps)
    return seconds, cpu_seconds


def use_one_thread(backend):
    """Runs every framework on one thread (call before importing them).

    A thread that has a core to itself spends the same CPU time on a step
    however busy the rest of the machine is, so CPU-time ratios measured
    this way hold still where wall-clock ratios do not.
    """
    os.environ["SEQZOO_BENCHMARK_SINGLE_THREAD"] = "1"
    if backend == "jax":
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)


def timed(runners, repeats, steps, tokens):
    """Alternates `runners`: each one's median tokens per second and per CPU second, spread, and the load."""
    load_before = os.getloadavg()[0]
    seconds, cpu_seconds = alternate(runners, repeats, steps)
    return {
        "tokens_per_second": {name: tokens / statistics.median(values) for name, values in seconds.items()},
        "tokens_per_cpu_second": {name: tokens / statistics.median(values) for name, values in cpu_seconds.items()},
        "spread": {name: (max(values) - min(values)) / statistics.median(values) for name, values in seconds.items()},
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def run_backend(
    backend, quick, only_cells, batch, single_thread=False, only_contenders=None, recurrent_dropout=0.0, busy=False
):
    """Times every case on one backend (this process), and again beside the hog if `busy`; returns the records."""
    os.environ["KERAS_BACKEND"] = backend
    if single_thread:
        use_one_thread(backend)
    sys.path.insert(0, os.path.dirname(HERE))
    import keras
    import numpy as np

    torch = None
    if backend == "tensorflow":
        # Only beside TensorFlow: XLA's CPU thread pool and PyTorch's OpenMP
        # threads slow each other down when they take turns in one process.
        # OpenMP threads that spin while they wait lose their turn to other
        # processes on a shared machine and stall every parallel region, by
        # 5-10x here; passive waiting keeps PyTorch's numbers meaningful.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import torch

            torch.set_num_threads(threads())
        except ImportError:
            pass

    records = []
    rng = np.random.default_rng(0)
    for time_steps, steps, repeats in cases(quick):
        inputs = rng.standard_normal((batch, time_steps, FEATURES), dtype="float32")
        targets = rng.standard_normal((batch, time_steps, UNITS), dtype="float32")
        for cell in only_cells:
            keras.utils.set_random_seed(0)
            runners = {
                name: keras_step(build, inputs, targets)
                for name, build in keras_contenders(cell, time_steps, batch, backend, recurrent_dropout).items()
                if name == "keras" or not only_contenders or name in only_contenders
            }
            # PyTorch's layers have no recurrent dropout.
            if torch is not None and not recurrent_dropout and (not only_contenders or "torch" in only_contenders):
                runners["torch"] = torch_step(cell, inputs, targets)
            # Compile and warm up, four calls each: TensorFlow warns of "retracing" when 5 of a function's last 10
            # calls traced, counts every model's train step as one function (they share their code), and a model's
            # first calls trace (with two calls each, 5 contenders in a row set the warning off).
            for run in runners.values():
                for _ in range(4):
                    run()
            record = {
                "backend": backend,
                "batch": batch,
                "cell": cell,
                "time_steps": time_steps,
                "repeats": repeats,
                "steps_per_run": steps,
                **timed(runners, repeats, steps, batch * time_steps),
            }
            print(format_record(record), flush=True)
            if busy:
                with hog.one_core_busy():
                    record["busy"] = timed(runners, repeats, steps, batch * time_steps)
                print(format_record({**record, **record["busy"]}, " beside the hog"), flush=True)
            records.append(record)
    return records


def format_record(record, note=""):
    tps, cpu = record["tokens_per_second"], record["tokens_per_cpu_second"]
    parts = [
        f"{name} {value:,.0f} tok/s ({value / tps['keras']:.2f}x, "
        f"spread {record['spread'][name]:.0%}; CPU time {cpu[name] / cpu['keras']:.2f}x)"
        for name, value in tps.items()
    ]
    return (
        f"{record['backend']} {record['cell']} B={record['batch']} "
        f"T={record['time_steps']} (load {record['load']:.1f}{note}): " + "; ".join(parts)
    )


def write_results(records, quick, batch, single_thread):
    if single_thread:
        os.environ["SEQZOO_BENCHMARK_SINGLE_THREAD"] = "1"
    info = machine()
    busy = all("busy" in record for record in records)
    command = "python benchmarks/throughput.py" + (" --quick" if quick else "")
    command += f" --batch {batch}" if batch != BATCH else ""
    command += " --single-thread" if single_thread else ""
    command += " --busy" if busy else ""
    measure = "tokens_per_cpu_second" if single_thread else "tokens_per_second"
    names = []
    for record in records:
        names += [name for name in record["tokens_per_second"] if name not in names]
    others = [name for name in names if name != "keras"]
    unit = "cpu-s" if single_thread else "s"
    header = [f"keras tok/{unit}", *(f"{name} / keras" for name in others)]
    header += [] if single_thread else ["seqzoo CPU / keras"]
    if busy:
        header += [f"busy: keras tok/{unit}", *(f"busy: {name} / keras" for name in others)]
        header += ["busy: seqzoo CPU / keras", "busy: load"]
    lines = [
        f"Written by `{command}` on {datetime.date.today().isoformat()}. Machine: {info['cpu']}, {info['cores']} "
        f"cores, {info['threads']} thread{'s' if info['threads'] != 1 else ''} (PyTorch: `torch.set_num_threads"
        f"({info['threads']})`, OMP_WAIT_POLICY="
        f"{os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')}); "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + ".",
        "",
        f"One recurrent layer, batch {batch}, input width {FEATURES}, {UNITS} units, "
        "`return_sequences=True`, MSE on a random target, Adam: forward + backward + "
        "optimizer step. Keras's built-in layer's tokens (batch x time steps) per "
        + ("CPU second (one thread each)" if single_thread else "second")
        + ", and every other contender's as a ratio to it: medians of runs "
        "alternated in one process (spread: (max - min) / median of the wall times; "
        "load: the machine's 1-minute load average during the case, on "
        f"{info['cores']} cores"
        + ("" if single_thread else "; seqzoo CPU: seqzoo's ratio in CPU time, which a busy machine moves less")
        + (
            "; busy: the same case timed again beside one process spinning on one core (`benchmarks/hog.py`)"
            if busy
            else ""
        )
        + ").",
        "",
        "| backend | cell | T | " + " | ".join(header) + " | spread | load |",
        "|" + " --- |" * (5 + len(header)),
    ]
    for record in records:
        cells = [f"{record[measure]['keras']:,.0f}", *ratios(record, measure, others)]
        cells += [] if single_thread else ratios(record, "tokens_per_cpu_second", ["seqzoo"])
        spreads = list(record["spread"].values())
        if busy:
            busy_record = record["busy"]
            cells.append(f"{busy_record[measure]['keras']:,.0f}")
            cells += ratios(busy_record, measure, others) + ratios(busy_record, "tokens_per_cpu_second", ["seqzoo"])
            cells.append(f"{busy_record['load']:.1f}")
            spreads += busy_record["spread"].values()
        lines.append(
            f"| {record['backend']} | {record['cell']} | {record['time_steps']} | "
            + " | ".join(cells)
            + f" | {max(spreads):.0%} | {record.get('load', 0):.1f} |"
        )
    section = f"throughput-batch-{batch}" + ("-single-thread" if single_thread else "")
    write_section(section, "\n".join(lines))


def ratios(record, measure, names):
    """Each of `names`' tokens per (CPU) second as a ratio to Keras's, formatted; empty where not timed."""
    rates = record[measure]
    return [f"{rates[name] / rates['keras']:.2f}" if name in rates else "" for name in names]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--quick", action="store_true", help="T=100 only, few repeats")
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument(
        "--single-thread",
        action="store_true",
        help="one thread per framework; the table then compares CPU time",
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        help="time only these besides keras (seqzoo, seqzoo_step, seqzoo_hoisted, seqzoo_xla, torch)",
    )
    parser.add_argument(
        "--recurrent-dropout",
        type=float,
        default=0.0,
        help="train every layer with this recurrent dropout (printed only, with --backend)",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="time every case again beside a process that keeps one core busy (benchmarks/hog.py)",
    )
    parser.add_argument("--json", help="where a single-backend run writes its records")
    parser.add_argument(
        "--records",
        nargs="+",
        help="write RESULTS.md from the --json files of earlier single-backend runs instead of timing",
    )
    args = parser.parse_args()
    if args.recurrent_dropout and not args.backend:
        parser.error("--recurrent-dropout needs --backend: its numbers are printed, not written to RESULTS.md")
    if args.records and args.backend:
        parser.error("--records writes the table from earlier runs' files; it times nothing, so takes no --backend")
    if args.records:
        records = []
        for path in args.records:
            with open(path) as saved:
                records.extend(json.load(saved))
        if not all(record["batch"] == args.batch for record in records):
            parser.error(f"--records: every file's batch must be --batch {args.batch}")
        if any(("busy" in record) != args.busy for record in records):
            parser.error(f"--records: pass --busy exactly when every file was timed with it (--busy={args.busy})")
        write_results(records, args.quick, args.batch, args.single_thread)
        return
    if args.backend:
        records = run_backend(
            args.backend,
            args.quick,
            args.cells,
            args.batch,
            args.single_thread,
            args.contenders,
            args.recurrent_dropout,
            args.busy,
        )
        if args.json:
            with open(args.json, "w") as out:
                json.dump(records, out)
        return
    records = []
    for backend in BACKENDS:
        path = os.path.join(HERE, f".{backend}.json")
        command = [sys.executable, __file__, "--backend", backend, "--json", path]
        command += ["--cells", *args.cells, "--batch", str(args.batch)]
        command += ["--quick"] if args.quick else []
        command += ["--single-thread"] if args.single_thread else []
        command += ["--busy"] if args.busy else []
        command += ["--contenders", *args.contenders] if args.contenders else []
        subprocess.run(command, check=True)
        with open(path) as out:
            records.extend(json.load(out))
        os.remove(path)
    os.environ["KERAS_BACKEND"] = BACKENDS[0]
    write_results(records, args.quick, args.batch, args.single_thread)


if __name__ == "__main__":
    main()
