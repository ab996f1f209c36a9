"""Runs every tutorial's fast mode and asserts the claim it teaches.

Each tutorial in tutorials/ has `main(fast, out, ...)`, which prints its
walk-through, writes its plots into `out` and returns the numbers it shows;
these tests import the file, run `main(fast=True, ...)` and check those
numbers. The offline datasets are generated once per session into a
temporary TFDS folder.
"""

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from image_checks import assert_image

REPOSITORY = Path(__file__).resolve().parent.parent
TUTORIALS = REPOSITORY / "tutorials"


def load(stem):
    """Imports `tutorials/<stem>.py` (a name that starts with a digit) as a module."""
    path = TUTORIALS / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"tutorial_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tutorial_files():
    return sorted(path.stem for path in TUTORIALS.glob("[0-9][0-9]_*.py"))


def test_every_tutorial_has_a_header_a_main_and_a_test():
    stems = tutorial_files()
    assert [stem[:2] for stem in stems] == [f"{n:02d}" for n in range(1, 13)], stems
    tests = Path(__file__).read_text()
    readme = (REPOSITORY / "README.md").read_text()
    for stem in stems:
        text = (TUTORIALS / f"{stem}.py").read_text()
        header = text.split('"""')[1]
        for field in ("Title:", "Author:", "Description:"):
            assert field in header, (stem, field)
        assert re.search(r"^def main\(fast=False, out=", text, re.M), stem
        assert "--fast" in text and "--out" in text, stem
        assert f'load("{stem}")' in tests, f"no test runs {stem}"
        assert f"tutorials/{stem}.py" in readme, f"README's tutorial index lacks {stem}"


def test_01_runs_from_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / "01_notation_and_one_hot.py"), "--fast", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "StringLookup one-hot equals OneHot without the padding row: True" in result.stdout
    assert_image(tmp_path / "01_one_hot.png")


def test_01_notation_and_one_hot(tmp_path):
    results = load("01_notation_and_one_hot").main(fast=True, out=str(tmp_path))
    assert results["unknown_id"] == 1
    assert results["unknown_words"] == ["hermione", "spell"]
    assert [i for i, token in enumerate(results["ids"]) if token == 1] == [3, 8]
    assert results["decoded"][3] == "[UNK]" and results["decoded"][0] == "harry"
    inputs, targets = results["framed_inputs"], results["framed_targets"]
    assert inputs[0] == 2 and targets[-1] == 3 and inputs[1:] == targets[:-1]
    assert results["one_hot_shape"] == (2, 9, results["vocabulary_size"])
    np.testing.assert_array_equal(results["row_sums"], [[1] * 9, [1] * 4 + [0] * 5])
    np.testing.assert_array_equal(results["mask"], results["row_sums"] > 0)
    assert results["string_lookup_matches"]
    assert_image(results["plot"])


def test_02_forward_pass_and_bptt_by_hand(tmp_path):
    results = load("02_rnn_forward_and_bptt").main(fast=True, out=str(tmp_path))
    # The hand-written forward pass equals SimpleRNNCell (float32), Wa = [Waa | Wax].
    assert results["forward_max_error"] < 1e-6
    assert results["stacked_kernel_error"] < 1e-6
    assert results["stacked_step_error"] < 1e-6
    # Hand-written BPTT equals automatic differentiation (float64) and finite differences.
    assert abs(results["loss_hand"] - results["loss_keras"]) < 1e-10
    assert set(results["gradient_errors"]) == {"Waa", "Wax", "ba", "Wya", "by", "x"}
    for name, error in results["gradient_errors"].items():
        assert error < 1e-10 * max(1.0, results["gradient_scales"][name]), name
    assert max(results["finite_difference_errors"]) < 1e-6
    # One output's gradient fades as it travels back through time.
    norms = results["last_step_gradient_norms"]
    assert norms[0] < norms[-1] and np.all(np.diff(norms) > 0)
    assert_image(results["plot"])


def test_03_kinds_of_rnn(tmp_path):
    results = load("03_kinds_of_rnn").main(fast=True, out=str(tmp_path))
    assert results["shapes"] == {
        "many_to_one": (2, 5),
        "many_to_many": (2, 7, 3),
        "one_to_many": (2, 4, 30),
        "encoder_decoder": (2, 4, 12),
        "language_model": (2, 7, 30),
    }
    assert results["padding_difference"] < 1e-6
    assert results["causality"]["unidirectional"] < 1e-7  # ŷ<t> ignores later inputs...
    assert results["causality"]["bidirectional"] > 1e-4  # ...unless the model reads both ways.
    assert results["condition_effect"] > 1e-4
    assert max(results["stepper_difference"].values()) < 1e-5
    assert_image(results["plot"])


def test_04_character_language_model_samples_novel_names(tmp_path, data_dir):
    results = load("04_character_language_model").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    # The short training demo learns; the preset is better still.
    assert results["bits_per_character"] < results["uniform_bits"] - 1.0
    assert results["preset_bits_per_character"] < results["bits_per_character"] - 0.2
    by_temperature = results["by_temperature"]
    for temperature, stats in by_temperature.items():
        assert len(stats["samples"]) == 50 and stats["distinct"] >= 40, temperature
    # The preset's samples at temperature 1 are mostly names in no split of the data...
    assert by_temperature[1.0]["novel"] >= 30
    # ...and colder sampling repeats more real names, hotter sampling invents more.
    novel = [by_temperature[t]["novel"] for t in (0.5, 1.0, 1.5)]
    assert novel == sorted(novel) and novel[0] < novel[2]
    assert by_temperature[0.5]["in_training_set"] > by_temperature[1.5]["in_training_set"]
    assert len(results["greedy"]) == 1 and len(results["beam"]) == 5
    totals = results["log_probability"]
    for real, scrambled in results["pairs"]:
        assert totals[real] < 0 and totals[real] > totals[scrambled] + 5, (real, scrambled)
    for path in results["plots"]:
        assert_image(path)


def test_05_vanishing_and_exploding_gradients(tmp_path):
    results = load("05_vanishing_and_exploding_gradients").main(fast=True, out=str(tmp_path))
    at = results["at_distance"]
    # Gates that carry the state keep the gradient orders of magnitude above a SimpleRNN's.
    assert at["LSTM, carry gate bias +3"] >= 100 * at["SimpleRNN"]
    assert at["GRU, carry gate bias +3"] >= 100 * at["SimpleRNN"]
    # At Keras's initialization the LSTM (Γf ≈ 0.73) already beats the SimpleRNN,
    # while the GRU (z ≈ 0.5) decays fastest of all.
    assert at["LSTM"] >= 10 * at["SimpleRNN"]
    assert at["GRU"] < at["SimpleRNN"] < at["LSTM"]
    assert 0.65 < results["gate_means"]["LSTM"] < 0.8 and 0.4 < results["gate_means"]["GRU"] < 0.6
    assert results["gate_means"]["LSTM, carry gate bias +3"] > 0.9
    # Small inputs keep the SimpleRNN out of saturation; a stretching Waa explodes.
    assert results["small_input_rnn_at_distance"] > 1000 * at["SimpleRNN"]
    assert results["exploding_growth"] > 1e3
    # Without clipping the run diverges (to inf/NaN, or a million times the
    # starting loss); with clipnorm=1.0 it stays finite and learns.
    unclipped, clipped = results["runs"]["no clipping"], results["runs"]["clipnorm = 1.0"]
    final = unclipped["loss"][-1]
    assert not math.isfinite(final) or final > 1e6 * clipped["loss"][0]
    assert all(math.isfinite(value) for value in clipped["loss"])
    assert clipped["loss"][-1] < 0.5 * clipped["loss"][0]
    assert_image(results["gradient_plot"])
    assert_image(results["clipping_plot"])


def test_06_gates_follow_the_course_equations(tmp_path, data_dir):
    results = load("06_gates").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    # The GRU is the trained `names` preset; the LSTMs had one epoch.
    losses = results["validation_loss"]
    assert losses["gru"] < 2.1 and losses["gru"] < min(losses["lstm"], losses["peephole"]) - 0.5
    for cell in ("gru", "lstm", "peephole"):
        low, high = results["gate_range"][cell]
        assert 0.0 <= low <= high <= 1.0, cell
        assert results["state_error"][cell] < 1e-5, cell
        assert results["equation_error"][cell] < 1e-5, cell
        assert_image(results[f"plot_{cell}"])


def test_07_bidirectional_beats_unidirectional(tmp_path):
    results = load("07_bidirectional_and_deep_rnns").main(fast=True, out=str(tmp_path))
    accuracy, ceiling = results["accuracy"], results["ceiling"]
    for depth in ("1 layer", "2 layers"):
        bi, uni = accuracy[f"{depth}, bidirectional"], accuracy[f"{depth}, unidirectional"]
        assert bi >= 0.95, (depth, bi)
        assert uni <= ceiling + 0.03, (depth, uni)  # No left-to-right model can do better.
        assert bi - uni >= 0.5
    assert_image(results["plot"])


def test_08_the_dates_preset_translates_and_attends(tmp_path, data_dir):
    results = load("08_date_translation_with_attention").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    assert results["metrics"]["exact_match"] > 0.95  # Greedy translations of 300 test dates.
    assert results["metrics"]["accuracy"] > 0.99  # Teacher-forced characters.
    # "3/9/24" is 9 March in en_US and 3 September in es_ES.
    assert results["translations"] == ["2024-03-09", "2024-03-09", "2024-03-09", "2024-09-03"]
    scores = results["scores"]
    assert scores.shape[0] == 4 and scores.shape[2] == max(results["source_lengths"])
    assert len(set(results["source_lengths"])) > 1  # Padding is exercised.
    np.testing.assert_allclose(results["row_sums"], 1.0, atol=1e-5)
    assert results["padding_mass"] < 1e-6
    assert_image(results["plot"])


def test_09_midi_parses_back_note_for_note(tmp_path, data_dir):
    results = load("09_music_generation").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    # The preset predicts the next sixteenth better than repeating the last pitch.
    metrics = results["metrics"]
    assert metrics["accuracy"] > metrics["repeat_baseline"] + 0.03
    assert results["melodies"]["continuation"][: len(results["opening"])] == results["opening"]
    for name, check in results["checks"].items():
        assert os.path.getsize(check["midi"]) > 0 and os.path.getsize(check["musicxml"]) > 0
        assert check["parsed"] == check["expected"], name
    assert len(results["checks"]["continuation"]["expected"]) > 0
    assert_image(results["plot"])


def test_10_fine_tuning_from_the_names_preset(tmp_path, data_dir):
    results = load("10_fine_tuning").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    assert {"inputs_embedding", "backbone", "head"} <= set(results["copied"])
    assert "condition_embedding" in results["new"]
    # The frozen backbone is the preset's, exactly; the unfrozen one moved.
    assert results["backbone_change"]["frozen"] == 0.0
    assert results["backbone_change"]["unfrozen"] > 0.0
    # Fine-tuning starts near the preset's loss; from scratch starts at a uniform guess.
    before = results["loss_before"]
    assert before["frozen"] < results["source_loss"] + 0.1 and before["unfrozen"] < results["source_loss"] + 0.1
    assert before["from scratch"] > before["unfrozen"] + 1.5
    # At equal epochs both fine-tuned models beat training from scratch, and
    # are within 0.15 nats of the same model trained from scratch to early stopping.
    losses = results["test_loss"]
    for name in ("frozen", "unfrozen"):
        assert losses[name] < losses["from scratch"] - 0.1, name
        assert losses[name] < results["scratch_preset_loss"] + 0.15, name
    assert_image(results["plot"])


def test_11_tuning_sweep(tmp_path, data_dir):
    results = load("11_tuning_sweep").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    rows = results["rows"]
    assert len(rows) == 3 and all(row["status"] == "COMPLETED" for row in rows)
    assert [row["rank"] for row in rows] == [1, 2, 3]
    assert results["best"]["score"] == max(row["score"] for row in rows)
    assert set(results["importance"]) <= {"backbone.units", "optimizer.learning_rate"}
    assert 0.0 <= results["test_metrics"]["accuracy"] <= 1.0
    assert [(r["trial"], r["score"]) for r in results["resumed_rows"]] == [(r["trial"], r["score"]) for r in rows]
    assert_image(results["plot"])
    assert_image(os.path.join(results["sweep"], "results.png"))


def test_12_parallel_rnns(tmp_path, data_dir):
    results = load("12_parallel_rnns").main(fast=True, out=str(tmp_path), data_dir=data_dir)
    # The scan of h -> a h + b equals the step loop in ceil(log2 1000) = 10 rounds; so does Keras's.
    assert results["scan_rounds"] == 10 and results["scan_error"] < 1e-12
    assert results["keras_scan_error"] < 1e-5
    # In float32 the cumulative-product closed form breaks down after a few hundred steps; the log-space scan does not.
    assert results["closed_form_finite"] < 0.5
    assert results["log_scan_relative_error"] < 1e-4
    # seqzoo's step form (keras.layers.RNN) and parallel form (RecurrentStack) equal the NumPy equations.
    for cell in ("mingru", "minlstm"):
        assert results["step_vs_parallel"][cell] < 1e-5, cell
        assert results["numpy_vs_parallel"][cell] < 1e-5, cell
    speed = results["speed"]
    assert all(s > 0 for cell in ("gru", "mingru") for s in speed["seconds"][cell])
    assert len(speed["speedup"]) == len(speed["lengths"])
    assert_image(results["plot"])
    # The minGRU language model learns in one epoch, and its step form gives the whole-sequence logits.
    assert results["validation_loss"][-1] < results["uniform_nats"] - 1.0
    assert results["stepper_error"] < 1e-4
    # The shipped minGRU names model is within 5% of the GRU's, and writes names.
    assert results["preset_bits_per_character"] <= 1.05 * results["gru_preset_bits_per_character"]
    assert len(results["samples"]) == 20 and sum(name.isalpha() for name in results["samples"]) >= 15


# -- full modes: what a trained model shows (minutes each; `pytest -m slow`) --------------------


@pytest.mark.slow
def test_07_full_mode_bidirectional_harmonizes_better(tmp_path, data_dir):
    results = load("07_bidirectional_and_deep_rnns").main(fast=False, out=str(tmp_path), data_dir=data_dir)
    assert results["accuracy"]["1 layer, bidirectional"] > 0.99
    harmony = results["harmony_accuracy"]
    assert harmony["bidirectional"] > harmony["unidirectional"]
