"""The minimal cells' whole sequence at once: h<t> = a<t> h<t-1> + b<t> after one product over every step.

A minimal cell (`seqzoo.cells.MinGRUCell`, `MinLSTMCell`) reads x<t> alone
in its gates, so every step's (a<t>, b<t>) comes from one product over the
whole sequence, and the recurrence is a first-order linear one, elementwise.
Two forms compute it:

- On a CPU, the backend's own loop, one elementwise step after another
  (`linear_recurrence` of `tensorflow_loops`, `jax_loops`, `torch_kernels`),
  with a backward pass that is the same recurrence run backwards:
  g<t> = dL/dh<t> + a<t+1> g<t+1>, dL/db<t> = g<t>, dL/da<t> = g<t> h<t-1>,
  dL/dh<0> = a<1> g<1>. It reads every (a<t>, b<t>) once each way; with
  no cores to spread them over, the associative scan's O(log T) rounds
  of whole-array strides and pads cost several times that.
- On a GPU or TPU (where the loop raises `NotImplementedError`), the
  associative scan: spans compose, (a1, b1) then (a2, b2) = (a1 a2,
  a2 b1 + b2), so `keras.ops.associative_scan` gives every h<t> in O(log T)
  sequential depth. h<0> is folded into the first step (b<1> + a<1> h<0>),
  so the scan's product of the a<t> is never read. Where a TensorFlow
  graph is traced without the length (a `fit` on batches of several
  lengths retraces with it unknown), which Keras's scan needs, a doubling
  scan in a `while_loop` runs instead, also in `keras.ops`.

Both run in linear space. Feng et al. (2024) take logs because their
form is Heinsen's, h<t> = A<t> (h<0> + Σ b<k> / A<k>) with A<t> = a<1> ...
a<t>, which divides by products that underflow; a pairwise scan never
divides, so a product of a<t> that underflows is just its true value, 0.
Measured at batch 16, T = 1024, 256 units (forward and gradient, on a
2-core CPU): the log-space associative scan (logaddexp at every level) took 1.2x
(TensorFlow), 1.3x (PyTorch) and 4.3x (JAX) the linear one's time, with no
better accuracy (both within 1.4e-6 of float64); Heinsen's form, with the
running max that `keras.ops` lacks for a logcumsumexp, was off by 5 there.
In linear space the state h<0> may have any sign, and a masked step
(which carries the state) is exactly a<t> = 1, b<t> = 0.
"""

import keras
from keras import ops

from seqzoo.fused import sequence


def _compose(earlier, later):
    """Two spans of the recurrence as one: (a1 a2, a2 b1 + b2)."""
    a1, b1 = earlier
    a2, b2 = later
    return a1 * a2, a2 * b1 + b2


def linear_recurrence(a, b, initial_state, keep=None):
    """h<t> = a<t> h<t-1> + b<t> for every t, time major.

    On a CPU the backend's own loop runs (`sequential_recurrence`: the
    `linear_recurrence` of `tensorflow_loops`, `jax_loops` or
    `torch_kernels`): one elementwise step per t, with a backward pass that
    is the same loop run backwards.
    Where it raises `NotImplementedError` (a GPU or TPU), the associative
    scan runs, with h<0> folded into the first step, b<1> + a<1> h<0>, so
    that the product of the a<t> is never needed.

    Args:
        a: a<t>, `(time, batch, units)`.
        b: b<t>, `(time, batch, units)`.
        initial_state: h<0>, `(batch, units)`.
        keep: optional `(time, batch, 1)` booleans; where False, the step
            carries h<t-1> unchanged.

    Returns:
        h<t> of every step, `(time, batch, units)`.
    """
    if keep is not None:
        a = ops.where(keep, a, ops.ones_like(a))
        b = ops.where(keep, b, ops.zeros_like(b))
    try:
        return sequential_recurrence(a, b, initial_state)
    except NotImplementedError:  # an accelerator: the associative scan
        pass
    b = ops.concatenate([b[:1] + a[:1] * initial_state[None], b[1:]], axis=0)
    if a.shape[0] is None:  # a TensorFlow graph traced without the length
        h = _doubling_scan(a, b)
    else:
        _, h = ops.associative_scan(_compose, (a, b), axis=0)
    # Traced in a graph, TensorFlow's scan loses even the rank in its `tf.cond`s: give the shape back.
    return ops.reshape(h, ops.shape(a))


def sequential_recurrence(a, b, initial_state):
    """h<t> = a<t> h<t-1> + b<t>, one step after another, by the backend's own loop (time major).

    Raises:
        NotImplementedError: where the loop does not pay (a GPU or TPU) or
            the backend has none, so the associative scan runs.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from seqzoo.fused import tensorflow_loops as loops
    elif backend == "jax":
        from seqzoo.fused import jax_loops as loops
    elif backend == "torch":
        from seqzoo.fused import torch_kernels as loops
    else:
        raise NotImplementedError(f"no sequential loop on the {backend} backend")
    return loops.linear_recurrence(a, b, initial_state)


def _doubling_scan(a, b):
    """h<t> of the inclusive scan of `(a, b)` along axis 0 by doubling (Hillis-Steele), the length known at run time.

    Keras 3's TensorFlow `associative_scan` needs the length where the graph
    is traced. Here round d = 1, 2, 4, ... composes every step t with the
    span that ends at step t - d, which the step before the first is for
    t < d (a = 1, b = 0): ceil(log2 T) rounds of a `while_loop`, O(T log T)
    work, the shift a `roll` by a tensor (a slice-and-concatenate shift
    took 2.2-2.6x its time). In a 2-core CPU's `fit` of `mingru_bi` it took
    1.4-1.8x the step loop's time, and about 0.4x Keras's scan's at one length.
    """
    length = ops.shape(a)[0]
    steps = ops.reshape(ops.arange(length), (-1, 1, 1))

    def shifted(x, distance, before_first):
        return ops.where(steps < distance, before_first, ops.roll(x, distance, axis=0))

    def round_(distance, a, b):
        a, b = _compose((shifted(a, distance, 1.0), shifted(b, distance, 0.0)), (a, b))
        return distance * 2, a, b

    _, _, b = ops.while_loop(lambda distance, a, b: distance < length, round_, (ops.ones((), "int32"), a, b))
    return b


def _unsupported(inputs):
    """Why Keras's scan cannot run on these inputs, or `None`.

    Keras 3's PyTorch `associative_scan` builds its interleaving buffers with
    `torch.zeros(shape)`: float32, on the CPU, whatever its inputs are.
    (Its TensorFlow one compares its inputs' lengths with a Python `==`,
    which fails where a graph does not know the length, and its fallback
    for such lengths, 48 nested levels of `tf.cond`, takes minutes to trace:
    `linear_recurrence` runs `_doubling_scan` there.)
    """
    if keras.backend.backend() != "torch" or inputs.device.type == "cpu":
        return None  # on PyTorch's CPU, the sequential loop runs in any dtype
    return f"Keras's associative_scan on PyTorch runs on the CPU only, not on {inputs.device}"


def run(cell, inputs, initial_state, mask=None, go_backwards=False, zero_output_for_mask=False, training=False):
    """Runs a minimal cell over `inputs` at once, as `keras.layers.RNN(cell)` would step by step.

    Args:
        cell: a built `seqzoo.cells.MinimalCell`.
        inputs: x, `(batch, time, features)`.
        initial_state: `[h<0>]`, `(batch, units)`.
        mask: optional boolean `(batch, time)`; a masked step keeps the state
            of the step before.
        go_backwards: whether to read the sequence from its end.
        zero_output_for_mask: whether masked steps output zeros rather than
            the output of the step before.
        training: whether the cell's input dropout is active (one mask per
            sequence, as in the step loop).

    Returns:
        `(outputs, states)`: every step's output `(batch, time, units)` in
        the order read, and `[h<T>]`.

    Raises:
        NotImplementedError: where neither form runs (PyTorch on a GPU), so
            the step loop runs.
    """
    reason = _unsupported(inputs)
    if reason:
        raise NotImplementedError(reason)
    if training and cell.dropout > 0:
        inputs = inputs * ops.expand_dims(cell.get_dropout_mask(inputs[:, 0]), 1)
    # Time major, as the loops scan: the inputs are narrower than (a, b) and the states.
    x = ops.transpose(inputs, (1, 0, 2))
    keep = None if mask is None else ops.expand_dims(ops.transpose(ops.cast(mask, "bool")), -1)
    if go_backwards:
        x = ops.flip(x, axis=0)
        keep = None if keep is None else ops.flip(keep, axis=0)
    a, b = cell.scan_coefficients(cell.project_inputs(x))
    states = linear_recurrence(a, b, initial_state[0], keep)
    step_mask = None if keep is None else ops.cast(keep, states.dtype)
    outputs = sequence.read_outputs(states, step_mask, zero_output_for_mask)
    return ops.transpose(outputs, (1, 0, 2)), [states[-1]]
