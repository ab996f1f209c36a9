"""The same command gives the same numbers: whatever the process did before training, and epoch after epoch.

A run killed and resumed ends with the uninterrupted run's numbers: see
`test_run_folder.test_a_run_killed_at_any_point_resumes_there`.
"""

import json
import subprocess
import sys

import tensorflow as tf

from seqzoo.tasks.shuffling import shuffle_each_epoch

FEW = {"train": "train[:640]", "validation": "validation[:128]", "test": "test[:128]"}


def _train(out, data_dir, env):
    command = [sys.executable, "-m", "seqzoo", "train", "gru_char_lm", "--task", "names", "--epochs", "1"]
    command += ["--batch-size", "64", "--set", "backbone.units=8", "--set", "backbone.recurrent_dropout=0.3"]
    command += ["--task-option", f"splits={json.dumps(FEW)}"]  # Built whole; trained on a tenth of it.
    process = subprocess.run(
        [*command, "--out", out, "--data-dir", data_dir], env=env, capture_output=True, text=True, timeout=600
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout)


def test_building_the_dataset_first_changes_no_number(tmp_path, subprocess_env):
    """The first process builds `names` (which draws from the global generators), the second finds it built."""
    data_dir = str(tmp_path / "tfds")
    built_here = _train(str(tmp_path / "first"), data_dir, subprocess_env)
    prebuilt = _train(str(tmp_path / "second"), data_dir, subprocess_env)
    assert {**built_here, "run": None} == {**prebuilt, "run": None}


def test_the_order_of_an_epoch_depends_on_the_seed_and_the_epoch_alone():
    examples = tf.data.Dataset.range(50)

    def orders(seed, first_epoch, passes):
        data = shuffle_each_epoch(examples, seed, first_epoch)
        return [[int(x) for x in data] for _ in range(passes)]

    epochs = orders(0, 0, 3)
    assert all(sorted(order) == list(range(50)) for order in epochs)
    assert len({tuple(order) for order in epochs}) == 3  # A new order every epoch.
    tf.random.set_seed(123)  # The process's global seed plays no part.
    assert orders(0, 2, 1) == epochs[2:]  # A resumed run's epoch 2 is the uninterrupted run's.
    assert orders(1, 0, 1) != epochs[:1]
