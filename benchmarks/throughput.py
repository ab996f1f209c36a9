"""Training throughput of seqzoo's recurrent layers against Keras's and PyTorch's.

Every case trains one recurrent layer (`return_sequences=True`, inputs of
width 128, 256 units) on a regression target: forward pass, mean squared
error, backward pass and an Adam step, i.e. `model.train_on_batch` for Keras
models and the usual loop for PyTorch. The contenders of a case are timed in
one process, alternately (A B C A B C ...), several times; each reports the
median tokens (batch x time steps) per second, and the table gives ratios
against Keras's built-in layer.

The Keras backend is fixed per process, so each backend runs in its own
process. Without `--backend` this script runs them one after the other,
then writes `benchmarks/RESULTS.md` with the machine it ran on.

Usage:

    python benchmarks/throughput.py [--quick]                 # all; RESULTS.md
    python benchmarks/throughput.py --backend jax [--quick]   # one backend

Benchmarks are never tests: nothing here asserts a time.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax")
CELLS = ("rnn", "gru", "lstm", "peephole")
KERAS_LAYERS = {"rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM", "peephole": "LSTM"}
TORCH_MODULES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "peephole": "LSTM"}
BATCH, FEATURES, UNITS = 64, 128, 256


def cases(quick):
    """`(time_steps, steps_per_run, repeats)` of each sequence length."""
    if quick:
        return [(100, 3, 5)]
    return [(100, 5, 7), (1000, 1, 3)]


def keras_contenders(cell, time_steps, backend):
    """Name -> a function building the compiled Keras model of one contender."""
    import keras

    import seqzoo

    def model(layer, jit_compile="auto"):
        def build():
            model = keras.Sequential(
                [keras.Input((time_steps, FEATURES), batch_size=BATCH), layer()]
            )
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3),
                loss="mse",
                jit_compile=jit_compile,
            )
            return model

        return build

    builtin = getattr(keras.layers, KERAS_LAYERS[cell])
    contenders = {
        "keras": model(lambda: builtin(UNITS, return_sequences=True)),
        "seqzoo": model(lambda: seqzoo.layers.RecurrentStack(cell, units=UNITS)),
    }
    if backend == "tensorflow":
        # XLA is off by default on a CPU-only TensorFlow; see what it gives.
        contenders["keras_xla"] = model(
            lambda: builtin(UNITS, return_sequences=True), jit_compile=True
        )
        contenders["seqzoo_xla"] = model(
            lambda: seqzoo.layers.RecurrentStack(cell, units=UNITS),
            jit_compile=True,
        )
    return contenders


def keras_step(build, inputs, targets):
    import keras

    model = build()
    inputs = keras.ops.convert_to_tensor(inputs)
    targets = keras.ops.convert_to_tensor(targets)
    return lambda: model.train_on_batch(inputs, targets)


def torch_step(cell, inputs, targets):
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


def threads():
    """The intra-op threads TensorFlow uses (and PyTorch is given)."""
    return os.cpu_count() if not os.environ.get("OMP_NUM_THREADS") else int(
        os.environ["OMP_NUM_THREADS"]
    )


def run_backend(backend, quick, only_cells):
    """Times every case on one backend (this process); returns the records."""
    os.environ["KERAS_BACKEND"] = backend
    sys.path.insert(0, os.path.dirname(HERE))
    import keras
    import numpy as np

    try:
        import torch

        torch.set_num_threads(threads())
    except ImportError:
        torch = None

    records = []
    rng = np.random.default_rng(0)
    for time_steps, steps, repeats in cases(quick):
        inputs = rng.standard_normal((BATCH, time_steps, FEATURES), dtype="float32")
        targets = rng.standard_normal((BATCH, time_steps, UNITS), dtype="float32")
        for cell in only_cells:
            keras.utils.set_random_seed(0)
            runners = {
                name: keras_step(build, inputs, targets)
                for name, build in keras_contenders(cell, time_steps, backend).items()
            }
            if torch is not None:
                runners["torch"] = torch_step(cell, inputs, targets)
            for run in runners.values():  # compile and warm up
                run()
                run()
            seconds = {name: [] for name in runners}
            for _ in range(repeats):
                for name, run in runners.items():
                    start = time.perf_counter()
                    for _ in range(steps):
                        run()
                    seconds[name].append((time.perf_counter() - start) / steps)
            record = {
                "backend": backend,
                "cell": cell,
                "time_steps": time_steps,
                "repeats": repeats,
                "steps_per_run": steps,
                "tokens_per_second": {
                    name: BATCH * time_steps / statistics.median(values)
                    for name, values in seconds.items()
                },
                "spread": {
                    name: (max(values) - min(values)) / statistics.median(values)
                    for name, values in seconds.items()
                },
            }
            print(format_record(record), flush=True)
            records.append(record)
    return records


def format_record(record):
    tps = record["tokens_per_second"]
    parts = [
        f"{name} {value:,.0f} tok/s ({value / tps['keras']:.2f}x, "
        f"spread {record['spread'][name]:.0%})"
        for name, value in tps.items()
    ]
    return f"{record['backend']} {record['cell']} T={record['time_steps']}: " + "; ".join(parts)


def machine():
    import keras

    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {"python": platform.python_version(), "keras": keras.__version__}
    for package in ("tensorflow", "jax", "torch"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            pass
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads(), "versions": versions}


def write_results(records, quick):
    info = machine()
    date = datetime.date.today().isoformat()
    lines = [
        "# Training throughput",
        "",
        f"Written by `python benchmarks/throughput.py{' --quick' if quick else ''}` on {date}.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['threads']} threads "
        f"(PyTorch: `torch.set_num_threads({info['threads']})`); "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + ".",
        "",
        f"One recurrent layer, batch {BATCH}, input width {FEATURES}, {UNITS} units, "
        "`return_sequences=True`, MSE on a random target, Adam; forward + backward + "
        "optimizer step. Tokens per second (batch x time steps), median of alternated "
        "runs; ratios are against Keras's built-in layer (`SimpleRNN`, `GRU`, `LSTM`; "
        "the peephole cell against `LSTM`) with its default settings in the same process.",
        "",
    ]
    names = []
    for record in records:
        for name in record["tokens_per_second"]:
            if name not in names:
                names.append(name)
    lines.append(
        "| backend | cell | T | keras tok/s | "
        + " | ".join(f"{name} / keras" for name in names if name != "keras")
        + " |"
    )
    lines.append("|" + " --- |" * (3 + len(names)))
    for record in records:
        tps = record["tokens_per_second"]
        ratios = [
            f"{tps[name] / tps['keras']:.2f}" if name in tps else ""
            for name in names
            if name != "keras"
        ]
        lines.append(
            f"| {record['backend']} | {record['cell']} | {record['time_steps']} | "
            f"{tps['keras']:,.0f} | " + " | ".join(ratios) + " |"
        )
    with open(os.path.join(HERE, "RESULTS.md"), "w") as results:
        results.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--quick", action="store_true", help="T=100 only, few repeats")
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    parser.add_argument("--json", help="where a single-backend run writes its records")
    args = parser.parse_args()
    if args.backend:
        records = run_backend(args.backend, args.quick, args.cells)
        if args.json:
            with open(args.json, "w") as out:
                json.dump(records, out)
        return
    records = []
    for backend in BACKENDS:
        path = os.path.join(HERE, f".{backend}.json")
        command = [sys.executable, __file__, "--backend", backend, "--json", path]
        command += ["--cells", *args.cells] + (["--quick"] if args.quick else [])
        subprocess.run(command, check=True)
        with open(path) as out:
            records.extend(json.load(out))
        os.remove(path)
    os.environ["KERAS_BACKEND"] = BACKENDS[0]
    write_results(records, args.quick)


if __name__ == "__main__":
    main()
