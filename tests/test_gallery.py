"""Draws the gallery (docs/gallery.py) from the shipped presets and checks what each picture claims."""

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest
from image_checks import assert_image

DOCS = Path(__file__).resolve().parent.parent / "docs"
MAX_BYTES = 150 * 1024


def load_gallery():
    spec = importlib.util.spec_from_file_location("gallery", DOCS / "gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gallery = load_gallery()


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The whole gallery, drawn once into a temporary folder."""
    return gallery.main(out=str(tmp_path_factory.mktemp("gallery")), seed=0)


def test_every_picture_is_drawn_small_and_on_the_page(drawn):
    page = Path(drawn["page"]).read_text()
    for name in gallery.PICTURES:
        path = drawn[name]["path"]
        assert_image(path)
        assert os.path.getsize(path) < MAX_BYTES, (path, os.path.getsize(path))
        assert f"]({os.path.basename(path)})" in page, name
    # The committed page is the one the script writes, and it shows committed pictures.
    committed = DOCS / "gallery" / "README.md"
    assert committed.read_text() == page
    for picture in re.findall(r"\]\(([^)]+\.png)\)", page):
        assert (committed.parent / picture).is_file(), picture


def test_attention_rows_sum_to_one_and_the_locale_picks_the_month(drawn):
    attention = drawn["attention"]
    for scores in attention["maps"]:
        np.testing.assert_allclose(scores.sum(axis=-1), 1.0, atol=1e-5)
    # "3/9/24" is 9 March in en_US and 3 September in es_ES.
    assert attention["translations"] == ["2024-03-09", "2024-03-09", "2024-09-03"]
    # Writing the month's last digit (row 6: BOS reads -> "2024-0" written -> the digit), the weight peaks on it.
    for index, month in ((1, "3"), (2, "9")):
        source = gallery.DATES[index]
        assert source[attention["maps"][index][6].argmax()] == month, source


def test_gates_rebuild_the_state_by_the_update_equation(drawn):
    records = drawn["gates"]["records"]
    steps = len(gallery.NAME) + 1
    assert records["state"].shape == (1, steps, 128)
    for gate in ("update", "reset"):
        assert 0.0 <= records[gate].min() and records[gate].max() <= 1.0
    # Keras's z keeps the old state: a<t> = z a<t-1> + (1 - z) c̃<t>.
    previous = np.concatenate([np.zeros_like(records["state"][:, :1]), records["state"][:, :-1]], axis=1)
    rebuilt = records["update"] * previous + (1.0 - records["update"]) * records["candidate"]
    np.testing.assert_allclose(rebuilt, records["state"], atol=1e-5)


def test_the_trained_gru_keeps_gradients_that_a_simple_rnn_loses(drawn):
    by_distance = {name: norms[::-1] for name, norms in drawn["gradients"]["norms"].items()}
    trained, rnn, untrained = (
        by_distance[name] for name in ("GRU, preset:names (trained)", "SimpleRNN, untrained", "GRU, untrained")
    )
    far = gallery.FAR
    # Relative to one step back, the trained GRU keeps ten times more of the gradient far back than a SimpleRNN.
    assert trained[far] / trained[1] > 10 * rnn[far] / rnn[1]
    # The SimpleRNN's gradient shrinks with every five steps back; an untrained GRU's (z ≈ 0.5) shrinks fastest.
    assert np.all(np.diff(rnn[::5]) < 0) and rnn[far] < 0.01 * rnn[1]
    assert untrained[far] < 1e-3 * rnn[far]
    # The trained GRU's falls a hundredfold within a name's length, then rises again far back (the caption's words).
    lowest = int(np.argmin(trained))
    assert trained[lowest] < 0.01 * trained[0] and trained[-1] > 3 * trained[lowest] and lowest < len(trained) - 10


def test_the_gallery_writes_into_the_working_folder_by_default(tmp_path, monkeypatch):
    committed = {path: path.stat().st_mtime_ns for path in (DOCS / "gallery").iterdir()}
    monkeypatch.chdir(tmp_path)
    written = gallery.main(only=["training_curve"])
    assert Path(written["training_curve"]["path"]).resolve() == tmp_path / "gallery_output" / "training_curve.png"
    assert sorted(os.listdir(tmp_path / "gallery_output")) == ["README.md", "training_curve.png"]
    assert {path: path.stat().st_mtime_ns for path in (DOCS / "gallery").iterdir()} == committed


def test_the_piano_roll_holds_midi_melodies_and_a_bass_below_them(drawn):
    roll = drawn["piano_roll"]
    for mode, melody in roll["melodies"].items():
        assert 0 < len(melody) <= gallery.MELODY_STEPS, mode
        notes = [pitch for pitch in melody if pitch]
        assert notes and all(48 <= pitch <= 96 for pitch in notes), (mode, melody)
    soprano, bass = roll["melodies"]["major"], roll["bass"]
    assert len(bass) == len(soprano) and all(0 <= pitch <= 127 for pitch in bass)
    sounding = [(s, b) for s, b in zip(soprano, bass) if s and b]
    assert sounding and np.mean([s - b for s, b in sounding]) > 7  # The bass sits below the tune.


def test_the_training_curve_is_the_presets_history(drawn):
    rows = drawn["training_curve"]["rows"]
    losses = [float(row["loss"]) for row in rows]
    assert len(rows) >= 5 and losses[-1] < losses[0]
