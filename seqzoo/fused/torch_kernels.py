"""PyTorch's own RNN kernels for the standard cells, on the PyTorch backend.

`torch.lstm`, `torch.gru` and `torch.rnn_tanh` (the ATen ops behind
`torch.nn.LSTM`, `GRU` and `RNN`: oneDNN's LSTM on a CPU, cuDNN on a GPU,
PyTorch's C++ loop otherwise) run a whole sequence and its backward pass. A
cell's Keras weights map onto theirs as views that autograd follows back to
the Keras variables: the kernels transposed, the LSTM's gates in the same
order (i, f, c, o is PyTorch's i, f, g, o), the GRU's reordered from Keras's
z, r, h to PyTorch's r, z, n, whose `reset_after` form is PyTorch's own.

A mask that keeps one contiguous run of steps per sequence (right padding,
or left padding, which is what right padding becomes read backwards) runs as
a packed sequence, with Keras's numbers: masked steps keep the states and
output zeros before the run and, after it, the run's last output (zeros with
`zero_output_for_mask`). Any other mask, recurrent dropout, or a cell these
ops do not compute raises `NotImplementedError` saying why, so the caller can
run the step loop, as Keras's backends do for cuDNN.

`linear_recurrence` is the minimal cells' loop on a CPU (`seqzoo.fused.scan`):
h<t> = a<t> h<t-1> + b<t> one step after another, in place, and the same
back, as a `torch.autograd.Function`.
"""

import torch
from keras import ops
from torch.nn.utils import rnn as packing

from seqzoo.fused import gru_steps
from seqzoo.fused import linear_steps
from seqzoo.fused import lstm_steps
from seqzoo.fused import simple_rnn_steps

OPS = {lstm_steps: torch.lstm, gru_steps: torch.gru, simple_rnn_steps: torch.rnn_tanh}


def _parameters(steps, weights):
    """PyTorch's `(weight_ih, weight_hh, bias_ih, bias_hh)` from a cell's weights, in its step module's order."""
    tensors = [ops.convert_to_tensor(w) for w in weights]
    if steps is gru_steps:
        kernel, recurrent_kernel, input_bias, recurrent_bias = tensors

        def reorder(weight):  # Keras's z, r, h -> PyTorch's r, z, n
            z, r, h = torch.chunk(weight, 3, dim=-1)
            return torch.cat([r, z, h], dim=-1)

        return [reorder(kernel).T, reorder(recurrent_kernel).T, reorder(input_bias), reorder(recurrent_bias)]
    kernel, recurrent_kernel, bias = tensors
    return [kernel.T, recurrent_kernel.T, bias, torch.zeros_like(bias)]


def _contiguous_runs(mask):
    """Each row's first kept step and number of kept steps, or `NotImplementedError`."""
    time_steps = mask.shape[1]
    lengths = mask.sum(dim=1)
    starts = torch.argmax(mask.to(torch.int8), dim=1)
    positions = torch.arange(time_steps, device=mask.device)
    runs = (positions >= starts[:, None]) & (positions < (starts + lengths)[:, None])
    contiguous, empty = bool(torch.equal(mask, runs)), bool((lengths == 0).any())
    if not contiguous or empty:
        raise NotImplementedError(
            "PyTorch's kernels take a mask that keeps one run of steps per sequence (right or left "
            "padding), with at least one step, and this mask "
            + ("masks a whole sequence" if contiguous else "has masked steps inside a sequence")
        )
    return starts, lengths


def _run_packed(op, x, hx, parameters, mask, zero_output_for_mask):
    """`op` over each row's run of kept steps, then Keras's outputs for the masked steps."""
    starts, lengths = _contiguous_runs(mask)
    batch, time_steps = mask.shape
    positions = torch.arange(time_steps, device=x.device)[None, :]
    if bool(starts.any()):  # left padding: move every run to the front
        index = torch.clamp(positions + starts[:, None], max=time_steps - 1)
        x = torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[-1]))
    packed = packing.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    hx = [h.index_select(1, packed.sorted_indices) for h in hx]
    hx = hx if op is torch.lstm else hx[0]
    data, *states = op(packed.data, packed.batch_sizes, hx, parameters, True, 1, 0.0, torch.is_grad_enabled(), False)
    packed = packing.PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
    padded, _ = packing.pad_packed_sequence(packed, batch_first=True, total_length=time_steps)
    states = [s.index_select(1, packed.unsorted_indices) for s in states]
    run_step = torch.minimum(torch.clamp(positions - starts[:, None], min=0), lengths[:, None] - 1)
    outputs = torch.gather(padded, 1, run_step[:, :, None].expand(-1, -1, padded.shape[-1]))
    shown = mask if zero_output_for_mask else positions >= starts[:, None]
    return torch.where(shown[:, :, None], outputs, torch.zeros_like(outputs)), states


def run(steps, inputs, initial_states, weights, mask, go_backwards, zero_output_for_mask, recurrent_dropout_mask):
    """Runs PyTorch's kernel for a cell, with the arguments and results of `seqzoo.fused.run`.

    Raises:
        NotImplementedError: where PyTorch's kernels do not compute what the
            step loop would (the message says why).
    """
    if steps not in OPS:
        raise NotImplementedError(
            "PyTorch's kernels run a SimpleRNNCell, a GRUCell with reset_after=True (not minimal) "
            "and an LSTMCell without cell_clip"
        )
    if recurrent_dropout_mask is not None:
        raise NotImplementedError("PyTorch's kernels have no recurrent dropout (it applies in training)")
    op = OPS[steps]
    x = ops.convert_to_tensor(inputs)
    # Copies, not views: a stateful layer assigns its states in place after the call.
    hx = [ops.convert_to_tensor(s).unsqueeze(0).clone() for s in initial_states]
    if mask is not None:
        mask = ops.convert_to_tensor(mask).to(torch.bool)
    if go_backwards:
        x = torch.flip(x, dims=(1,))
        mask = None if mask is None else torch.flip(mask, dims=(1,))
    parameters = _parameters(steps, weights)
    if len({t.dtype for t in (x, *hx, *parameters)}) > 1:
        raise NotImplementedError("PyTorch's kernels need the inputs, states and weights in one dtype")
    if mask is not None and not bool(mask.all()):
        outputs, states = _run_packed(op, x, hx, parameters, mask, zero_output_for_mask)
    else:
        hx = hx if op is torch.lstm else hx[0]
        outputs, *states = op(x, hx, parameters, True, 1, 0.0, torch.is_grad_enabled(), False, True)
    return outputs, [s.squeeze(0) for s in states]


def linear_recurrence(a, b, h0):
    """h<t> = a<t> h<t-1> + b<t> of every step by a loop, and its gradient by one back (time major).

    Raises:
        NotImplementedError: off a CPU, where the associative scan pays.
    """
    if a.device.type != "cpu":
        raise NotImplementedError(f"the sequential loop is for a CPU, not {a.device}")
    return _LinearRecurrence.apply(a, b, h0)


def _recurrence(a, b, h0, reverse=False):
    h = torch.empty_like(b)
    state = h0
    for t in reversed(range(len(a))) if reverse else range(len(a)):
        state = torch.addcmul(b[t], a[t], state, out=h[t])
    return h


class _LinearRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0):
        h = _recurrence(a, b, h0)
        ctx.save_for_backward(a, h, h0)
        return h

    @staticmethod
    def backward(ctx, d_h):
        a, h, h0 = ctx.saved_tensors
        return linear_steps.gradients(_recurrence, a, h, h0, d_h)
