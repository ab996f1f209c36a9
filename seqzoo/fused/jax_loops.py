"""The fused kernels' loops on JAX: one `lax.scan` forward, one back, with their own VJP.

JAX differentiates the step loop of `keras.layers.RNN` by carrying the
kernels' gradients through the reverse scan, a kernel-sized sum per step.
Here the forward scan keeps what the cell's backward step needs, the reverse
scan carries only dL/d(states) and writes every step's dL/dz<t> over the
slope it has read (`SLOPE` of the step module), and the weights' and the
inputs' gradients come from a few large products over every step at once.

`linear_recurrence` is the minimal cells' loop on a CPU (`seqzoo.fused.scan`):
one `lax.scan` of h<t> = a<t> h<t-1> + b<t>, and one back.
"""

import functools

import jax
import jax.numpy as jnp

from seqzoo.fused import linear_steps


def run(steps, x, step_mask, states, weights, drop=None):
    """Every step's a<t> `(time, batch, units)` and the final states (time major).

    Args:
        steps: the cell's step module (`seqzoo.fused.lstm_steps`, ...).
        x: `(time, batch, features)`.
        step_mask: `None` or `(time, batch, 1)` of 0/1.
        states: the initial states, a sequence (a<0> first).
        weights: the cell's weights, as its step module takes them.
        drop: `None` or the recurrent dropout mask, `(batch, units)`.
    """
    weights = tuple(jnp.asarray(w) for w in weights)
    return _run(steps, x, weights, tuple(states), step_mask, drop)


def _forward(steps, x, weights, states, step_mask, drop):
    def step(states, inputs):
        x_t, keep = inputs
        states, kept = steps.forward_step(x_t, states, weights, keep, drop)
        return states, (states[0], kept)

    final_states, (outputs, kept) = jax.lax.scan(step, states, (x, step_mask))
    saved = (x, states[0], outputs, kept, weights, step_mask, drop)
    return (outputs, final_states), saved


def _backward(steps, saved, cotangents):
    x, h0, outputs, kept, weights, step_mask, drop = saved
    d_outputs, d_final_states = cotangents
    constants = steps.backward_weights(weights)
    # dL/dz<t> goes where the step's slope was: no new (time, batch, gates * units) buffer.
    slot = steps.SLOPE
    if slot is None:
        d_z = jnp.zeros(x.shape[:2] + weights[0].shape[-1:], x.dtype)
    else:
        d_z, kept = kept[slot], kept[:slot] + kept[slot + 1 :]

    def back_step(carry, inputs):
        d_states, d_z = carry
        t, d_output, kept_t, keep = inputs
        if slot is not None:
            kept_t = kept_t[:slot] + (d_z[t],) + kept_t[slot:]
        d_states = (d_states[0] + d_output,) + tuple(d_states[1:])
        d_states, d_z_t = steps.backward_step(d_states, kept_t, constants, keep, drop)
        return (d_states, d_z.at[t].set(d_z_t)), None

    times = jnp.arange(x.shape[0])
    carry = (tuple(d_final_states), d_z)
    (d_initial_states, d_z), _ = jax.lax.scan(back_step, carry, (times, d_outputs, kept, step_mask), reverse=True)
    if slot is not None:
        kept = kept[:slot] + (d_z,) + kept[slot:]  # `gradients` does not read the slope
    h_before = jnp.concatenate([h0[None], outputs[:-1]], axis=0)
    d_x, *d_weights = steps.gradients(x, h_before, kept, d_z, weights, drop)
    d_mask = None if step_mask is None else jnp.zeros_like(step_mask)
    d_drop = None if drop is None else jnp.zeros_like(drop)
    return d_x, tuple(d_weights), d_initial_states, d_mask, d_drop


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _run(steps, x, weights, states, step_mask, drop):
    return _forward(steps, x, weights, states, step_mask, drop)[0]


_run.defvjp(_forward, _backward)


def linear_recurrence(a, b, h0):
    """h<t> = a<t> h<t-1> + b<t> of every step by one `lax.scan`, and its gradient by one back (time major).

    Raises:
        NotImplementedError: off a CPU, where the associative scan pays.
    """
    if jax.default_backend() != "cpu":
        raise NotImplementedError(f"the sequential loop is for a CPU, not {jax.default_backend()}")
    return _linear_recurrence(a, b, h0)


def _step(h, coefficients):
    a_t, b_t = coefficients
    h = a_t * h + b_t
    return h, h


def _recurrence(a, b, h0, reverse=False):
    # One step function for every call, so that an eager call reuses the scan compiled before. Unrolling 4 or 8
    # steps per iteration measured no faster on a 2-core CPU (T=1024: 258-273 ms a training step).
    return jax.lax.scan(_step, h0, (a, b), reverse=reverse)[1]


def _linear_recurrence_forward(a, b, h0):
    h = _recurrence(a, b, h0)
    return h, (a, h, h0)


def _linear_recurrence_backward(saved, d_h):
    a, h, h0 = saved
    return linear_steps.gradients(_recurrence, a, h, h0, d_h)


_linear_recurrence = jax.custom_vjp(lambda a, b, h0: _recurrence(a, b, h0))
_linear_recurrence.defvjp(_linear_recurrence_forward, _linear_recurrence_backward)
