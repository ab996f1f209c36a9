"""Every named model, and every topology, on the active Keras backend.

CI runs this file under `KERAS_BACKEND=tensorflow`, `jax` and `torch`:
every case on TensorFlow, and on the others the cases that cover all each
backend runs apart (`zoo_cases.covering_cases`). Each model is built small
(see `zoo_cases.tiny_overrides`), trains a few steps on
a fixed batch with a falling loss, round-trips through a `.keras` file with
equal predictions, and, if it generates, its compiled greedy decoder agrees
with the teacher-forced argmax of the full model. A few representative
models are also saved here and loaded on the other two backends.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import zoo_cases

import seqzoo
from seqzoo.architectures import GENERATIVE_TOPOLOGIES
from seqzoo.architectures import TOPOLOGIES

BACKENDS = ("tensorflow", "jax", "torch")
STEPS = 10
# One per topology, cell family and input type: saved here, loaded on the other backends.
CROSS_BACKEND = ("gru_seq2seq_attention", "lstm_music", "peephole_bi", "rnn_char_lm")

CASES = {name: (name, {}) for name in seqzoo.list_models()} | zoo_cases.EXTRA_CASES
CONFIGS = {
    case: seqzoo.get_config(name, **zoo_cases.tiny_overrides(name, extra)) for case, (name, extra) in CASES.items()
}
# TensorFlow trains every case; JAX and PyTorch the fewest that exercise all that each backend runs apart.
COVER = zoo_cases.covering_cases(CONFIGS)
BACKEND_CASES = sorted(CASES) if keras.backend.backend() == "tensorflow" else COVER


@pytest.fixture(autouse=True)
def _fresh_backend_state():
    """Clears Keras's global state after each model (JAX's compiled programs: see `conftest.py`)."""
    yield
    keras.backend.clear_session()


def test_every_topology_and_input_type_is_covered():
    configs = list(CONFIGS.values())
    assert {config["topology"] for config in configs} == set(TOPOLOGIES)
    assert {config["inputs"]["type"] for config in configs} == {"tokens", "one_hot", "features"}
    assert {config["outputs"]["type"] for config in configs if "outputs" in config} == {
        "binary",
        "classes",
        "regression",
    }
    assert {config["backbone"]["cell"] for config in configs} == set(seqzoo.cells.CELLS)


def test_the_other_backends_cases_cover_every_cell_topology_and_option():
    assert set().union(*map(zoo_cases.backend_features, (CONFIGS[case] for case in COVER))) == set().union(
        *map(zoo_cases.backend_features, CONFIGS.values())
    )
    assert {CONFIGS[case]["backbone"]["cell"] for case in COVER} == set(seqzoo.cells.CELLS)
    assert len(COVER) < 0.7 * len(CASES)  # Sizes and repeated combinations are trained on TensorFlow only.


@pytest.mark.parametrize("case", BACKEND_CASES)
def test_model_trains_round_trips_and_generates(case, tmp_path):
    name, extra = CASES[case]
    model = zoo_cases.build(name, extra)
    config = model.seqzoo_config
    x, y = zoo_cases.batch_for(config)
    before = zoo_cases.inference_loss(model, x, y)
    for _ in range(STEPS):
        model.train_on_batch(x, y)
    after = zoo_cases.inference_loss(model, x, y)
    assert np.isfinite(before) and np.isfinite(after)
    assert after < 0.97 * before, f"{case}: the loss did not fall ({before} -> {after})"

    expected = zoo_cases.predict(model, x)
    assert np.all(np.isfinite(expected))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, seqzoo.architectures.SeqzooModel)
    assert loaded.seqzoo_config == config
    np.testing.assert_allclose(zoo_cases.predict(loaded, x), expected, rtol=0, atol=1e-6)
    assert int(zoo_cases.numpy(loaded.optimizer.iterations)) == STEPS  # The optimizer's state came along.
    if config["topology"] in GENERATIVE_TOPOLOGIES:
        # The reloaded model generates: its step-wise parts were recorded again when it was rebuilt.
        generated, forced = zoo_cases.greedy_and_teacher_forced(loaded)
        assert forced == generated
        assert any(len(row) > 1 for row in generated)


def test_saved_on_this_backend_loads_on_the_others(tmp_path, subprocess_env):
    here = keras.backend.backend()
    expected = {}
    for name in CROSS_BACKEND:
        model = zoo_cases.build(name)
        x, _ = zoo_cases.batch_for(model.seqzoo_config)
        expected[name] = zoo_cases.save_case(model, x, str(tmp_path), name)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zoo_cases.py")
    for backend in BACKENDS:
        if backend == here:
            continue
        env = {**subprocess_env, "KERAS_BACKEND": backend}
        done = subprocess.run([sys.executable, script, str(tmp_path)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"loading on {backend} failed:\n{done.stderr[-3000:]}"
        for name in CROSS_BACKEND:
            predicted = np.load(tmp_path / f"{name}.{backend}.npy")
            np.testing.assert_allclose(
                predicted, expected[name], rtol=0, atol=1e-5, err_msg=f"{name}: {here} -> {backend}"
            )
