"""Truncated backpropagation through time: long sequences trained in chunks.

Backpropagation through a whole sequence of T steps keeps every step's
activations until the backward pass, so memory grows with T. Truncated BPTT
cuts the sequence into chunks of k steps and takes one training step per
chunk, in order: stateful recurrent layers carry their final states into the
next chunk (the forward pass is that of the whole sequence), but gradients
stop at chunk boundaries, so memory stays that of k steps however long the
sequence is.

In Keras terms: a model whose recurrent layers have `stateful=True` (and so a
fixed batch size), fitted on the chunks in order (`shuffle=False`), with the
states reset when the sequences start again (every epoch).

Example:

>>> model = keras.Sequential([
...     keras.Input(batch_shape=(8, None, 3)),
...     seqzoo.layers.Recurrent(seqzoo.cells.LSTMCell(16), stateful=True,
...                             return_sequences=True),
...     keras.layers.Dense(1),
... ])
>>> model.compile(optimizer="adam", loss="mse")
>>> x, y = np.zeros((8, 10_000, 3)), np.zeros((8, 10_000, 1))
>>> from seqzoo.tbptt import fit_truncated
>>> history = fit_truncated(model, x, y, chunk_length=100, verbose=0)
>>> len(history.history["loss"])  # one epoch of 100 training steps
1
"""

import keras


class TimeChunks(keras.utils.PyDataset):
    """Consecutive chunks of `chunk_length` time steps of a batch of sequences.

    Item `i` is `(x[:, i*k:(i+1)*k], y[:, i*k:(i+1)*k])`, with k the chunk
    length. Only the chunk asked for is read, so `x` and `y` may be any
    arrays that slice along their time axis without loading the rest (NumPy
    arrays, `np.memmap`, HDF5 datasets, ...).

    Args:
        x: inputs, shape `(batch, time, ...)`.
        y: targets, shape `(batch, time, ...)`, or `None`.
        chunk_length: k, the steps per chunk; it must divide the time length
            (every chunk then has one shape, as a stateful model needs).
        **kwargs: the arguments of `keras.utils.PyDataset`.
    """

    def __init__(self, x, y, chunk_length, **kwargs):
        super().__init__(**kwargs)
        time_steps = x.shape[1]
        if y is not None and y.shape[:2] != x.shape[:2]:
            raise ValueError(
                f"Received x of shape {tuple(x.shape)} and y of shape "
                f"{tuple(y.shape)}; they must agree on (batch, time)."
            )
        if (
            isinstance(chunk_length, bool)
            or not isinstance(chunk_length, int)
            or chunk_length <= 0
            or time_steps % chunk_length
        ):
            raise ValueError(
                f"Received chunk_length={chunk_length!r} for {time_steps} time "
                f"steps; it must be a positive integer that divides them "
                f"(trim or pad the sequences to a multiple of it)."
            )
        self.x = x
        self.y = y
        self.chunk_length = chunk_length

    def __len__(self):
        return self.x.shape[1] // self.chunk_length

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Chunk {index} of {len(self)}.")
        steps = slice(index * self.chunk_length, (index + 1) * self.chunk_length)
        if self.y is None:
            return (self.x[:, steps],)
        return self.x[:, steps], self.y[:, steps]


def stateful_layers(model):
    """The layers of `model` (at any depth) that carry states across calls."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state")
    ]


class ResetStates(keras.callbacks.Callback):
    """Resets the model's stateful layers when each epoch starts."""

    def on_epoch_begin(self, epoch, logs=None):
        for layer in stateful_layers(self.model):
            layer.reset_state()


def fit_truncated(model, x, y, chunk_length, epochs=1, callbacks=None, **kwargs):
    """Trains `model` on long sequences by truncated BPTT.

    Each epoch resets the states, then takes one training step per chunk of
    `chunk_length` steps, in order; the stateful layers carry their states
    from chunk to chunk, the gradients do not cross chunk boundaries. With
    `chunk_length` equal to the sequence length this is ordinary BPTT.

    Args:
        model: a compiled model with at least one stateful recurrent layer
            (e.g. `seqzoo.layers.Recurrent(cell, stateful=True)`, or any
            `keras.layers.RNN` with `stateful=True`).
        x: inputs, shape `(batch, time, ...)`: `batch` sequences read side
            by side (the model's fixed batch size).
        y: targets, shape `(batch, time, ...)`.
        chunk_length: steps per training step (k); it must divide `time`.
        epochs: passes over the sequences.
        callbacks: more `keras.callbacks.Callback`s.
        **kwargs: other arguments of `model.fit` (not `shuffle`, which must
            stay off, nor `batch_size`, which is the model's).

    Returns:
        The `History` of `model.fit`, one step per chunk.
    """
    if not stateful_layers(model):
        raise ValueError(
            "Truncated BPTT carries states from chunk to chunk, so the model "
            "needs stateful recurrent layers; received a model with none. "
            "Pass stateful=True to its recurrent layers (e.g. "
            "seqzoo.layers.Recurrent(cell, stateful=True)) and give its Input "
            "a fixed batch size (keras.Input(batch_shape=(batch, None, features)))."
        )
    if keras.backend.backend() == "jax":
        tracked = {id(variable) for variable in model.non_trainable_variables}
        untracked = [
            layer.name
            for layer in stateful_layers(model)
            if any(id(state) not in tracked for state in layer.states or [])
        ]
        if untracked:
            raise ValueError(
                f"On the JAX backend, the compiled training step carries only "
                f"the variables a model tracks, and Keras's own stateful RNN "
                f"layers keep their states outside them, so the states of "
                f"{untracked} would not carry from chunk to chunk. Use "
                f"seqzoo.layers.Recurrent(cell, stateful=True), which tracks them."
            )
    for argument in ("shuffle", "batch_size"):
        if argument in kwargs:
            raise ValueError(
                f"Received {argument}={kwargs[argument]!r}; fit_truncated sets "
                f"it itself (chunks in order, the model's own batch size)."
            )
    return model.fit(
        TimeChunks(x, y, chunk_length),
        epochs=epochs,
        shuffle=False,
        callbacks=[ResetStates(), *(callbacks or [])],
        **kwargs,
    )
