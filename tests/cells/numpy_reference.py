"""NumPy references of seqzoo's cells, written from the course's equations.

Everything here works with column vectors, as the course writes it: a state
a<t-1> is `(units, batch)`, an input x<t> is `(features, batch)`, and a gate
matrix W acts on the stacked column [a<t-1>; x<t>], so W = [Waa | Wax]. The
matrices are rebuilt from the Keras layout (`kernel` (features, gates*units)
= Wax^T side by side, `recurrent_kernel` (units, gates*units) = Waa^T side by
side) by `stacked`; nothing here reuses the cells' code path.

Each `*_step` takes row-major NumPy arrays as Keras does (batch first) and
returns `(output, new_states, gates)` in the same layout, with gates as a dict
keyed like the cells' `gate_activations`.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def stacked(kernel, recurrent_kernel, gate, units):
    """The course's W_gate = [Waa | Wax] for gate number `gate`."""
    cols = slice(gate * units, (gate + 1) * units)
    return np.concatenate([recurrent_kernel[:, cols].T, kernel[:, cols].T], axis=1)


def gate_bias(bias, gate, units):
    """b_gate as a column `(units, 1)`; zero when there is no bias."""
    if bias is None:
        return np.zeros((units, 1))
    return bias[gate * units : (gate + 1) * units][:, None]


def simple_rnn_step(x, states, weights, activation=np.tanh):
    """a<t> = g(Wa [a<t-1>, x<t>] + ba)."""
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else None
    units = recurrent_kernel.shape[0]
    a_prev = states[0].T
    wa = stacked(kernel, recurrent_kernel, 0, units)
    a = activation(wa @ np.vstack([a_prev, x.T]) + gate_bias(bias, 0, units))
    return a.T, [a.T], {"candidate": a.T}


def gru_step(x, states, weights, reset_after=True, minimal=False):
    """One GRU step, Keras's form (update gate z = the course's 1 - Γu).

        z = σ(Wz [c<t-1>, x<t>] + bz)
        r = σ(Wr [c<t-1>, x<t>] + br)                       (not if minimal)
        reset_after=False:  c̃ = tanh(Wc [r * c<t-1>, x<t>] + bc)
        reset_after=True:   c̃ = tanh(Wcx x<t> + bcx + r * (Wcc c<t-1> + bcc))
        minimal:            c̃ = tanh(Wc [c<t-1>, x<t>] + bc (+ bcc))
        c<t> = z * c<t-1> + (1 - z) * c̃

    With reset_after=True the bias has two rows: the input bias (first) and the
    recurrent bias (second), the latter added to the recurrent products.
    """
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else None
    units = recurrent_kernel.shape[0]
    features = kernel.shape[0]
    if bias is not None and reset_after:
        input_bias, recurrent_bias = bias[0], bias[1]
    else:
        input_bias, recurrent_bias = bias, None
    c_prev, xt = states[0].T, x.T
    column = np.vstack([c_prev, xt])
    gate_count = 2 if minimal else 3
    candidate_gate = gate_count - 1

    def recurrent_b(gate):
        return gate_bias(recurrent_bias, gate, units) if recurrent_bias is not None else 0.0

    def gate(number):
        w = stacked(kernel, recurrent_kernel, number, units)
        return sigmoid(w @ column + gate_bias(input_bias, number, units) + recurrent_b(number))

    z = gate(0)
    gates = {"update": z.T}
    wc = stacked(kernel, recurrent_kernel, candidate_gate, units)
    wcc, wcx = wc[:, :units], wc[:, units:]
    bc = gate_bias(input_bias, candidate_gate, units)
    if minimal:
        pre = wc @ column + bc + recurrent_b(candidate_gate)
    else:
        r = gate(1)
        gates["reset"] = r.T
        if reset_after:
            pre = wcx @ xt + bc + r * (wcc @ c_prev + recurrent_b(candidate_gate))
        else:
            pre = wc @ np.vstack([r * c_prev, xt]) + bc
    assert wcx.shape == (units, features)
    candidate = np.tanh(pre)
    gates["candidate"] = candidate.T
    c = z * c_prev + (1.0 - z) * candidate
    return c.T, [c.T], gates


def lstm_step(x, states, weights, cell_clip=None, peepholes=None):
    """One LSTM step in the course's form, gates in Keras's order i, f, c, o.

        Γu = σ(Wu [a<t-1>, x<t>] + pu * c<t-1> + bu)
        Γf = σ(Wf [a<t-1>, x<t>] + pf * c<t-1> + bf)
        c̃<t> = tanh(Wc [a<t-1>, x<t>] + bc)
        c<t> = Γu * c̃<t> + Γf * c<t-1>       (then clipped to ±cell_clip)
        Γo = σ(Wo [a<t-1>, x<t>] + po * c<t> + bo)
        a<t> = Γo * tanh(c<t>)

    `peepholes` is `(pu, pf, po)`, each `(units,)`, or `None` for a plain LSTM.
    """
    kernel, recurrent_kernel, bias = weights[0], weights[1], weights[2]
    units = recurrent_kernel.shape[0]
    a_prev, c_prev = states[0].T, states[1].T
    column = np.vstack([a_prev, x.T])
    if peepholes is None:
        pu = pf = po = np.zeros((units, 1))
    else:
        pu, pf, po = (p[:, None] for p in peepholes)

    def pre(gate):
        return stacked(kernel, recurrent_kernel, gate, units) @ column + gate_bias(bias, gate, units)

    update = sigmoid(pre(0) + pu * c_prev)
    forget = sigmoid(pre(1) + pf * c_prev)
    candidate = np.tanh(pre(2))
    c = update * candidate + forget * c_prev
    if cell_clip is not None:
        c = np.clip(c, -cell_clip, cell_clip)
    output = sigmoid(pre(3) + po * c)
    a = output * np.tanh(c)
    gates = {
        "input": update.T,
        "forget": forget.T,
        "candidate": candidate.T,
        "output": output.T,
    }
    return a.T, [a.T, c.T], gates


def peephole_lstm_step(x, states, weights, cell_clip=None):
    """`lstm_step` with the peephole vectors that follow the LSTM weights."""
    return lstm_step(x, states, weights[:3], cell_clip, peepholes=weights[3:6])


def run_sequence(step, xs, states, mask=None):
    """Runs `step` over `xs` `(batch, time, features)` from `states`.

    Where `mask[b, t]` is False the step is skipped for sample b: its states
    carry through and its output repeats the previous one (Keras's RNN with
    `zero_output_for_mask=False`).

    Returns `(outputs (batch, time, units), final_states)`.
    """
    states = [np.array(s, dtype=np.float64) for s in states]
    output = np.zeros_like(states[0])
    outputs = []
    for t in range(xs.shape[1]):
        new_output, new_states, _ = step(xs[:, t].astype(np.float64), states)
        if mask is None:
            output, states = new_output, new_states
        else:
            keep = mask[:, t][:, None]
            output = np.where(keep, new_output, output)
            states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
        outputs.append(output)
    return np.stack(outputs, axis=1), states


def g(z):
    """The minimal cells' activation: z + 0.5 for z >= 0, σ(z) below."""
    return np.where(z >= 0, z + 0.5, sigmoid(z))


def input_gate(kernel, bias, gate, units, x):
    """W_gate x<t> + b_gate as a column, for a cell whose gates read x<t> only."""
    cols = slice(gate * units, (gate + 1) * units)
    return kernel[:, cols].T @ x.T + gate_bias(bias, gate, units)


def mingru_step(x, states, weights):
    """One minGRU step (Feng et al. 2024), gates u, c:

    Γu = σ(Wu x<t> + bu),   c̃<t> = g(Wc x<t> + bc)
    c<t> = (1 - Γu) * c<t-1> + Γu * c̃<t>
    """
    kernel, bias = weights[0], weights[1] if len(weights) > 1 else None
    units = kernel.shape[1] // 2
    update = sigmoid(input_gate(kernel, bias, 0, units, x))
    candidate = g(input_gate(kernel, bias, 1, units, x))
    c = (1.0 - update) * states[0].T + update * candidate
    return c.T, [c.T], {"update": update.T, "candidate": candidate.T}


def minlstm_step(x, states, weights):
    """One minLSTM step (Feng et al. 2024), gates i (Γu), f (Γf), c:

    Γf' = Γf / (Γf + Γu),   Γu' = Γu / (Γf + Γu),   c̃<t> = g(Wc x<t> + bc)
    c<t> = Γf' * c<t-1> + Γu' * c̃<t>
    """
    kernel, bias = weights[0], weights[1] if len(weights) > 1 else None
    units = kernel.shape[1] // 3
    update, forget = (sigmoid(input_gate(kernel, bias, gate, units, x)) for gate in (0, 1))
    candidate = g(input_gate(kernel, bias, 2, units, x))
    forget, update = forget / (forget + update), update / (forget + update)
    c = forget * states[0].T + update * candidate
    return c.T, [c.T], {"input": update.T, "forget": forget.T, "candidate": candidate.T}
