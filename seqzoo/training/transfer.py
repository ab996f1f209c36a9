"""Fine-tuning: a new model that starts from a finished run's weights wherever they fit."""

from dataclasses import dataclass
from dataclasses import field

# The recurrent layers of seqzoo's topologies, which `freeze_backbone` keeps fixed.
BACKBONE_LAYERS = ("backbone", "encoder")


@dataclass
class Transfer:
    """Which layers of a model took a run's weights, and why the others did not."""

    source: str
    copied: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # layer name -> reason
    unused: list = field(default_factory=list)  # the run's layers with weights that the new model lacks

    def as_record(self):
        record = {"from_run": self.source, "copied": self.copied, "skipped": self.skipped}
        return {**record, "unused": self.unused} if self.unused else record

    def not_copied(self):
        """Every weight that does not carry over, one phrase per layer (empty: the whole model is copied)."""
        return [f"{name} ({reason})" for name, reason in self.skipped.items()] + [
            f"{name} (in the run, not in the new model)" for name in self.unused
        ]

    def summary(self):
        """One line per fact, for the user: what was copied, what was not and why."""
        lines = [f"Copied from {self.source}: {', '.join(self.copied)}."]
        lines += [f"Not copied: {phrase}." for phrase in self.not_copied()]
        return "\n".join(lines)


def transfer_weights(source, model, source_name="the run", partial=False):
    """Copies `source`'s weights into `model`, layer by layer (same name, same weight shapes).

    Every layer with weights must carry over, both ways, unless `partial`:
    then the layers that fit are copied and the others start afresh.

    Args:
        source: the trained Keras model.
        model: the new model (built).
        source_name: what to call the source in messages, e.g. its folder.
        partial: whether a partial start is wanted (layers that do not fit
            keep their new weights) rather than an error.

    Returns:
        A `Transfer`.

    Raises:
        ValueError: when no layer of `model` fits, so nothing would be
            fine-tuned; without `partial`, when any layer does not fit.

    Example:

    >>> transfer_weights(run.load_model(), seqzoo.build(run.config)).copied
    ['inputs_embedding', 'backbone', 'head']
    """
    transfer = Transfer(source_name)
    own = {layer.name: layer for layer in source.layers}
    names = {layer.name for layer in model.layers}
    transfer.unused = [layer.name for layer in source.layers if layer.weights and layer.name not in names]
    for layer in model.layers:
        new = layer.get_weights()
        if not new:
            continue
        if layer.name not in own:
            transfer.skipped[layer.name] = "not in the run's model"
            continue
        old = own[layer.name].get_weights()
        if [w.shape for w in old] != [w.shape for w in new]:
            shapes = lambda weights: ", ".join(str(tuple(w.shape)) for w in weights)  # noqa: E731
            transfer.skipped[layer.name] = f"weights {shapes(old)} in the run, {shapes(new)} here"
            continue
        layer.set_weights(old)
        transfer.copied.append(layer.name)
    if not transfer.copied:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in transfer.skipped.items())
        raise ValueError(
            f"No layer of the new model fits {source_name}'s weights ({reasons}); fine-tuning needs at least "
            "one layer of the same name and shapes (e.g. the same backbone cell, units and depth)."
        )
    if not partial and transfer.not_copied():
        raise ValueError(
            f"Not every layer of {source_name} carries over to the new model: {'; '.join(transfer.not_copied())}. "
            "Fine-tune the run's own model (give no model, or its model name, without overrides that change "
            "shapes), or pass partial=True (--partial) to start those layers afresh."
        )
    return transfer


def freeze_backbone(model):
    """Keeps the recurrent layers (`backbone`, `encoder`) fixed; compile the model again after this."""
    names = [layer.name for layer in model.layers if layer.name in BACKBONE_LAYERS]
    if not names:
        raise ValueError(f"Model {model.name!r} has no recurrent layer named {' or '.join(BACKBONE_LAYERS)} to freeze.")
    for name in names:
        model.get_layer(name).trainable = False
