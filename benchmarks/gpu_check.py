"""On a GPU: `fused=True` against Keras's cuDNN layers, numbers first, then training throughput.

For each backend (TensorFlow, JAX, then PyTorch, each in its own process)
and each cell, on equal weights:

- parity: `seqzoo.layers.Recurrent(cell, fused=True)` against Keras's own
  layer (`keras.layers.LSTM` or `GRU`, which run cuDNN on a GPU), without a
  mask (where both run cuDNN) and with a right-padded mask (where seqzoo runs
  its own fused kernel on the GPU and Keras cuDNN or its step loop):
  outputs, final states, and the gradients of the inputs and every weight;
  and seqzoo's fused kernels for the forms cuDNN has not (the GRU with
  `reset_after=False`, the minimal GRU, the peephole LSTM, recurrent dropout)
  and the parallel scan of minGRU and minLSTM against their own step loop
  (`fused=False`); on PyTorch, where
  `fused=True` runs PyTorch's own kernels (cuDNN) for the SimpleRNN, GRU
  and LSTM, masks included, and the other forms run the step loop, the
  three against Keras's layers (Keras's PyTorch scan cannot run on a GPU,
  so minGRU and minLSTM run their step loop there: nothing to compare);
- throughput: `model.train_on_batch` of one layer (batch 64, T=100, input
  width 128, 256 units, MSE, Adam), Keras's layer and seqzoo's
  `RecurrentStack` as `seqzoo.build` makes it timed alternately, medians
  compared (target: seqzoo >= 0.9x Keras's); minGRU and minLSTM (the
  parallel scan) against Keras's GRU and LSTM, for the record.

It writes its table into `benchmarks/RESULTS.md` (section `gpu-check`) and
exits with status 1 when a parity check fails, 2 when there is no GPU.
Parity runs with float32 products in full precision (the backends may
use TF32 on a recent GPU by default; the throughput part keeps the
default) and is checked to 1e-4 relative to each tensor's largest value.

Usage (a few minutes in all):

    python benchmarks/gpu_check.py                 # both backends; RESULTS.md
    python benchmarks/gpu_check.py --backend jax   # one backend, printed
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

from results_md import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax", "torch")
BATCH, TIME_STEPS, FEATURES, UNITS = 64, 100, 128, 256
TOLERANCE = 1e-4
# (name, seqzoo cell, its options, Keras's layer; None: seqzoo's step loop, `fused=False`)
PARITY_CASES = [
    ("lstm", "lstm", {}, "LSTM"),
    ("gru", "gru", {}, "GRU"),
    ("gru reset_after=False", "gru", {"reset_after": False}, None),
    ("gru minimal", "gru", {"minimal": True}, None),
    ("peephole", "peephole", {}, None),
    ("lstm recurrent_dropout", "lstm", {"recurrent_dropout": 0.3, "seed": 1}, None),
    ("mingru parallel scan", "mingru", {}, None),
    ("minlstm parallel scan", "minlstm", {}, None),
]
# On PyTorch, `fused=True` means PyTorch's kernels, which compute the standard cells only.
TORCH_PARITY_CASES = [
    ("lstm", "lstm", {}, "LSTM"),
    ("gru", "gru", {}, "GRU"),
    ("rnn", "rnn", {}, "SimpleRNN"),
]
# (seqzoo cell, Keras's layer): the minimal cells' parallel scan timed against Keras's cuDNN GRU and LSTM.
SPEED_CASES = [("lstm", "LSTM"), ("gru", "GRU"), ("mingru", "GRU"), ("minlstm", "LSTM")]


def gradients(layer, x, mask, training):
    """Outputs, final states and the gradients of a fixed weighted sum of them, as NumPy arrays."""
    import keras
    import numpy as np

    def loss(x):
        rng = np.random.default_rng(2)
        results = layer(x, mask=mask, training=training)
        weights = [keras.ops.convert_to_tensor(rng.normal(size=r.shape).astype("float32")) for r in results]
        return sum(keras.ops.sum(r * w) for r, w in zip(results, weights)), results

    variables = layer.trainable_variables
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value, results = loss(x)
        grads = tape.gradient(value, [x] + [v.value for v in variables])
    elif keras.backend.backend() == "torch":
        import torch

        x = keras.ops.convert_to_tensor(x).requires_grad_()  # on Keras's device
        value, results = loss(x)
        grads = torch.autograd.grad(value, [x] + [v.value for v in variables])
    else:
        import jax

        def pure(values, x):
            # Inside a StatelessScope, reading a variable gives the value mapped to it.
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return loss(x)

        (_, results), (grads_v, grad_x) = jax.value_and_grad(pure, argnums=(0, 1), has_aux=True)(
            [v.value for v in variables], jax.numpy.asarray(x)
        )
        grads = [grad_x, *grads_v]
    return [keras.ops.convert_to_numpy(t) for t in [*results, *grads]]


def largest_difference(expected, got):
    """The largest |got - expected| of every tensor, relative to that tensor's largest |expected|."""
    import numpy as np

    return max(float(np.abs(g - e).max() / max(np.abs(e).max(), 1.0)) for e, g in zip(expected, got))


def full_float32_precision(backend, full):
    """Turns TF32 products off (`full=True`) or back to the backend's default."""
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(not full)
    elif backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = not full
        torch.backends.cudnn.allow_tf32 = not full
    else:
        import jax

        jax.config.update("jax_default_matmul_precision", "highest" if full else None)


def parity(backend):
    """One row per case and mask: the largest relative difference, and whether it is within `TOLERANCE`."""
    import keras
    import numpy as np

    import seqzoo

    full_float32_precision(backend, True)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 20, 16)).astype("float32")
    lengths = np.array([20, 17, 12, 20, 5, 20, 9, 14])
    padded = keras.ops.convert_to_tensor(np.arange(20)[None] < lengths[:, None])
    rows = []
    for name, cell, options, keras_layer in TORCH_PARITY_CASES if backend == "torch" else PARITY_CASES:
        for mask in (None, padded):
            keras.utils.set_random_seed(0)
            cell_class = seqzoo.cells.get(cell)
            kwargs = {"return_sequences": True, "return_state": True}
            fused = seqzoo.layers.Recurrent(cell_class(32, **options), fused=True, **kwargs)
            if keras_layer:
                reference = getattr(keras.layers, keras_layer)(32, **kwargs)
            else:
                reference = seqzoo.layers.Recurrent(cell_class(32, **options), fused=False, **kwargs)
            fused(x)
            reference(x)
            for ours, theirs in zip(fused.trainable_variables, reference.trainable_variables):
                value = rng.normal(scale=0.3, size=theirs.shape).astype("float32")
                ours.assign(value)
                theirs.assign(value)
            training = "recurrent_dropout" in options
            difference = largest_difference(
                gradients(reference, x, mask, training), gradients(fused, x, mask, training)
            )
            rows.append(
                {
                    "backend": backend,
                    "case": name,
                    "reference": f"keras.layers.{keras_layer}" if keras_layer else "fused=False",
                    "mask": "right-padded" if mask is not None else "none",
                    "difference": difference,
                    "ok": difference <= TOLERANCE,
                }
            )
            print(rows[-1], flush=True)
    full_float32_precision(backend, False)
    return rows


def throughput(backend, repeats=7, steps=5):
    """Tokens per second of Keras's cuDNN layer and seqzoo's stack, alternated."""
    import keras
    import numpy as np

    import seqzoo

    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.normal(size=(BATCH, TIME_STEPS, FEATURES)).astype("float32"))
    y = keras.ops.convert_to_tensor(rng.normal(size=(BATCH, TIME_STEPS, UNITS)).astype("float32"))
    rows = []
    for cell, keras_layer in SPEED_CASES:
        builds = {
            "keras": lambda: getattr(keras.layers, keras_layer)(UNITS, return_sequences=True),
            "seqzoo": lambda: seqzoo.layers.RecurrentStack(cell, units=UNITS),
        }
        runs = {}
        for name, layer in builds.items():
            model = keras.Sequential([keras.Input((TIME_STEPS, FEATURES), batch_size=BATCH), layer()])
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
            runs[name] = model
        for model in runs.values():  # compile and warm up
            for _ in range(3):
                model.train_on_batch(x, y)
        seconds = {name: [] for name in runs}
        for _ in range(repeats):
            for name, model in runs.items():
                start = time.perf_counter()
                for _ in range(steps):
                    model.train_on_batch(x, y)
                float(keras.ops.convert_to_numpy(model.trainable_variables[0])[0, 0])  # wait for the device
                seconds[name].append((time.perf_counter() - start) / steps)
        tokens = {name: BATCH * TIME_STEPS / statistics.median(values) for name, values in seconds.items()}
        label = cell if cell == keras_layer.lower() else f"{cell} (against {keras_layer})"
        rows.append({"backend": backend, "cell": label, "keras": tokens["keras"], "seqzoo": tokens["seqzoo"]})
        print(rows[-1], flush=True)
    return rows


def device_name(backend):
    import keras

    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0)
    devices = keras.distribution.list_devices("gpu")
    if backend == "tensorflow":
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return details.get("device_name", devices[0])
    import jax

    return jax.devices("gpu")[0].device_kind


def run_backend(backend):
    os.environ["KERAS_BACKEND"] = backend
    sys.path.insert(0, os.path.dirname(HERE))
    import keras

    if backend == "torch":  # keras.distribution is None there
        import torch

        has_gpu = torch.cuda.is_available()
    else:
        try:
            has_gpu = bool(keras.distribution.list_devices("gpu"))
        except RuntimeError:
            has_gpu = False
    if not has_gpu:
        print(f"No GPU on the {backend} backend: nothing to check.", file=sys.stderr)
        sys.exit(2)
    return {"device": device_name(backend), "parity": parity(backend), "speed": throughput(backend)}


def write_results(results):
    date = datetime.date.today().isoformat()
    devices = ", ".join(sorted({r["device"] for r in results.values()}))
    lines = [
        f"Written by `python benchmarks/gpu_check.py` on {date}. Device: {devices}.",
        "",
        f"Parity on equal weights (batch 8, T=20, 32 units): the largest difference of outputs, final states and "
        f"gradients (inputs and weights), relative to each tensor's largest value; within {TOLERANCE:g} passes.",
        "",
        "| backend | case | reference | mask | largest difference | ok |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        for row in result["parity"]:
            lines.append(
                f"| {row['backend']} | {row['case']} | {row['reference']} | {row['mask']} | "
                f"{row['difference']:.1e} | {'yes' if row['ok'] else '**no**'} |"
            )
    lines += [
        "",
        f"Training throughput, batch {BATCH}, T={TIME_STEPS}, input width {FEATURES}, {UNITS} units, "
        "`return_sequences=True`, MSE, Adam (medians of alternated runs; target seqzoo >= 0.9x Keras's cuDNN layer).",
        "",
        "| backend | cell | keras tok/s | seqzoo tok/s | seqzoo / keras |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        for row in result["speed"]:
            lines.append(
                f"| {row['backend']} | {row['cell']} | {row['keras']:,.0f} | {row['seqzoo']:,.0f} | "
                f"{row['seqzoo'] / row['keras']:.2f} |"
            )
    write_section("gpu-check", "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--json", help="where a single-backend run writes its results")
    args = parser.parse_args()
    if args.backend:
        result = run_backend(args.backend)
        if args.json:
            with open(args.json, "w") as out:
                json.dump(result, out)
        return
    results = {}
    for backend in BACKENDS:
        path = os.path.join(HERE, f".gpu-{backend}.json")
        done = subprocess.run([sys.executable, __file__, "--backend", backend, "--json", path])
        if done.returncode:
            sys.exit(done.returncode)
        with open(path) as out:
            results[backend] = json.load(out)
        os.remove(path)
    write_results(results)
    if not all(row["ok"] for result in results.values() for row in result["parity"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
