"""Export: a SavedModel whose `generate` (or `classify`) takes strings, run where neither seqzoo nor Keras is.

The exported models are tiny and untrained; the reference for every output
is `seqzoo.generate` (or the model itself) in this process. The SavedModel
is loaded in a subprocess where importing `keras` or `seqzoo` fails (as in a
serving environment that has only TensorFlow: TensorFlow imports Keras when
it is installed, so it is blocked there).
"""

import json
import os
import shutil
import subprocess
import sys
import types

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.inference.export import export
from seqzoo.tasks.vocabulary import Vocabulary

pytestmark = [
    pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a SavedModel needs TensorFlow"),
    pytest.mark.xdist_group("export"),  # One worker exports the models once for every test.
]

CHARS = list("abcdefgh")
SOURCE = list("0123456789 -")
MAX_LENGTH = 10

# TensorFlow imports Keras when it is installed: a serving environment without it is made by refusing the import.
WITHOUT_KERAS = r"""
import importlib.abc, importlib.machinery, json, sys


class Block(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("keras", "seqzoo"):
            return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        raise ImportError(f"{spec.name} is not installed here")

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, Block())
"""

LOADER = (
    WITHOUT_KERAS
    + r"""
import tensorflow as tf

calls, checks = json.loads(sys.argv[1])
loaded = {}  # Each folder loaded once and held: its functions need its variables.
results, refusals = [], []
for folder, endpoint, texts, kwargs in calls:
    model = loaded.setdefault(folder, tf.saved_model.load(folder))
    value = getattr(model, endpoint)(tf.constant(texts), **kwargs).numpy()
    results.append(value.tolist() if value.dtype != object else [v.decode("utf-8") for v in value])
for folder, texts, kwargs in checks:
    model = loaded.setdefault(folder, tf.saved_model.load(folder))
    try:
        model.generate(tf.constant(texts), **kwargs)
        refusals.append("ok")
    except tf.errors.InvalidArgumentError as error:
        refusals.append(error.message)
print(json.dumps([results, refusals, sorted(name for name in ("keras", "seqzoo") if name in sys.modules)]))
"""
)


def _task(**fields):
    task = types.SimpleNamespace(**fields)
    task.prepare = lambda: task
    return task


def run_without_keras(calls, checks=()):
    """Runs exported models in one subprocess without Keras or seqzoo.

    Args:
        calls: `(folder, endpoint, texts, kwargs)` calls whose results are wanted.
        checks: `(folder, texts, kwargs)` calls of `generate` that may be refused.

    Returns:
        The calls' results, or with `checks`, `(results, refusals)`: each
        check's error message, or `"ok"`.
    """
    process = subprocess.run(
        [sys.executable, "-c", LOADER, json.dumps([calls, checks])],
        capture_output=True,
        text=True,
        timeout=600,
        cwd="/",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    results, refusals, imported = json.loads(process.stdout.strip().splitlines()[-1])
    assert imported == []
    return (results, refusals) if checks else results


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(folder, model, task) per kind of model, each exported once."""
    folder = tmp_path_factory.mktemp("exported")
    keras.utils.set_random_seed(0)
    cases = {
        "lm": (
            seqzoo.build("gru_char_lm", **{"backbone.units": 8, "inputs.vocab_size": 12, "inputs.embedding_dim": 4}),
            _task(vocabularies={"inputs": Vocabulary(CHARS)}, tokenizer="chars"),
        ),
        "translator": (
            seqzoo.build(
                "lstm_seq2seq_attention",
                **{"backbone.units": 6, "inputs.vocab_size": 16, "targets.vocab_size": 12, "targets.embedding_dim": 5},
            ),
            _task(
                vocabularies={"source": Vocabulary(SOURCE), "target": Vocabulary(CHARS)},
                tokenizer="chars",
                decoding_pattern=lambda: None,
            ),
        ),
        "conditioned": (
            seqzoo.build("gru_conditioned_char_lm", **{"backbone.units": 8, "inputs.vocab_size": 12}),
            _task(vocabularies={"inputs": Vocabulary(CHARS)}, tokenizer="chars", condition_names=lambda: ["f", "m"]),
        ),
        "classifier": (
            seqzoo.build(
                "gru_uni", **{"backbone.units": 8, "inputs.vocab_size": 10, "outputs": {"type": "classes", "size": 3}}
            ),
            _task(
                vocabularies={"inputs": Vocabulary(["the", "cat", "sat", "dog", "ran", "on"])},
                tokenizer="words",
                class_names=lambda: ["x", "y", "z"],
            ),
        ),
    }
    out = {}
    for name, (model, task) in cases.items():
        path = str(folder / name)
        expected = ["serve", "classify", "class_names"] if name == "classifier" else ["serve", "generate"]
        assert export(model, task, path, max_length=MAX_LENGTH) == expected
        out[name] = (path, model, task)
    return out


PREFIXES, SOURCES, CONDITIONS = ["ab", "", "hh"], ["12 3", "2020-01 9"], ["f", "m", "m"]
SENTENCES = ["the cat sat", "dog ran on the cat", "unknown words"]


@pytest.fixture(scope="module")
def served(exported):
    """(results, refusals) of the exported models, from one process where importing Keras or seqzoo fails."""
    lm, translator, conditioned, classifier = (
        exported[name][0] for name in ("lm", "translator", "conditioned", "classifier")
    )
    calls = [
        (lm, "generate", PREFIXES, {"temperature": 0.0}),
        (lm, "generate", PREFIXES, {"beam": 3}),
        (lm, "generate", PREFIXES, {"temperature": 0.7, "seed": 5}),
        (lm, "generate", PREFIXES, {"temperature": 0.7, "seed": 5}),
        (translator, "generate", SOURCES, {}),
        (translator, "generate", SOURCES, {"beam": 2}),
        (conditioned, "generate", CONDITIONS, {"temperature": 0.0}),
        (classifier, "classify", SENTENCES, {}),
    ]
    checks = [
        (lm, ["ab"], {"temperature": -5.0}),
        (lm, ["ab"], {"temperature": float("nan")}),
        (lm, ["ab"], {"temperature": float("inf")}),
        (lm, ["ab"], {"beam": -3}),
        (lm, ["ab", "aXb", "Zh"], {"temperature": 0.0}),
        (translator, ["12 3", "12 x"], {}),
        (lm, ["ab", ""], {"temperature": 0.0, "beam": 0}),  # The documented greedy and no-beam values.
        (lm, ["ab"], {"beam": 2}),
    ]
    return run_without_keras(calls, checks)


def test_exported_generate_and_classify_need_neither_seqzoo_nor_keras(exported, served):
    lm, translator, conditioned, classifier = (
        exported[name] for name in ("lm", "translator", "conditioned", "classifier")
    )
    (greedy, beam, sampled, again, translated, translated_beam, by_condition, probabilities), _ = served

    def reference(case, **kwargs):
        return seqzoo.generate(case[1], task=None, max_length=MAX_LENGTH, **kwargs)

    def text(ids):
        return "".join(Vocabulary(CHARS).decode(ids))

    lm_prefixes = [Vocabulary(CHARS).encode(list(p)) if p else None for p in PREFIXES]
    assert greedy == [text(reference(lm, prefix=p, greedy=True)[0]) for p in lm_prefixes]
    assert beam == [text(reference(lm, prefix=p, beam=3)[0]) for p in lm_prefixes]
    assert sampled == again and all(row.startswith(p) for row, p in zip(sampled, PREFIXES))
    assert all(set(row) <= set(CHARS) for row in sampled)
    source_ids = [Vocabulary(SOURCE).encode(list(s)) for s in SOURCES]
    assert translated == [text(ids) for ids in reference(translator, source=source_ids)]
    assert translated_beam == [text(ids) for ids in reference(translator, source=source_ids, beam=2)]
    assert by_condition == [text(ids) for ids in reference(conditioned, condition=[0, 1, 1], greedy=True)]
    ids = [Vocabulary(classifier[2].vocabularies["inputs"].tokens).encode(s.split()) for s in SENTENCES]
    padded = np.array([row + [0] * (5 - len(row)) for row in ids], "int32")
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(classifier[1](padded), axis=-1))
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_exported_generate_refuses_what_the_command_refuses(served):
    """Checked inside the graph, in a process that imports only TensorFlow, each error naming its argument."""
    _, refusals = served
    negative, nan, infinite, beam, prefix, source, greedy, searched = refusals
    for message, value in ((negative, "-5"), (nan, "nan"), (infinite, "inf")):
        assert f"[Received temperature=] [{value}] [; it must be a finite number > 0, or 0" in message
    assert "[Received beam=] [-3] [; it must be an integer >= 1, or 0 for no beam search.]" in beam
    assert "Received prefix texts with tokens not in the vocabulary:] [aXb Zh]" in prefix.replace('"', "")
    assert "Received source texts with tokens not in the vocabulary:] [12 x]" in source.replace('"', "")
    assert greedy == searched == "ok"


def test_export_replaces_only_a_saved_model_and_only_with_overwrite(exported, tmp_path):
    lm, lm_model, lm_task = exported["lm"]
    _, translator_model, translator_task = exported["translator"]
    out = str(tmp_path / "model")
    shutil.copytree(lm, out)  # The fixture exported it to a new folder.
    first = (tmp_path / "model" / "fingerprint.pb").read_bytes()
    with pytest.raises(
        ValueError, match=r"holds a SavedModel already; pass overwrite=True \(seqzoo export --overwrite"
    ):
        export(translator_model, translator_task, out)
    assert (tmp_path / "model" / "fingerprint.pb").read_bytes() == first
    assert export(translator_model, translator_task, out, overwrite=True) == ["serve", "generate"]
    assert (tmp_path / "model" / "fingerprint.pb").read_bytes() != first
    assert sorted(os.listdir(tmp_path)) == ["model"]  # Written beside and renamed: nothing left over.
    assert sorted(os.listdir(out)) == sorted(os.listdir(lm))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export(lm_model, lm_task, str(empty)) == ["serve", "generate"]  # An empty folder is as good as none.
