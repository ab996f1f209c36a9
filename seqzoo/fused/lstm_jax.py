"""The fused LSTM kernel on JAX: one `lax.scan` forward, one back, with its own VJP.

JAX differentiates the step loop of `keras.layers.RNN` by carrying the
kernels' gradients through the reverse scan, a kernel-sized sum per step.
This kernel keeps ∂(a<t>, c<t>)/∂z<t> from the forward scan, carries only
dL/da<t> and dL/dc<t> back, and gets the weights' and the inputs' gradients
in a few large products over every step at once (`seqzoo.fused.lstm_math`).
"""

import jax
import jax.numpy as jnp

from seqzoo.fused import lstm_math


def lstm(x, step_mask, h0, c0, kernel, recurrent_kernel, bias):
    """Every step's a<t> `(time, batch, units)` and the final a, c (time major).

    `step_mask` is `None` or `(time, batch, 1)` of 0/1.
    """
    kernel, recurrent_kernel, bias = (
        jnp.asarray(w) for w in (kernel, recurrent_kernel, bias)
    )
    return _lstm(x, h0, c0, kernel, recurrent_kernel, bias, step_mask)


def _forward(x, h0, c0, kernel, recurrent_kernel, bias, step_mask):
    def step(carry, inputs):
        x_t, keep = inputs
        h, c, *kept = lstm_math.forward_step(x_t, *carry, kernel, recurrent_kernel, bias, keep)
        return (h, c), (h, *kept)

    (h, c), (hs, forget, output_slope, slope) = jax.lax.scan(
        step, (h0, c0), (x, step_mask)
    )
    saved = (x, h0, hs, forget, output_slope, slope, kernel, recurrent_kernel, step_mask)
    return (hs, h, c), saved


def _backward(saved, cotangents):
    x, h0, hs, forget, output_slope, slope, kernel, recurrent_kernel, step_mask = saved
    d_outputs, d_h, d_c = cotangents
    recurrent_kernel_t = recurrent_kernel.T

    def back_step(carry, inputs):
        d_output, forget_t, output_slope_t, slope_t, keep = inputs
        d_h, d_c, d_z = lstm_math.backward_step(
            carry[0] + d_output, carry[1], forget_t, output_slope_t, slope_t,
            recurrent_kernel_t, keep,
        )
        return (d_h, d_c), d_z

    (d_h0, d_c0), d_z = jax.lax.scan(
        back_step,
        (d_h, d_c),
        (d_outputs, forget, output_slope, slope, step_mask),
        reverse=True,
    )
    h_before = jnp.concatenate([h0[None], hs[:-1]], axis=0)
    d_x, d_kernel, d_recurrent_kernel, d_bias = lstm_math.weight_gradients(
        x, h_before, d_z, kernel
    )
    d_mask = None if step_mask is None else jnp.zeros_like(step_mask)
    return d_x, d_h0, d_c0, d_kernel, d_recurrent_kernel, d_bias, d_mask


@jax.custom_vjp
def _lstm(x, h0, c0, kernel, recurrent_kernel, bias, step_mask):
    return _forward(x, h0, c0, kernel, recurrent_kernel, bias, step_mask)[0]


_lstm.defvjp(_forward, _backward)
