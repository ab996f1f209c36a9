"""What the course shows on the blackboard, measured: gradients through time, gates and attention.

- `input_gradient_norms`, `plot_gradient_norms`: how far back a<T> depends on
  x<t> (vanishing and exploding gradients);
- `loss_gradient_norm`: the global gradient norm that `clipnorm` caps;
- `record_gates`, `plot_gates`: every gate of a cell at every step of a sequence;
- `attention_scores`, `plot_attention`: an encoder-decoder's attention weights.
"""

import weakref

import keras
import numpy as np
from keras import ops

_TF_GRADIENT_FUNCTIONS = weakref.WeakKeyDictionary()

# How `plot_gates` names each record, in the course's notation (and Keras's).
GATE_LABELS = {
    "update": "z = 1 - Γu\n(GRU update)",
    "reset": "Γr (reset)",
    "input": "Γu (input i)",
    "forget": "Γf (forget)",
    "output": "Γo (output)",
    "candidate": "candidate\nc̃<t>",
    "cell": "memory c<t>",
    "state": "a<t>",
}


def input_gradient_norms(layer, inputs):
    """How much the last output a<T> depends on each input x<t>: ||∂ sum(a<T>) / ∂x<t>||.

    This is the course's vanishing-gradient picture. For a SimpleRNN each step
    back multiplies the gradient by diag(1 - a<t>²) Waa, so the norm shrinks
    geometrically with the distance T - t when the units saturate or Waa
    shrinks vectors (and grows when Waa stretches them: exploding). A gated
    cell also passes it along its carried state, multiplied by Γf (LSTM) or
    Keras's z = 1 - Γu (GRU) per step: gates near 1 keep it alive, while at
    Keras's initialization (Γf ≈ 0.73, z ≈ 0.5) it still decays
    (`tutorials/05_vanishing_and_exploding_gradients.py` measures all three).

    Args:
        layer: a sequence layer returning `(batch, units)` or
            `(batch, time, units)`, e.g. `keras.layers.RNN(cell)`.
        inputs: `(batch, time, features)`.

    Returns:
        A NumPy array of shape `(time,)`, entry t being the gradient norm for
        x<t> (summed over the batch).
    """
    inputs = np.asarray(inputs, "float32")

    def last_output_sum(x):
        outputs = layer(x)
        last = outputs[:, -1] if len(outputs.shape) == 3 else outputs
        return ops.sum(last)

    gradient = _input_gradient(last_output_sum, inputs)
    return np.sqrt((np.asarray(gradient, "float64") ** 2).sum(axis=(0, 2)))


def _input_gradient(function, inputs):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = function(x)
        return tape.gradient(value, x).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(function)(inputs))
    if backend == "torch":
        import torch

        x = torch.tensor(inputs, requires_grad=True)
        function(x).backward()
        return x.grad.numpy()
    raise ValueError(f"Received backend {backend!r}; gradients need tensorflow, jax or torch.")


def loss_gradient_norm(model, x, y, training=False):
    """The global norm of the loss gradient, ||∂L/∂θ||, over a model's trainable weights.

    This is the number that gradient clipping by norm (`clipnorm`) caps: an
    optimizer with `clipnorm=c` rescales a gradient whose global norm exceeds c
    down to norm c. Watching it during training shows exploding gradients as
    spikes that grow by orders of magnitude.

    Args:
        model: a compiled `keras.Model` (its compiled loss is used).
        x, y: one batch of inputs and targets.
        training: whether to run the model in training mode (dropout on).

    Returns:
        A Python float (`inf` or `nan` when the gradient has overflowed).
    """
    gradients = _loss_gradients(model, x, y, bool(training))
    total = 0.0
    for gradient in gradients:
        if gradient is not None:
            total += float(np.sum(np.asarray(gradient, "float64") ** 2))
    return float(np.sqrt(total))


def _loss_gradients(model, x, y, training):
    backend = keras.backend.backend()
    variables = model.trainable_variables
    if backend == "tensorflow":
        import tensorflow as tf

        # One compiled function per model and mode: called after every
        # training step, an eager tape would cost more than the step itself.
        functions = _TF_GRADIENT_FUNCTIONS.setdefault(model, {})
        if training not in functions:
            reference = weakref.ref(model)  # The function must not keep the model alive.

            def gradients(x, y):
                model = reference()
                with tf.GradientTape() as tape:
                    y_pred = model(x, training=training)
                    loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=training)
                return tape.gradient(loss, model.trainable_variables)

            functions[training] = tf.function(gradients, reduce_retracing=True, autograph=False)
        return [None if g is None else g.numpy() for g in functions[training](x, y)]
    if backend == "jax":
        import jax

        non_trainable = [v.value for v in model.non_trainable_variables]
        metrics = [v.value for v in model.metrics_variables]

        def loss(trainable):
            return model.compute_loss_and_updates(trainable, non_trainable, metrics, x, y, None, training=training)[0]

        return [np.asarray(g) for g in jax.grad(loss)([v.value for v in variables])]
    if backend == "torch":
        import torch

        y_pred = model(x, training=training)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=training)
        gradients = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
        return [None if g is None else g.detach().cpu().numpy() for g in gradients]
    raise ValueError(f"Received backend {backend!r}; gradients need tensorflow, jax or torch.")


def attention_scores(model, inputs, layer_name="attention"):
    """The attention weights α<t, t'> of an encoder-decoder, for teacher-forced inputs.

    For each decoder step t (a row) and each encoder step t' (a column),
    α<t, t'> is how much the context for y<t> draws on the encoder's a<t'>:
    each row is a softmax over the source, so it sums to 1 over the real
    (unpadded) source steps, and padded steps get 0.

    Args:
        model: an encoder-decoder built with attention (`"dot"` or
            `"additive"`), whose attention layer is named `layer_name`.
        inputs: `{"inputs": source ids (batch, Tx), "decoder_inputs": (batch, Ty)}`,
            the decoder inputs being [BOS] and the target so far (e.g. a
            greedy translation).
        layer_name: the name of the `keras.layers.Attention` or
            `AdditiveAttention` layer.

    Returns:
        A NumPy array `(batch, Ty, Tx)`.
    """
    layer = model.get_layer(layer_name)
    query, value = layer.input
    probe = keras.Model(model.input, [query, value])
    names = {layer.name for layer in model.layers}
    masker = next(
        (model.get_layer(name) for name in ("inputs_embedding", "inputs_one_hot", "inputs_masking") if name in names),
        None,
    )
    query_values, memory = probe(inputs)
    source = ops.convert_to_tensor(inputs["inputs"])
    memory_mask = None if masker is None else masker.compute_mask(source)
    _, scores = layer([query_values, memory], mask=[None, memory_mask], return_attention_scores=True)
    return ops.convert_to_numpy(scores)


def plot_attention(scores, path, source_labels=None, target_labels=None, title="Attention weights", titles=None):
    """Draws attention maps (output steps x source steps) as heat maps, one above the other.

    Args:
        scores: one `(Ty, Tx)` map, or a list of them (e.g. examples of
            `attention_scores`, each cut to its real lengths).
        path: the PNG to write.
        source_labels: tick labels for the columns (the source tokens); a
            list of lists with several maps.
        target_labels: tick labels for the rows (what each decoder step
            reads or writes); a list of lists with several maps.
        title: the figure's title.
        titles: optional titles of the maps.
    """
    from matplotlib.figure import Figure

    several = not (isinstance(scores, np.ndarray) and scores.ndim == 2) and np.ndim(scores[0]) == 2
    maps = [np.asarray(m) for m in scores] if several else [np.asarray(scores)]
    sources = source_labels if several else [source_labels]
    targets = target_labels if several else [target_labels]
    sources = sources if sources is not None else [None] * len(maps)
    targets = targets if targets is not None else [None] * len(maps)
    width = max(m.shape[1] for m in maps)
    heights = [m.shape[0] for m in maps]
    figure = Figure(figsize=(max(5.0, 0.3 * width + 2.5), sum(0.22 * h + 1.1 for h in heights) + 0.6))
    axes = figure.subplots(len(maps), 1, squeeze=False, gridspec_kw={"height_ratios": [h + 4 for h in heights]})
    for index, (axis, values) in enumerate(zip(axes[:, 0], maps)):
        image = axis.imshow(
            values,
            cmap="viridis",
            vmin=0.0,
            vmax=max(float(values.max()), 1e-9),
            aspect="auto",
            interpolation="nearest",
        )
        if sources[index] is not None:
            axis.set_xticks(range(len(sources[index])))
            axis.set_xticklabels(["␣" if label == " " else label for label in sources[index]], fontsize=8)
        if targets[index] is not None:
            axis.set_yticks(range(len(targets[index])))
            axis.set_yticklabels(targets[index], fontsize=7)
        if titles is not None:
            axis.set_title(titles[index], fontsize=9)
        figure.colorbar(image, ax=axis, pad=0.01)
    axes[-1, 0].set_xlabel("source step t' (attended to)")
    axes[len(maps) // 2, 0].set_ylabel("output step t")
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def record_gates(cell, inputs, initial_state=None):
    """Runs a seqzoo cell over a sequence and records its gates at every step.

    Args:
        cell: a built seqzoo cell (e.g. `model.get_layer("backbone").cells[0]`).
        inputs: `(batch, time, features)`, what the cell reads.
        initial_state: optional states; zeros by default.

    Returns:
        A dict from gate name (`"update"`, `"reset"`, `"input"`, `"forget"`,
        `"output"`, `"candidate"`) to an array `(batch, time, units)`, plus
        `"state"`: a<t>, and for LSTMs `"cell"`: c<t>.
    """
    inputs = ops.convert_to_tensor(np.asarray(inputs, "float32"))
    if not cell.built:
        cell.build((None, inputs.shape[-1]))
    states = list(initial_state) if initial_state is not None else cell.get_initial_state(inputs.shape[0])
    # The input's share of every gate, x<t> Wx + b, for all steps at once;
    # then one inference step at a time, recording the gates it computes.
    projected = cell.project_inputs(inputs)
    records = {}
    for t in range(inputs.shape[1]):
        _, states, gates = cell._step(projected[:, t], states, False)
        for name, value in gates.items():
            records.setdefault(name, []).append(ops.convert_to_numpy(value))
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        records.setdefault("state", []).append(ops.convert_to_numpy(states[0]))
        if len(states) > 1:
            records.setdefault("cell", []).append(ops.convert_to_numpy(states[1]))
    return {name: np.stack(values, axis=1) for name, values in records.items()}


def plot_gradient_norms(
    norms_by_name, path, title="Gradient of a<T> with respect to x<t>", mark_distance=None, styles=None
):
    """Plots gradient norm against the distance T - t (log scale), one line per model.

    Args:
        norms_by_name: `{name: norms}`, each from `input_gradient_norms`.
        path: the PNG to write.
        title: the plot's title.
        mark_distance: optionally, a distance to mark with a vertical line.
        styles: optional `{name: matplotlib keyword arguments}` for some lines.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5))
    axis = figure.subplots()
    for name, norms in norms_by_name.items():
        norms = np.asarray(norms, "float64")
        distance = np.arange(len(norms))[::-1]
        style = dict((styles or {}).get(name, {}))
        if styles is None and ", " in name:
            style.setdefault("linestyle", "--")
        axis.semilogy(distance, np.maximum(norms, 1e-30), label=name, **style)
    if mark_distance is not None:
        axis.axvline(mark_distance, color="gray", linestyle=":", linewidth=1)
        axis.text(
            mark_distance,
            0.02,
            f" T - t = {mark_distance}",
            va="bottom",
            fontsize=8,
            color="gray",
            transform=axis.get_xaxis_transform(),
        )
    axis.set_xlabel("distance T - t (steps back from the last output)")
    axis.set_ylabel("||∂a<T>/∂x<t>|| (log scale)")
    axis.set_title(title, fontsize=10)
    axis.grid(True, which="major", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def plot_gates(records, path, labels=None, example=0, max_units=16, title=None):
    """Draws each gate as a heat map (units x time) for one example of `record_gates`.

    Gates (sigmoids) are drawn on a 0-1 scale; the candidate, a<t> and c<t>
    on a scale symmetric around 0.

    Args:
        records: the output of `record_gates`.
        path: the PNG to write.
        labels: optional tick labels for the time axis (e.g. the characters).
        example: which example of the batch to draw.
        max_units: how many units to show.
        title: an optional title above the heat maps.
    """
    from matplotlib.figure import Figure

    order = ("update", "reset", "input", "forget", "output", "candidate", "cell", "state")
    names = [name for name in order if name in records] + [name for name in records if name not in order]
    height = 0.9 + min(max_units, next(iter(records.values())).shape[-1]) * 0.045
    total = height * len(names) + 0.8
    figure = Figure(figsize=(10, total))
    axes = figure.subplots(len(names), 1, squeeze=False)
    for axis, name in zip(axes[:, 0], names):
        values = records[name][example, :, :max_units].T
        gate = name in ("update", "reset", "input", "forget", "output")
        extent = 1.0 if gate else max(1e-6, float(np.abs(values).max()))
        image = axis.imshow(
            values,
            aspect="auto",
            cmap="viridis" if gate else "coolwarm",
            vmin=0 if gate else -extent,
            vmax=extent,
            interpolation="nearest",
        )
        axis.set_ylabel(GATE_LABELS.get(name, name), rotation=0, ha="right", va="center", fontsize=9)
        axis.set_yticks([])
        figure.colorbar(image, ax=axis, pad=0.01)
        if labels is not None:
            axis.set_xticks(range(len(labels)))
            axis.set_xticklabels(labels, fontsize=8)
        else:
            axis.set_xticks([])
    axes[-1, 0].set_xlabel("time step t (the input read at that step); rows: units")
    if title:
        figure.suptitle(title, fontsize=11)
        figure.tight_layout(rect=(0, 0, 1, 1 - 0.45 / total))
    else:
        figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
