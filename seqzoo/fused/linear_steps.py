"""The backward pass of the minimal cells' recurrence h<t> = a<t> h<t-1> + b<t>, in `keras.ops`.

Each backend's loop (`linear_recurrence` of `tensorflow_loops`, `jax_loops`,
`torch_kernels`) runs the recurrence forwards, and for its gradient the same
recurrence backwards over the incoming dL/dh<t>:

    g<t> = dL/dh<t> + a<t+1> g<t+1>
    dL/da<t> = g<t> h<t-1>,   dL/db<t> = g<t>,   dL/dh<0> = a<1> g<1>
"""

from keras import ops


def gradients(recurrence, a, h, h0, d_h):
    """`(dL/da, dL/db, dL/dh<0>)` of `h = recurrence(a, b, h0)` (time major).

    Args:
        recurrence: the backend's loop, `recurrence(a, b, h0, reverse=False)`.
        a: a<t> of every step.
        h: h<t> of every step, as the forward pass computed them.
        h0: h<0>.
        d_h: dL/dh<t> of every step.
    """
    a_next = ops.concatenate([a[1:], ops.zeros_like(a[:1])], axis=0)
    g = recurrence(a_next, d_h, ops.zeros_like(h0), reverse=True)
    h_before = ops.concatenate([h0[None], h[:-1]], axis=0)
    return g * h_before, g, a[0] * g[0]
