"""
Title: Parallel RNNs: minGRU and minLSTM, trained over the whole sequence at once
Author: seqzoo contributors
Date created: 2026/12/07
Last modified: 2026/12/07
Description: Take the state out of the GRU's and LSTM's gates (Feng et al. 2024, "Were RNNs All We Needed?") and the recurrence becomes h<t> = a<t> h<t-1> + b<t>, a scan that runs in log2(T) rounds instead of T steps. Write that scan by hand, in log space, check seqzoo's step and parallel forms against it, time them over T, and sample names from a minGRU language model.
Accelerator: None

Run it:

    python tutorials/12_parallel_rnns.py [--fast] [--out DIR] [--data-dir DIR]

It prints what it checks and writes `12_speed_over_t.png` into `DIR` (default
`./tutorial_output`). The `names` dataset is generated on first use from the
`names` package (no download). The names are sampled from the `names_mingru`
preset that ships with seqzoo; fast mode also trains a tiny minGRU for one
epoch, the full mode for a few.
"""

import argparse
import math
import os
import sys
import time

# Lets `python tutorials/12_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import numpy as np
from keras import ops
from matplotlib.figure import Figure

import seqzoo
from seqzoo.architectures import Stepper
from seqzoo.tasks.vocabulary import BOS_ID


def step_loop(a, b):
    """h<t> = a<t> * h<t-1> + b<t> from h<0> = 0, one step after another (T sequential steps)."""
    h, states = np.zeros_like(b[0]), []
    for a_t, b_t in zip(a, b):
        h = a_t * h + b_t
        states.append(h)
    return np.stack(states)


def combine(earlier, later):
    """The scan's operator: two steps of h -> a h + b composed into one."""
    (a1, b1), (a2, b2) = earlier, later
    return a1 * a2, a2 * b1 + b2


def hillis_steele_scan(a, b):
    """Every prefix of `combine` over time (axis 0) in ceil(log2 T) rounds; returns (h, rounds).

    In round k every position t >= 2^k combines with position t - 2^k, all
    positions at once (one vectorized operation): after the round each
    position holds the composition of the last 2^(k+1) steps.
    """
    a, b, shift, rounds = a.copy(), b.copy(), 1, 0
    while shift < len(a):
        a_new, b_new = combine((a[:-shift], b[:-shift]), (a[shift:], b[shift:]))
        a[shift:], b[shift:] = a_new, b_new
        shift, rounds = 2 * shift, rounds + 1
    return b, rounds


def log_combine(earlier, later):
    """`combine` on logs: (log a1 + log a2, log(a2 b1 + b2)), for positive a and b."""
    (log_a1, log_b1), (log_a2, log_b2) = earlier, later
    return log_a1 + log_a2, ops.logaddexp(log_a2 + log_b1, log_b2)


def g(x):
    """The minimal cells' candidate activation (`seqzoo.cells.minimal.g`): x + 0.5 for x >= 0, σ(x) below."""
    return np.where(x >= 0, x + 0.5, 1 / (1 + np.exp(-np.minimum(x, 0))))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_coefficients(cell_name, kernel, bias, x):
    """(a<t>, b<t>) of the minGRU or minLSTM from the paper's equations, time first."""
    z = np.einsum("btf,fg->tbg", x, kernel) + bias
    if cell_name == "mingru":
        z_u, z_c = np.split(z, 2, axis=-1)
        gamma_u = sigmoid(z_u)
        return 1 - gamma_u, gamma_u * g(z_c)
    z_i, z_f, z_c = np.split(z, 3, axis=-1)
    gamma_u, gamma_f = sigmoid(z_i), sigmoid(z_f)
    total = gamma_u + gamma_f
    return gamma_f / total, gamma_u / total * g(z_c)


def training_step_seconds(cell_name, time_steps, units, batch=16, features=32, rounds=3):
    """Median seconds of one compiled training step (forward, backward, Adam) of one layer, after warm-up."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((time_steps, features), batch_size=batch),
            seqzoo.layers.RecurrentStack(cell_name, units=units),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, time_steps, features), dtype="float32")
    y = rng.standard_normal((batch, time_steps, units), dtype="float32")
    model.train_on_batch(x, y)  # compiles
    model.train_on_batch(x, y)
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def main(fast=False, out="tutorial_output", seed=0, data_dir=None):
    """Runs the tutorial; returns the checks and numbers it prints, for the tests."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    results = {}

    # ## The recurrence without the state in its gates
    #
    # The course's GRU computes its gates from x<t> and a<t-1>, so step t
    # cannot start before step t-1 ends: training walks T steps one after
    # another. The minGRU (Feng et al. 2024) computes them from x<t> alone:
    #
    #     Γu = σ(Wu x<t> + bu),   c̃<t> = g(Wc x<t> + bc)
    #     c<t> = (1 - Γu) * c<t-1> + Γu * c̃<t>
    #
    # with g(x) = x + 0.5 for x >= 0 and σ(x) below (positive, so c̃ > 0).
    # Every gate of every step now comes from one matrix product over the
    # whole sequence, and what is left is c<t> = a<t> c<t-1> + b<t> with
    # a<t> = 1 - Γu and b<t> = Γu c̃<t>, known for all t at once. The minLSTM
    # is the same with a forget gate: a<t> = Γf', b<t> = Γu' c̃<t>, where the
    # gates are normalized to sum to 1.
    #
    # ## The recurrence is a scan
    #
    # One step maps h to a h + b. Two steps compose into one of the same
    # kind: first (a1, b1), then (a2, b2) gives h -> a2 (a1 h + b1) + b2 =
    # (a1 a2) h + (a2 b1 + b2). That composition (`combine`) is associative,
    # so the prefixes c<1>, c<2>, ..., c<T> are a *scan* of it, which can be
    # computed in ceil(log2 T) rounds of work on every position at once
    # (Hillis and Steele): after round k each position holds the
    # composition of its last 2^(k+1) steps.
    time_steps = 1000  # NumPy on 3 units: instant in both modes
    a = rng.uniform(0.5, 1.0, (time_steps, 3))
    b = rng.uniform(0.0, 1.0, (time_steps, 3))
    looped = step_loop(a, b)
    scanned, rounds = hillis_steele_scan(a, b)
    results["scan_error"] = float(np.abs(scanned - looped).max())
    results["scan_rounds"] = rounds
    print(
        f"T={time_steps}: the loop takes {time_steps} sequential steps, the scan {rounds} rounds "
        f"(ceil(log2 T) = {math.ceil(math.log2(time_steps))}); max |scan - loop| = {results['scan_error']:.1e}"
    )

    # Keras has the same thing built in: `keras.ops.associative_scan` takes
    # the operator and runs a parallel scan (a different schedule, Blelloch's,
    # on TensorFlow and JAX; `jax.lax.associative_scan` underneath on JAX).
    keras_a, keras_b = ops.associative_scan(combine, (a, b), axis=0)
    results["keras_scan_error"] = float(np.abs(ops.convert_to_numpy(keras_b) - looped).max())
    print(
        f"keras.ops.associative_scan(combine, (a, b)): max |difference| from the loop = {results['keras_scan_error']:.1e}"
    )

    # ## Why in log space
    #
    # Unrolled, c<t> = Σ_s b<s> Π_{s<r<=t} a<r>: a sum of products of gates,
    # which over long sequences are tiny. The closed form that the paper
    # starts from, c<t> = A<t> Σ_{s<=t} b<s> / A<s> with A<t> = a<1>...a<t>
    # (a cumulative product and a cumulative sum, both parallel), divides by
    # A<s>, which underflows to 0 in float32 within a few hundred steps.
    # The paper keeps everything in logs instead: log a<t> and log b<t> come
    # straight from the pre-activations (log σ(z) = -softplus(-z), log g),
    # and the scan's operator on logs is `log_combine`: a sum for the a's
    # and a log-sum-exp for the b's. No product ever leaves float32's range.
    a32, b32 = a.astype("float32"), b.astype("float32")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        products = np.cumprod(a32, axis=0)
        closed_form = products * np.cumsum(b32 / products, axis=0)
    _, log_c = ops.associative_scan(log_combine, (np.log(a32), np.log(b32)), axis=0)
    in_logs = np.exp(ops.convert_to_numpy(log_c))
    results["closed_form_finite"] = float(np.isfinite(closed_form).mean())
    results["log_scan_relative_error"] = float((np.abs(in_logs - looped) / looped).max())
    print(
        f"float32, T={time_steps}: A<T> = {products[-1, 0]:.1e}; the closed form is finite at "
        f"{results['closed_form_finite']:.0%} of the positions; the scan in logs at all, max relative "
        f"error {results['log_scan_relative_error']:.1e}"
    )

    # ## seqzoo's two forms of the same cell
    #
    # `seqzoo.cells.MinGRUCell` and `MinLSTMCell` are ordinary Keras cells:
    # in `keras.layers.RNN` they run step by step, O(1) work per token, the
    # form generation needs. `seqzoo.layers.RecurrentStack("mingru")` (and
    # every named model on these cells) runs the parallel form: one product
    # for every (a<t>, b<t>), then the recurrence over the whole sequence (on a
    # GPU the associative scan, on a CPU an elementwise loop, which costs less
    # there; both in linear space). On copied weights both give the numbers of
    # the equations above, written in NumPy:
    x = rng.standard_normal((4, 50 if fast else 300, 8)).astype("float32")
    results["step_vs_parallel"], results["numpy_vs_parallel"] = {}, {}
    for cell_name in ("mingru", "minlstm"):
        step_form = keras.layers.RNN(seqzoo.cells.get(cell_name)(16), return_sequences=True)
        parallel_form = seqzoo.layers.RecurrentStack(cell_name, units=16)
        stepped = ops.convert_to_numpy(step_form(x))
        parallel_form(x)
        parallel_form.set_weights(step_form.get_weights())
        parallel = ops.convert_to_numpy(parallel_form(x))
        kernel, bias = step_form.get_weights()
        reference = step_loop(*numpy_coefficients(cell_name, kernel, bias, x)).transpose(1, 0, 2)
        results["step_vs_parallel"][cell_name] = float(np.abs(stepped - parallel).max())
        results["numpy_vs_parallel"][cell_name] = float(np.abs(reference - parallel).max())
        print(
            f"{cell_name}: max |step form - parallel form| = {results['step_vs_parallel'][cell_name]:.1e}, "
            f"|NumPy equations - parallel form| = {results['numpy_vs_parallel'][cell_name]:.1e}"
        )

    # ## Speed over T
    #
    # A training step of the fused GRU costs T sequential steps, each a
    # small (batch x units) by (units x 3 units) product. The minGRU's costs
    # one large product over every step and elementwise work over T. Time
    # one compiled training step of each (forward, backward and Adam, after
    # two warm-up steps that compile) as T grows. On a CPU with few cores a
    # scan's log2 T rounds do not run side by side as they would on a GPU,
    # so seqzoo runs the elementwise recurrence as a loop there; the gain
    # comes from the products (one large product instead of T small ones,
    # forward and backward).
    lengths = (16, 128) if fast else (64, 256, 1024, 4096)
    units = 32 if fast else 256
    seconds = {cell: [training_step_seconds(cell, t, units) for t in lengths] for cell in ("gru", "mingru")}
    speedup = [gru / mingru for gru, mingru in zip(seconds["gru"], seconds["mingru"])]
    results["speed"] = {"lengths": list(lengths), "seconds": seconds, "speedup": speedup}
    for t, ratio in zip(lengths, speedup):
        print(f"T={t}: minGRU trains {ratio:.1f}x as many tokens per second as the fused GRU ({units} units)")
    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    for cell, label in (("gru", "GRU (fused, step after step)"), ("mingru", "minGRU (parallel form)")):
        left.plot(lengths, [16 * t / s for t, s in zip(lengths, seconds[cell])], "o-", label=label)
    left.set(xscale="log", yscale="log", xlabel="T", ylabel="training tokens per second")
    left.set_title(f"One training step, batch 16, {units} units")
    left.legend()
    depth = np.array([2**k for k in range(1, 13)])
    right.plot(depth, depth, "o-", label="step loop: T steps")
    right.plot(depth, np.ceil(np.log2(depth)), "o-", label="scan: ceil(log2 T) rounds")
    right.set(xscale="log", yscale="log", xlabel="T", ylabel="sequential steps")
    right.set_title("Sequential depth of the recurrence")
    right.legend()
    figure.tight_layout()
    results["plot"] = os.path.join(out, "12_speed_over_t.png")
    figure.savefig(results["plot"], dpi=100)
    print(f"wrote {results['plot']}")

    # ## A minGRU language model
    #
    # `mingru_char_lm` is a character model on the minGRU: embedded
    # characters into two residual minGRU layers (one layer's gates see only
    # the current character; the second's see the first's summary of the
    # past), a softmax over the next character. Training runs the
    # parallel form over whole names; sampling runs the step form, one
    # character at a time (`Stepper`, through `seqzoo.generate`). Both are
    # the same function: the step form's logits at every position equal the
    # whole-sequence model's.
    task = seqzoo.load_task("names", data_dir=data_dir)
    vocabulary = task.prepare().vocabularies["inputs"]
    model = seqzoo.build("mingru_char_lm", task=task, **{"backbone.units": 32 if fast else 128})
    history = model.fit(
        task.batches("train", 64, shuffle=True, seed=seed),
        epochs=1 if fast else 5,
        validation_data=task.batches("validation", 64),
        verbose=0,
    )
    results["validation_loss"] = [float(v) for v in history.history["val_loss"]]
    results["uniform_nats"] = float(np.log(len(vocabulary) - 2))  # PAD and BOS are never predicted.
    name = "Christopher"
    ids = np.array([[BOS_ID] + vocabulary.encode(list(name))], "int32")
    whole = ops.convert_to_numpy(model(ids))[0]
    stepper = Stepper(model)
    cache = stepper.start(batch_size=1)
    stepped = []
    for token in ids[0]:
        logits, cache = stepper.next(np.array([token], "int32"), cache)
        stepped.append(ops.convert_to_numpy(logits)[0])
    results["stepper_error"] = float(np.abs(np.stack(stepped) - whole).max())
    print(
        f"\nmingru_char_lm trained {len(results['validation_loss'])} epoch(s): validation loss "
        f"{results['validation_loss'][-1]:.2f} nats per character (a uniform guess: "
        f"{results['uniform_nats']:.2f}); the step form's logits on {name!r} "
        f"equal the parallel form's to {results['stepper_error']:.1e}"
    )

    # ## The `names_mingru` preset
    #
    # seqzoo ships `mingru_char_lm` trained to early stopping on this task
    # (128 units, input dropout 0.2, seed 0; `python benchmarks/presets.py`).
    # Its test bits per character are within 5% of the GRU's `names`
    # preset's (`benchmarks/QUALITY.md`), and it writes new names one
    # character at a time, in the step form.
    preset, gru_preset = seqzoo.presets.open_run("preset:names_mingru"), seqzoo.presets.open_run("preset:names")
    results["preset_bits_per_character"] = preset.metrics()["bits_per_token"]
    results["gru_preset_bits_per_character"] = gru_preset.metrics()["bits_per_token"]
    print(
        f"preset:names_mingru: {results['preset_bits_per_character']:.3f} bits per character on the test names "
        f"(the GRU's preset:names: {results['gru_preset_bits_per_character']:.3f})"
    )
    preset_task = preset.load_task(data_dir=data_dir)  # With the preset's vocabulary: the ids its model reads.
    samples = seqzoo.generate(preset.load_model(), task=preset_task, num=20, temperature=1.0, seed=seed, max_length=20)
    results["samples"] = samples
    print(f"sampled: {', '.join(samples)}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="small sizes, one epoch (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plot")
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS's)")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out, data_dir=arguments.data_dir)
