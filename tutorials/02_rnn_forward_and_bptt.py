"""
Title: The RNN forward pass and backpropagation through time, by hand
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/11/29
Description: The course's RNN equations in NumPy, checked against seqzoo's SimpleRNNCell (Wa = [Waa | Wax]) and against automatic differentiation.
Accelerator: None

Run it:

    python tutorials/02_rnn_forward_and_bptt.py [--fast] [--out DIR]

It prints the differences between the hand-written and the library's numbers
and writes `02_bptt_gradient_flow.png` into `DIR` (default `./tutorial_output`).
"""

import argparse
import os
import sys

# Lets `python tutorials/02_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from seqzoo.cells import SimpleRNNCell

# ## The equations
#
# With column vectors, as in the course (one column per example):
#
#     a<t> = tanh(Waa a<t-1> + Wax x<t> + ba) = tanh(Wa [a<t-1>; x<t>] + ba)
#     ŷ<t> = softmax(Wya a<t> + by)
#
# where Wa = [Waa | Wax] puts the two matrices side by side and [a<t-1>; x<t>]
# stacks the two vectors. Shapes: x<t> (n_x, m), a<t> (n_a, m), ŷ<t> (n_y, m),
# Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a). The loss is the
# cross-entropy summed over time, averaged over the m examples:
#
#     L = (1/m) Σ_i Σ_t -log ŷ(i)<t>[y(i)<t>]


def softmax(z):
    z = z - z.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


def rnn_forward(x, a0, parameters):
    """The forward pass of the course's RNN.

    Args:
        x: inputs `(n_x, m, T)`.
        a0: the initial state `(n_a, m)`.
        parameters: `Waa, Wax, Wya, ba, by`.

    Returns:
        `(a, y_hat, cache)`: states `(n_a, m, T)`, softmax outputs
        `(n_y, m, T)`, and what the backward pass needs.
    """
    Waa, Wax, Wya, ba, by = (parameters[k] for k in ("Waa", "Wax", "Wya", "ba", "by"))
    n_x, m, T = x.shape
    a = np.zeros((Waa.shape[0], m, T))
    y_hat = np.zeros((Wya.shape[0], m, T))
    a_prev = a0
    for t in range(T):
        a[:, :, t] = np.tanh(Waa @ a_prev + Wax @ x[:, :, t] + ba)
        y_hat[:, :, t] = softmax(Wya @ a[:, :, t] + by)
        a_prev = a[:, :, t]
    return a, y_hat, (x, a0, a, y_hat, parameters)


def cross_entropy(y_hat, labels):
    """L = (1/m) Σ_i Σ_t -log ŷ(i)<t>[y(i)<t>], labels `(m, T)`."""
    n_y, m, T = y_hat.shape
    picked = y_hat[labels, np.arange(m)[:, None], np.arange(T)[None, :]]
    return -np.log(picked).sum() / m


# ## Backpropagation through time
#
# The backward pass walks the sequence from t = T down to 1. At each step the
# gradient reaching a<t> has two sources: the output ŷ<t> of that step, and
# the next step a<t+1> (through Waa). Writing dz<t> for the gradient of the
# pre-activation (tanh' = 1 - a²):
#
#     dlogits<t> = (ŷ<t> - onehot(y<t>)) / m          softmax + cross-entropy
#     dWya += dlogits<t> a<t>ᵀ,   dby += Σ_i dlogits<t>
#     da<t> = Wyaᵀ dlogits<t> + da_next                 two paths into a<t>
#     dz<t> = da<t> * (1 - a<t>²)
#     dWax += dz<t> x<t>ᵀ,  dWaa += dz<t> a<t-1>ᵀ,  dba += Σ_i dz<t>
#     dx<t> = Waxᵀ dz<t>,   da_next = Waaᵀ dz<t>        on to step t-1
#
# The same Waa multiplies da_next at every step: that repeated product is
# where gradients vanish or explode (tutorial 5).


def rnn_backward(labels, cache, last_step_only=False):
    """BPTT for `rnn_forward` and `cross_entropy`.

    Returns:
        `(gradients, dx, da_norms)`: the parameters' gradients, dL/dx, and
        ||dL/da<t>|| for every t. With `last_step_only=True`, L is only the
        last step's term -log ŷ<T>[y<T>] (to see how far back it reaches).
    """
    x, a0, a, y_hat, parameters = cache
    Waa, Wax, Wya = parameters["Waa"], parameters["Wax"], parameters["Wya"]
    n_x, m, T = x.shape
    gradients = {name: np.zeros_like(value) for name, value in parameters.items()}
    dx = np.zeros_like(x)
    da_next = np.zeros_like(a0)
    da_norms = np.zeros(T)
    one_hot = np.eye(Wya.shape[0])[labels].transpose(2, 0, 1)  # (n_y, m, T)
    for t in reversed(range(T)):
        dlogits = (y_hat[:, :, t] - one_hot[:, :, t]) / m
        if last_step_only and t < T - 1:
            dlogits = np.zeros_like(dlogits)
        gradients["Wya"] += dlogits @ a[:, :, t].T
        gradients["by"] += dlogits.sum(axis=1, keepdims=True)
        da = Wya.T @ dlogits + da_next
        da_norms[t] = np.linalg.norm(da)
        dz = da * (1.0 - a[:, :, t] ** 2)
        a_prev = a[:, :, t - 1] if t > 0 else a0
        gradients["Wax"] += dz @ x[:, :, t].T
        gradients["Waa"] += dz @ a_prev.T
        gradients["ba"] += dz.sum(axis=1, keepdims=True)
        dx[:, :, t] = Wax.T @ dz
        da_next = Waa.T @ dz
    return gradients, dx, da_norms


def main(fast=False, out="tutorial_output", seed=0):
    """Runs the tutorial; returns the differences it prints, for the tests."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    # The course's character model has n_x = n_y = 27 characters; fast mode
    # uses tiny sizes.
    n_x, n_a, n_y, m, T = (3, 5, 2, 4, 6) if fast else (27, 50, 27, 16, 25)

    parameters = {
        "Waa": rng.normal(0, 0.6 / np.sqrt(n_a), (n_a, n_a)),
        "Wax": rng.normal(0, 1.0 / np.sqrt(n_x), (n_a, n_x)),
        "Wya": rng.normal(0, 1.0 / np.sqrt(n_a), (n_y, n_a)),
        "ba": rng.normal(0, 0.1, (n_a, 1)),
        "by": rng.normal(0, 0.1, (n_y, 1)),
    }
    x = rng.normal(size=(n_x, m, T))
    a0 = np.zeros((n_a, m))
    labels = rng.integers(0, n_y, size=(m, T))

    # ## The forward pass, by hand and by `SimpleRNNCell`
    a, y_hat, cache = rnn_forward(x, a0, parameters)
    loss = cross_entropy(y_hat, labels)
    print(f"n_x={n_x} n_a={n_a} n_y={n_y} m={m} T={T}: hand-written loss L = {loss:.6f}")

    # Keras works with row vectors, one row per example, so a layer's inputs
    # are `(m, T, n_x)` and its weights are the transposes of the course's:
    # the cell's `kernel` is Waxᵀ `(n_x, n_a)`, its `recurrent_kernel` is
    # Waaᵀ `(n_a, n_a)` and its `bias` is ba. Copy the course's matrices in.
    cell = SimpleRNNCell(n_a)
    layer = keras.layers.RNN(cell, return_sequences=True)
    x_keras = x.transpose(1, 2, 0).astype("float32")  # (n_x, m, T) -> (m, T, n_x)
    layer.build(x_keras.shape)
    cell.kernel.assign(parameters["Wax"].T)
    cell.recurrent_kernel.assign(parameters["Waa"].T)
    cell.bias.assign(parameters["ba"][:, 0])

    # `stacked_kernel` gives Wa = [Waa | Wax] back in the course's layout.
    Wa = np.asarray(cell.stacked_kernel)
    stacked_error = float(np.abs(Wa - np.concatenate([parameters["Waa"], parameters["Wax"]], axis=1)).max())
    print(f"Wa = [Waa | Wax] has shape {Wa.shape} = (n_a, n_a + n_x); |Wa - [Waa | Wax]| max = {stacked_error:.1e}")

    # One step with the stacked form, tanh(Wa [a<t-1>; x<t>] + ba), is the same
    # as with the two matrices apart:
    stacked_step = np.tanh(Wa @ np.concatenate([a0, x[:, :, 0]]) + parameters["ba"])
    stacked_step_error = float(np.abs(stacked_step - a[:, :, 0]).max())
    print(f"a<1> from Wa [a<0>; x<1>]: max difference {stacked_step_error:.1e}")

    keras_states = np.asarray(layer(x_keras))  # (m, T, n_a), float32
    forward_error = float(np.abs(keras_states - a.transpose(1, 2, 0)).max())
    print(
        f"a<1..T>: hand-written NumPy vs keras.layers.RNN(SimpleRNNCell): "
        f"max |difference| = {forward_error:.2e} (float32 rounding)"
    )

    # ## BPTT by hand, checked against automatic differentiation
    #
    # The same network as a Keras model, in float64 so that the comparison is
    # exact to rounding: `RNN(SimpleRNNCell)` then a `Dense` head Wya, by.
    # TensorFlow's `GradientTape` differentiates it automatically.
    gradients, dx, da_norms = rnn_backward(labels, cache)
    cell64 = SimpleRNNCell(n_a, dtype="float64")
    rnn64 = keras.layers.RNN(cell64, return_sequences=True, dtype="float64")
    head = keras.layers.Dense(n_y, dtype="float64")
    x64 = tf.constant(x.transpose(1, 2, 0))
    rnn64.build(x64.shape)
    head.build((None, n_a))
    cell64.kernel.assign(parameters["Wax"].T)
    cell64.recurrent_kernel.assign(parameters["Waa"].T)
    cell64.bias.assign(parameters["ba"][:, 0])
    head.kernel.assign(parameters["Wya"].T)
    head.bias.assign(parameters["by"][:, 0])
    with tf.GradientTape() as tape:
        tape.watch(x64)
        logits = head(rnn64(x64))
        per_step = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        keras_loss = tf.reduce_sum(per_step) / m
    automatic = tape.gradient(
        keras_loss, [cell64.kernel, cell64.recurrent_kernel, cell64.bias, head.kernel, head.bias, x64]
    )
    automatic = {
        "Wax": automatic[0].numpy().T,
        "Waa": automatic[1].numpy().T,
        "ba": automatic[2].numpy()[:, None],
        "Wya": automatic[3].numpy().T,
        "by": automatic[4].numpy()[:, None],
        "x": automatic[5].numpy().transpose(2, 0, 1),
    }
    gradients = {**gradients, "x": dx}
    print(f"\nloss: hand {loss:.10f}, Keras {float(keras_loss):.10f}")
    gradient_errors = {}
    for name in ("Waa", "Wax", "ba", "Wya", "by", "x"):
        error = float(np.abs(gradients[name] - automatic[name]).max())
        scale = float(np.abs(automatic[name]).max())
        gradient_errors[name] = error
        print(
            f"  dL/d{name:3} {str(gradients[name].shape):13} max |hand - autodiff| = {error:.1e}"
            f"  (largest entry {scale:.1e})"
        )

    # ## Gradient checking
    #
    # The course's other check needs no library at all: nudge one weight by ±ε
    # and compare (L(w+ε) - L(w-ε)) / 2ε with the backward pass's entry.
    epsilon = 1e-6
    numeric_errors = []
    for name, index in (("Waa", (0, 1)), ("Wax", (1, 0)), ("ba", (2 % n_a, 0))):
        plus = {k: v.copy() for k, v in parameters.items()}
        minus = {k: v.copy() for k, v in parameters.items()}
        plus[name][index] += epsilon
        minus[name][index] -= epsilon
        numeric = (
            cross_entropy(rnn_forward(x, a0, plus)[1], labels) - cross_entropy(rnn_forward(x, a0, minus)[1], labels)
        ) / (2 * epsilon)
        numeric_errors.append(abs(numeric - gradients[name][index]))
        print(f"  finite difference dL/d{name}{list(index)}: {numeric:+.8f} vs BPTT {gradients[name][index]:+.8f}")

    # ## Where the gradient goes
    #
    # ||dL/da<t>|| is what BPTT carries back to step t: the output of step t
    # plus everything later steps send back through Waa. To see how far back
    # one output reaches, run the backward pass for the last step's loss alone,
    # L<T> = -log ŷ<T>[y<T>]: ||dL<T>/da<t>|| shrinks with each step it travels
    # back through Waa and tanh', by a roughly constant factor per step (a
    # straight line on a log scale). This is the vanishing gradient that
    # tutorial 5 measures.
    _, _, last_norms = rnn_backward(labels, cache, last_step_only=True)
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    steps = np.arange(1, T + 1)
    axes[0].semilogy(steps, da_norms, marker="o", label="||dL/da<t>||, L summed over all steps")
    axes[0].semilogy(
        steps, np.maximum(last_norms, 1e-30), marker="s", label="||dL<T>/da<t>||, the last step's loss only"
    )
    axes[0].set_xlabel("time step t")
    axes[0].set_ylabel("gradient norm")
    axes[0].set_title("Gradient reaching a<t> (BPTT walks from t = T back to 1)", fontsize=10)
    axes[0].legend(fontsize=8)
    names = ["Waa", "Wax", "ba", "Wya", "by"]
    hand = [np.abs(gradients[n]).max() for n in names]
    diff = [max(gradient_errors[n], 1e-18) for n in names]
    positions = np.arange(len(names))
    axes[1].bar(positions - 0.2, hand, width=0.4, label="largest |gradient entry|")
    axes[1].bar(positions + 0.2, diff, width=0.4, label="max |hand - autodiff|")
    axes[1].set_yscale("log")
    axes[1].set_xticks(positions)
    axes[1].set_xticklabels([f"dL/d{n}" for n in names])
    axes[1].set_title("Hand-written BPTT vs GradientTape (float64)", fontsize=10)
    axes[1].legend(fontsize=8, loc="center")
    figure.tight_layout()
    path = os.path.join(out, "02_bptt_gradient_flow.png")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"\nwrote {path}")

    return {
        "forward_max_error": forward_error,
        "stacked_kernel_error": stacked_error,
        "stacked_step_error": stacked_step_error,
        "loss_hand": float(loss),
        "loss_keras": float(keras_loss),
        "gradient_errors": gradient_errors,
        "gradient_scales": {name: float(np.abs(automatic[name]).max()) for name in automatic},
        "finite_difference_errors": [float(e) for e in numeric_errors],
        "last_step_gradient_norms": last_norms,
        "plot": path,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="tiny sizes (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out)
