"""Backend-agnostic helpers for tests: gradients and float64 on the active backend.

The suite runs once per backend, chosen by `KERAS_BACKEND` in the environment;
nothing here sets it. Supported: TensorFlow and JAX. On any other backend the
helpers call `pytest.skip`, so a test that needs them is skipped, not failed.
"""

import contextlib

import keras
import numpy as np
import pytest

SUPPORTED_BACKENDS = ("tensorflow", "jax")


def backend():
    """The name of the active Keras backend."""
    return keras.backend.backend()


def skip_unless_supported():
    if backend() not in SUPPORTED_BACKENDS:
        pytest.skip(f"gradient helpers support {SUPPORTED_BACKENDS}, not {backend()!r}")


def to_numpy(x):
    """Any backend tensor (or nested list of them) as NumPy."""
    if isinstance(x, (list, tuple)):
        return [to_numpy(e) for e in x]
    return keras.ops.convert_to_numpy(x)


def value_and_gradients(fn, variables, inputs):
    """Value and gradients of a scalar function on the active backend.

    Args:
        fn: a function of one tensor `inputs` that returns a scalar tensor;
            it may read `variables` (e.g. by calling a built layer).
        variables: the `keras.Variable`s to differentiate with respect to.
        inputs: a NumPy array, also differentiated with respect to.

    Returns:
        `(value, variable_gradients, input_gradient)`, all NumPy: the scalar,
        a list with one array per variable, and an array shaped like `inputs`.
    """
    (value,), pullback = outputs_and_pullback(lambda x: [fn(x)], variables, inputs)
    variable_gradients, input_gradient = pullback([np.ones_like(value)])
    return float(value), variable_gradients, input_gradient


def outputs_and_pullback(fn, variables, inputs):
    """Outputs of `fn(inputs)` and their pullback, from one forward pass.

    One pass serves both the outputs and the gradients: a `keras.layers.RNN`
    called eagerly on JAX compiles its `lax.scan` on every call.

    Args:
        fn: a function of one tensor `inputs` that returns a list of
            tensors; it may read `variables` (e.g. by calling a built layer).
        variables: the `keras.Variable`s to differentiate with respect to.
        inputs: a NumPy array, also differentiated with respect to.

    Returns:
        `(outputs, pullback)`: the outputs as a list of NumPy arrays, and
        `pullback(cotangents) -> (variable_gradients, input_gradient)`, the
        gradients of the sum of each output times its cotangent, in NumPy.
        Call `pullback` once.
    """
    skip_unless_supported()
    variables = list(variables)
    if backend() == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = list(fn(x))

        def gradients(cotangents):
            sources = [v.value for v in variables] + [x]
            return tape.gradient(outputs, sources, output_gradients=[tf.constant(c) for c in cotangents])

    else:
        import jax
        import jax.numpy as jnp

        def pure(values, x):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return list(fn(x))

        outputs, vjp = jax.vjp(pure, [v.value for v in variables], jnp.asarray(inputs))

        def gradients(cotangents):
            d_values, d_x = vjp([jnp.asarray(c) for c in cotangents])
            return list(d_values) + [d_x]

    def pullback(cotangents):
        grads = [
            np.zeros(v.shape, dtype=v.dtype) if g is None else to_numpy(g)
            for v, g in zip(variables + [inputs], gradients(cotangents))
        ]
        return grads[:-1], grads[-1]

    return to_numpy(outputs), pullback


def scalar_function(fn, variables):
    """`fn` as a pure function of the variables' values, for repeated calls.

    Args:
        fn: a function of one tensor `inputs` that returns a scalar tensor and
            reads `variables`.
        variables: the `keras.Variable`s whose values become arguments.

    Returns:
        `f(values, inputs) -> float`, computing `fn(inputs)` as if each
        variable held the matching NumPy array in `values`; the variables
        themselves are left unchanged. On JAX the function is compiled once
        (a `keras.layers.RNN` called eagerly on JAX compiles its `lax.scan` on
        every call, which makes finite differences slow).
    """
    skip_unless_supported()
    variables = list(variables)
    if backend() == "jax":
        import jax

        def pure(values, x):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(x)

        compiled = jax.jit(pure)
        return lambda values, x: float(to_numpy(compiled(list(values), x)))

    def evaluate(values, x):
        saved = [to_numpy(v.value) for v in variables]
        try:
            for variable, value in zip(variables, values):
                variable.assign(value)
            return float(to_numpy(fn(keras.ops.convert_to_tensor(x))))
        finally:
            for variable, value in zip(variables, saved):
                variable.assign(value)

    return evaluate


@contextlib.contextmanager
def float64_enabled():
    """Lets layers built inside compute in float64 on the active backend.

    TensorFlow computes in float64 whenever a layer has `dtype="float64"`.
    JAX needs two things, both for the block only (not process-wide, so other
    tests keep JAX's defaults): 64-bit types enabled (else JAX downcasts to
    float32), and Keras's type promotion told to keep float64. On the JAX
    backend Keras maps every promoted float64 to float32
    (`keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE`, "aligned with
    JAX's default"), so `keras.ops.tanh` of a float64 tensor is float32 and a
    float64 `keras.layers.RNN` fails in `lax.scan` with mismatched carry
    dtypes, Keras's own cells included. Where that internal table is not
    there to patch, the test is skipped on JAX.
    """
    skip_unless_supported()
    if backend() != "jax":
        yield
        return
    import jax

    try:
        from keras.src.backend.common import dtypes
    except ImportError:
        dtypes = None
    table = getattr(dtypes, "BIT64_TO_BIT32_DTYPE", None)
    if not isinstance(table, dict) or "float64" not in table:
        pytest.skip("cannot make Keras keep float64 on JAX in this Keras version")
    saved = table["float64"]
    table["float64"] = "float64"
    try:
        with jax.enable_x64(True):
            yield
    finally:
        table["float64"] = saved
