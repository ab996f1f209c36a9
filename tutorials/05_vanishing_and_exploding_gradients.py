"""
Title: Vanishing and exploding gradients, and gradient clipping
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/11/29
Description: How far back a gradient reaches in a SimpleRNN, a GRU and an LSTM, what the gates change, and a run that diverges (loss to inf, then NaN) without gradient clipping and trains with it.
Accelerator: None

Run it:

    python tutorials/05_vanishing_and_exploding_gradients.py [--fast] [--out DIR]

It prints gradient norms and losses and writes `05_gradient_norms.png` and
`05_clipping.png` into `DIR` (default `./tutorial_output`).
"""

import argparse
import os
import sys

# Lets `python tutorials/05_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import seqzoo
from seqzoo import cells
from seqzoo import diagnostics

T = 100  # Sequence length of the gradient measurements.
DISTANCE = 50  # The distance T - t at which the tutorial compares the cells.


def set_carry_bias(cell, value):
    """Sets the bias of the gate that decides how much of the old state is kept.

    LSTM: Γf (Keras's forget gate f, the second quarter of the bias).
    GRU: Keras's update gate z, which *keeps* c<t-1>: c<t> = z c<t-1> + (1 - z) c̃<t>,
    so Keras's z is the course's 1 - Γu (the first third of the input bias).
    """
    bias = np.asarray(cell.bias).copy()
    units = cell.units
    if isinstance(cell, cells.LSTMCell):
        bias[units : 2 * units] = value
    elif isinstance(cell, cells.GRUCell):
        if bias.ndim == 2:  # reset_after=True: an input bias row and a recurrent bias row.
            bias[0, :units] = value
            bias[1, :units] = 0.0
        else:
            bias[:units] = value
    else:
        raise ValueError(f"{type(cell).__name__} has no gate that carries the state.")
    cell.bias.assign(bias)


def main(fast=False, out="tutorial_output", seed=0):
    """Runs the tutorial; returns the measured norms and losses, for the tests."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    units, features, batch = 32, 8, 16
    results = {}

    # ## How much does a<T> depend on x<t>?
    #
    # `diagnostics.input_gradient_norms(layer, x)` measures ||∂a<T>/∂x<t>|| for
    # every t: how much the last state moves when an input T - t steps back
    # moves. Backpropagation carries exactly this signal from a loss at step T
    # back to step t. For a SimpleRNN,
    #
    #     ∂a<t>/∂a<t-1> = diag(1 - a<t>²) Waa
    #
    # so going back d steps multiplies d such factors. Keras starts Waa
    # orthogonal (it keeps a vector's length), so what shrinks the gradient is
    # tanh' = 1 - a² < 1: the harder the inputs drive the units into
    # saturation, the faster the gradient vanishes. Here the inputs are 8
    # standardized features per step (mean 0, variance 1).
    x = rng.normal(size=(batch, T, features)).astype("float32")
    layers = {
        "SimpleRNN": keras.layers.RNN(cells.SimpleRNNCell(units)),
        "GRU": keras.layers.RNN(cells.GRUCell(units)),
        "LSTM": keras.layers.RNN(cells.LSTMCell(units)),
    }
    for layer in layers.values():
        layer.build(x.shape)

    # The gated cells carry their state along a second path. In an LSTM,
    # ∂c<t>/∂c<t-1> = Γf (elementwise), so d steps back multiply d forget
    # gates; in a GRU, Keras's update gate z plays that part
    # (c<t> = z c<t-1> + (1 - z) c̃<t>; the course writes Γu = 1 - z). That is
    # the course's point: a gate can be ~1, and then the product does not
    # vanish. But a gate is only ~1 if its weights make it so. At Keras's
    # initialization the LSTM's forget bias is 1 (`unit_forget_bias`), so
    # Γf ≈ σ(1) ≈ 0.73, and the GRU's update bias is 0, so z ≈ 0.5: both still
    # lose a share of the gradient at every step, the GRU more than the LSTM.
    #
    # A network that has learned to remember has gates that carry. Training on
    # a task with long-range dependencies pushes them there; to see the effect
    # without a long training run, set the biases by hand: +3 makes
    # Γf ≈ z ≈ σ(3) ≈ 0.95 (the GRU's Γu ≈ 0.05: "do not update").
    for name in ("GRU", "LSTM"):
        carry = keras.layers.RNN(type(layers[name].cell)(units))
        carry.build(x.shape)
        carry.set_weights(layers[name].get_weights())
        set_carry_bias(carry.cell, 3.0)
        layers[f"{name}, carry gate bias +3"] = carry

    norms = {name: diagnostics.input_gradient_norms(layer, x) for name, layer in layers.items()}
    gate_means = {}
    for name, layer in layers.items():
        records = diagnostics.record_gates(layer.cell, x)
        if "forget" in records:
            gate_means[name] = ("mean Γf", float(records["forget"].mean()))
        elif "reset" in records:
            gate_means[name] = ("mean z = 1 - Γu", float(records["update"].mean()))
    print(f"||∂a<T>/∂x<t>|| at distance T - t (T = {T}, {units} units, batch {batch}):")
    print(f"  {'':30} {'d=0':>9} {'d=10':>9} {'d=25':>9} {'d=50':>9}   gate that carries")
    for name, values in norms.items():
        at = [values[T - 1 - d] for d in (0, 10, 25, DISTANCE)]
        gate = f"{gate_means[name][0]} = {gate_means[name][1]:.2f}" if name in gate_means else ""
        print(f"  {name:30} " + " ".join(f"{v:9.1e}" for v in at) + f"   {gate}")
    at_distance = {name: float(values[T - 1 - DISTANCE]) for name, values in norms.items()}
    results["norms"] = norms
    results["at_distance"] = at_distance
    results["gate_means"] = {name: value for name, (_, value) in gate_means.items()}

    ratio = at_distance["LSTM"] / at_distance["SimpleRNN"]
    carry_ratio = at_distance["LSTM, carry gate bias +3"] / at_distance["SimpleRNN"]
    print(
        f"\nat distance {DISTANCE}: LSTM / SimpleRNN = {ratio:.0f}x at initialization, "
        f"{carry_ratio:.1e}x with the forget gate carrying"
    )

    # The saturation matters: feed the same SimpleRNN inputs ten times
    # smaller and its units stay in tanh's linear range, where the orthogonal
    # Waa passes the gradient on almost intact.
    small = diagnostics.input_gradient_norms(layers["SimpleRNN"], 0.1 * x)
    results["small_input_rnn_at_distance"] = float(small[T - 1 - DISTANCE])
    print(
        f"SimpleRNN with inputs x 0.1: {small[T - 1 - DISTANCE]:.1e} at distance {DISTANCE} "
        f"(vs {at_distance['SimpleRNN']:.1e}): vanishing comes from saturated units and from |Waa| < 1"
    )

    # ## Exploding gradients
    #
    # The opposite happens when Waa stretches vectors: with every singular
    # value 2 (an orthogonal matrix times 2) and small inputs, each step back
    # multiplies the gradient by up to 2.
    exploding = keras.layers.RNN(
        cells.SimpleRNNCell(units, recurrent_initializer=keras.initializers.Orthogonal(gain=2.0))
    )
    norms["SimpleRNN, Waa x 2 (small inputs)"] = diagnostics.input_gradient_norms(exploding, 0.1 * x)
    grow = norms["SimpleRNN, Waa x 2 (small inputs)"]
    print(
        f"SimpleRNN with Waa x 2: {grow[T - 1]:.1e} at distance 0, {grow[T - 1 - DISTANCE]:.1e} at distance "
        f"{DISTANCE}, {grow[0]:.1e} at distance {T - 1}"
    )
    results["exploding_growth"] = float(grow[0] / grow[T - 1])

    path = os.path.join(out, "05_gradient_norms.png")
    diagnostics.plot_gradient_norms(
        norms,
        path,
        title=f"How much a<T> depends on x<t> ({units} units, T = {T})",
        mark_distance=DISTANCE,
    )
    print(f"wrote {path}")
    results["gradient_plot"] = path

    # ## A run that diverges, and gradient clipping
    #
    # Exploding gradients show up in training as a loss that jumps to
    # enormous values, often on to inf and NaN. The task: read T = 100 numbers and
    # output the sum of the last five (a regression, `rnn_uni` with a
    # features input and a regression head). The SimpleRNN starts with
    # Waa x 1.5 and trains with plain SGD at a learning rate of 0.2.
    #
    # seqzoo clips gradients by norm by default (`optimizer.clipnorm: 1.0` in
    # every config): an update whose gradient norm exceeds 1 is scaled down to
    # norm 1, so one exploding batch cannot throw the weights far away.
    # `optimizer.clipnorm: None` switches clipping off.
    samples = 512 if fast else 2048
    epochs = 3 if fast else 5
    inputs = rng.normal(size=(samples, T, 1)).astype("float32")
    targets = inputs[:, -5:, 0].sum(axis=1, keepdims=True)
    probe = (inputs[:64], targets[:64])
    print(f"\nsum of the last 5 of {T} numbers: {samples} sequences, target variance {targets.var():.2f}")

    runs = {}
    for label, clipnorm in (("no clipping", None), ("clipnorm = 1.0", 1.0)):
        keras.utils.set_random_seed(seed + 1)
        model = seqzoo.build(
            "rnn_uni",
            **{
                "inputs": {"type": "features", "dim": 1},
                "outputs": {"type": "regression", "size": 1},
                "backbone.units": units,
                "backbone.cell_options": {
                    "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.5}}
                },
                "optimizer.name": "sgd",
                "optimizer.learning_rate": 0.2,
                "optimizer.clipnorm": clipnorm,
            },
        )
        history = {"loss": [], "gradient_norm": []}

        def record(batch_index, logs, model=model, history=history):
            history["loss"].append(float(logs["loss"]))
            history["gradient_norm"].append(diagnostics.loss_gradient_norm(model, *probe))

        model.fit(
            inputs,
            targets,
            batch_size=32,
            epochs=epochs,
            verbose=0,
            callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=record), keras.callbacks.TerminateOnNaN()],
        )
        final = history["loss"][-1]
        steps = len(history["loss"])
        print(
            f"  {label:15}: {steps} steps, loss {history['loss'][0]:.3g} -> {final:.3g}, "
            f"largest gradient norm seen {np.nanmax(history['gradient_norm']):.2g}"
        )
        runs[label] = history
    results["runs"] = runs

    figure, axes = plt.subplots(1, 3, figsize=(16, 4))
    for label, history in runs.items():
        steps = np.arange(1, len(history["loss"]) + 1)
        loss = np.array(history["loss"])
        finite = np.isfinite(loss)
        axes[0].semilogy(steps[finite], loss[finite], marker=".", label=label)
        if not finite.all():
            first = int(np.argmin(finite))
            axes[0].axvline(steps[first], color="red", linestyle=":", label=f"{label}: loss is {loss[first]} here")
        if finite.all():
            axes[1].plot(steps, loss, marker=".", color="C1", label=label)
        gradient = np.array(history["gradient_norm"])
        keep = np.isfinite(gradient)
        axes[2].semilogy(steps[keep], gradient[keep], marker=".", label=label)
    for axis in axes[:2]:
        axis.axhline(float(targets.var()), color="gray", linestyle="--", label="loss of predicting the mean")
    axes[2].axhline(1.0, color="gray", linestyle="--", label="clipnorm = 1: larger updates are scaled to this")
    axes[0].set_title("Training loss (mean so far in the epoch), log scale", fontsize=10)
    axes[1].set_title("The clipped run alone, linear scale", fontsize=10)
    axes[1].set_ylim(bottom=0)
    axes[2].set_title("||∂L/∂θ|| on a fixed batch after each step", fontsize=10)
    for axis in axes:
        axis.set_xlabel("training step")
        axis.legend(fontsize=7)
    figure.tight_layout()
    clip_path = os.path.join(out, "05_clipping.png")
    figure.savefig(clip_path, dpi=110)
    plt.close(figure)
    print(f"wrote {clip_path}")
    results["clipping_plot"] = clip_path
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="small data, few steps (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out)
