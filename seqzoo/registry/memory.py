"""Whether a model fits in memory, answered before it is built: its parameters counted on variables without values."""

import os

from seqzoo import _compat
from seqzoo.architectures import TOPOLOGIES
from seqzoo.errors import InputError

# Training holds, for each parameter in float32, its value, its gradient and the optimizer's
# two moments (Adam's m and v): 16 bytes.
BYTES_PER_PARAMETER = 16
# The share of the machine's physical memory a model may take; the rest is for data, activations and the rest.
MEMORY_SHARE = 0.5
NOT_MODEL_SECTIONS = ("description", "topology", "optimizer", "search")


def architecture(config, name):
    """The uncompiled model of a resolved config (its topology's factory, called with the config's sections)."""
    sections = {key: value for key, value in config.items() if key not in NOT_MODEL_SECTIONS}
    return TOPOLOGIES[config["topology"]](**sections, name=name)


def parameter_count(config):
    """How many parameters the model of a resolved config has, counted without allocating them.

    The model is built on variables that have shapes but no values (Keras's
    deferred initialization), which takes milliseconds and no memory for any
    size, and gives exactly `build_from_config(config).count_params()`.

    Example:

    >>> parameter_count(seqzoo.get_config("gru_char_lm"))
    241216
    """
    with _compat.variables_without_values():
        return architecture(config, "parameter_count").count_params()


def physical_memory():
    """This machine's physical memory in bytes, or `None` where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # No sysconf (Windows), or no such name.
        return None


def parameter_limit():
    """The most parameters a model may have here: `MEMORY_SHARE` of physical memory at `BYTES_PER_PARAMETER` each."""
    memory = physical_memory()
    return None if memory is None else int(memory * MEMORY_SHARE) // BYTES_PER_PARAMETER


def check_fits_in_memory(config, where):
    """Raises an `InputError` with the model's size when training it would not fit in memory.

    Args:
        config: a resolved config.
        where: what to call the model in the error.
    """
    limit = parameter_limit()
    if limit is None:
        return
    count = parameter_count(config)
    if count > limit:
        raise InputError(
            f"Model {where!r} has {count:,} parameters, which take {_gigabytes(count * BYTES_PER_PARAMETER)} "
            f"to train ({BYTES_PER_PARAMETER} bytes each: the float32 weight, its gradient and the optimizer's two "
            f"moments); a model may take {MEMORY_SHARE:.0%} of this machine's {_gigabytes(physical_memory())} "
            f"of memory, {limit:,} parameters. Make backbone.units, backbone.depth or the vocabulary smaller."
        )


def _gigabytes(size):
    return f"{size / 2**30:,.1f} GiB"
