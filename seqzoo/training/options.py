"""Training's defaults and the checks of its arguments: plain Python, so the CLI uses them before TensorFlow loads."""

import os

EPOCHS = 10
BATCH_SIZE = 32
PATIENCE = 5
SEED = 0


def check_count(name, value, minimum=1):
    """Raises a `ValueError` unless `value` is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Received {name}={value!r}; it must be an integer >= {minimum}.")


def check_data_dir(data_dir):
    """Raises a `ValueError` if `data_dir` names a file (TFDS needs a folder, made if missing)."""
    if data_dir is not None and os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise ValueError(f"Received data_dir={data_dir!r}, which is a file; give a folder (it is created if missing).")


def check_training_arguments(epochs, batch_size, patience, seed, data_dir, from_run, freeze_backbone, partial=False):
    """Every check that needs no data and no model, in the order a user reads the arguments."""
    check_count("epochs", epochs)
    check_count("batch_size", batch_size)
    check_count("patience", patience)
    check_count("seed", seed, minimum=0)
    check_data_dir(data_dir)
    if freeze_backbone and from_run is None:
        raise ValueError("Received freeze_backbone=True without from_run; it keeps a run's backbone fixed.")
    if partial and from_run is None:
        raise ValueError("Received partial=True without from_run; it lets a fine-tuning copy only the layers that fit.")
