"""
Title: GRU, LSTM and peephole gates, watched on a real sequence
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/12/01
Description: Take the shipped `names` preset (a GRU character model) and train small LSTM and peephole LSTM ones on first names, then record every gate of each while it reads a name, and check the course's update equations on the recorded numbers.
Accelerator: None

Run it:

    python tutorials/06_gates.py [--fast] [--out DIR] [--data-dir DIR]

It prints what the gates do and writes `06_gates_gru.png`,
`06_gates_lstm.png` and `06_gates_peephole.png` into `DIR` (default
`./tutorial_output`). The `names` dataset is generated on first use from the
`names` package (no download). The GRU is the `names` preset that ships
with seqzoo; the two LSTMs train for 1 epoch (fast mode) or 15.
"""

import argparse
import os
import sys

# Lets `python tutorials/06_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import numpy as np

import seqzoo
from seqzoo import diagnostics
from seqzoo.tasks.vocabulary import BOS_ID

NAME = "Christopher"


def main(fast=False, out="tutorial_output", seed=0, data_dir=None):
    """Runs the tutorial; returns the checks it prints, for the tests."""
    os.makedirs(out, exist_ok=True)
    lstm_units = 16 if fast else 64
    epochs = 1 if fast else 15
    results = {"gate_range": {}, "state_error": {}, "equation_error": {}, "saturated": {}, "validation_loss": {}}

    # ## Three character models
    #
    # `gru_char_lm` is a character-level language model (embedded characters
    # into one recurrent layer, a softmax over the next character). seqzoo
    # ships it trained: the `names` preset (128 GRU units), trained on this
    # task by `python benchmarks/presets.py` with seed 0 (`seqzoo presets`
    # lists the presets). Its GRU has Keras's default form,
    # `reset_after=True`: Γr multiplies the recurrent product (Wr a<t-1> +
    # br) where the course multiplies c<t-1> before it; the update equation
    # checked below is the same in both forms.
    #
    # No preset has an LSTM reading names, so the same config with another
    # `backbone.cell` gives an LSTM and a peephole LSTM, trained here briefly.
    preset = seqzoo.presets.open_run("preset:names")
    task = preset.load_task(data_dir=data_dir)  # With the preset's vocabulary: the ids its model reads.
    vocabulary = task.vocabularies["inputs"]
    ids = np.array([[BOS_ID] + vocabulary.encode(list(NAME))], "int32")
    labels = ["<BOS>"] + list(NAME)
    for cell_name in ("gru", "lstm", "peephole"):
        if cell_name == "gru":
            model = preset.load_model()
            loss = model.evaluate(task.sized_batches("validation", 64), verbose=0, return_dict=True)["loss"]
        else:
            keras.utils.set_random_seed(seed)
            model = seqzoo.build("gru_char_lm", task=task, **{"backbone.units": lstm_units, "backbone.cell": cell_name})
            history = model.fit(
                task.sized_batches("train", 64, shuffle=True, seed=seed),
                epochs=epochs,
                verbose=0,
                validation_data=task.sized_batches("validation", 64),
            )
            loss = history.history["val_loss"][-1]
        units = model.seqzoo_config["backbone"]["units"]
        results["validation_loss"][cell_name] = float(loss)
        trained = f"{len(preset.history())} epochs (preset:names)" if cell_name == "gru" else f"{epochs} epoch(s)"
        print(f"\n{cell_name}: {units} units, {trained}, validation loss {loss:.3f} nats per character")

        # ## Recording the gates
        #
        # The recurrent layer reads embedded characters, so feed the cell the
        # embedding of "<BOS> Christopher". `record_gates` steps the cell
        # along the sequence and keeps every gate at every step, plus a<t>
        # (`state`) and, for LSTMs, c<t> (`cell`).
        embedded = model.get_layer("inputs_embedding")(ids)
        backbone = model.get_layer("backbone")
        cell = backbone.cells[0]
        records = diagnostics.record_gates(cell, embedded)
        shapes = {name: value.shape for name, value in records.items()}
        print(f"  recorded {shapes}")

        # The recorded a<t> is what the model's own layer computes:
        layer_states = np.asarray(backbone(embedded))
        results["state_error"][cell_name] = float(np.abs(records["state"] - layer_states).max())
        print(
            f"  recorded a<t> vs the model's recurrent layer: max |difference| = "
            f"{results['state_error'][cell_name]:.1e}"
        )

        # Gates are sigmoids: between 0 and 1. How decisive are they? Count
        # the values near 0 or 1 (below 0.1 or above 0.9).
        gates = [name for name in ("update", "reset", "input", "forget", "output") if name in records]
        values = np.concatenate([records[name].ravel() for name in gates])
        results["gate_range"][cell_name] = (float(values.min()), float(values.max()))
        results["saturated"][cell_name] = float(np.mean((values < 0.1) | (values > 0.9)))
        for name in gates:
            print(
                f"  {name:7} gate: mean {records[name].mean():.2f}, range "
                f"[{records[name].min():.2f}, {records[name].max():.2f}]"
            )

        # ## The course's equations, on the recorded numbers
        #
        # Each cell's new state follows from its gates. For the GRU the course
        # writes c<t> = Γu * c̃<t> + (1 - Γu) * c<t-1>; Keras names the gate
        # z = 1 - Γu (z keeps the old state), so Γu = 1 - z. For both LSTMs,
        # c<t> = Γu * c̃<t> + Γf * c<t-1> and a<t> = Γo * tanh(c<t>), with
        # Keras's input gate i as Γu. Rebuild the states from the gates:
        if cell_name == "gru":
            gamma_u = 1.0 - records["update"]
            previous = np.concatenate([np.zeros_like(records["state"][:, :1]), records["state"][:, :-1]], axis=1)
            rebuilt = gamma_u * records["candidate"] + (1.0 - gamma_u) * previous
            error = float(np.abs(rebuilt - records["state"]).max())
            print(f"  c<t> = Γu c̃<t> + (1 - Γu) c<t-1> with Γu = 1 - z: max |error| = {error:.1e}")
        else:
            previous = np.concatenate([np.zeros_like(records["cell"][:, :1]), records["cell"][:, :-1]], axis=1)
            rebuilt_c = records["input"] * records["candidate"] + records["forget"] * previous
            rebuilt_a = records["output"] * np.tanh(records["cell"])
            error = float(max(np.abs(rebuilt_c - records["cell"]).max(), np.abs(rebuilt_a - records["state"]).max()))
            print(f"  c<t> = Γu c̃<t> + Γf c<t-1>, a<t> = Γo tanh(c<t>): max |error| = {error:.1e}")
        results["equation_error"][cell_name] = error

        path = os.path.join(out, f"06_gates_{cell_name}.png")
        shown = min(units, 32)
        diagnostics.plot_gates(
            records,
            path,
            labels=labels,
            max_units=shown,
            title=f"{cell_name.upper() if cell_name != 'peephole' else 'Peephole LSTM'} "
            f"reading {NAME!r}: gates (0-1) and states, {shown} of {units} units",
        )
        print(f"  wrote {path}")
        results[f"plot_{cell_name}"] = path

    # ## What to look for
    #
    # In the pictures each row of a heat map is one unit, each column one
    # character read. Gates near 1 (yellow) let through, near 0 (dark) block.
    #
    # - A GRU unit whose z stays near 1 along the name carries its state
    #   (Γu ≈ 0: "do not update"); one whose z drops at a character rewrites
    #   itself there. An LSTM unit's forget gate near 1 keeps c<t>, while its
    #   input gate decides how much of c̃<t> is written in.
    # - The LSTMs' memory c<t> (unbounded, unlike a<t>) drifts steadily in
    #   some units as the name goes on: with Γf ≈ 1 and a steady c̃<t> it adds
    #   up, a counter of characters read, which a name model needs to decide
    #   when to write EOS.
    # - Many gate values sit near 0 or 1 (switches), others in between
    #   (blending). The share printed below is that fraction of near-0/near-1
    #   values for this name; it depends on the cell, its size and its
    #   training, and is not a measure of quality.
    print(
        "\nshare of gate values below 0.1 or above 0.9:",
        {name: round(value, 3) for name, value in results["saturated"].items()},
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="tiny models, 1 epoch (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots")
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS's)")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out, data_dir=arguments.data_dir)
