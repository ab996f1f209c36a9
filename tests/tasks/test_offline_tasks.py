"""The offline tasks on seqzoo's own datasets: model specs, batches, vocabularies.

The datasets are generated for real (from installed packages) once per test
session into a shared temporary TFDS folder; chorales use the builder's
"small" config (the task option `config`).
"""

import subprocess
import sys

import numpy as np
import pytest

import seqzoo
from seqzoo.tasks.tokenizers import join
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import PAD_ID
from seqzoo.tasks.vocabulary import UNK_ID
from seqzoo.tasks.vocabulary import Vocabulary

OFFLINE = ["japanese_vowels", "names", "names_by_gender", "dates", "chorales", "chorales_harmony"]
DOWNLOADING = ["conll2003", "imdb_reviews", "ted_hrlr_translate/pt_to_en", "tiny_shakespeare"]
SMALL_CHORALES = {"config": "small"}
FEW_DATES = {"splits": {"train": "train[:2000]", "validation": "validation[:200]", "test": "test[:200]"}}


def load(name, data_dir, **options):
    defaults = {"chorales": SMALL_CHORALES, "chorales_harmony": SMALL_CHORALES, "dates": FEW_DATES}
    return seqzoo.load_task(name, data_dir=data_dir, **{**defaults.get(name, {}), **options})


def pairs(task, split, n=None):
    """`(raw example, (x, y))` for the first `n` examples of a split, as NumPy."""
    raw = task.raw(split)
    examples = task.examples(split)
    if n is not None:
        raw, examples = raw.take(n), examples.take(n)
    return list(zip(raw.as_numpy_iterator(), examples.as_numpy_iterator()))


def text(value):
    return value.decode("utf-8")


def check_framed(inputs, targets):
    """LM framing of one unpadded example: x = [BOS] + t, y = t + [EOS]."""
    assert inputs[0] == BOS_ID and targets[-1] == EOS_ID
    np.testing.assert_array_equal(inputs[1:], targets[:-1])
    assert len(inputs) == len(targets)
    assert PAD_ID not in inputs and PAD_ID not in targets


def check_padded_lm_batch(inputs, targets):
    """A padded LM batch: each row framed, then only zeros."""
    assert inputs.shape == targets.shape
    lengths = (targets != PAD_ID).sum(axis=1)
    for row, length in enumerate(lengths):
        check_framed(inputs[row, :length], targets[row, :length])
        assert not inputs[row, length:].any() and not targets[row, length:].any()
    return lengths


def test_list_tasks_offline_first():
    tasks = seqzoo.list_tasks()
    assert tasks[: len(OFFLINE)] == OFFLINE
    assert sorted(tasks[len(OFFLINE) :]) == DOWNLOADING


def test_vocabulary_specials_and_round_trip(tmp_path):
    vocab = Vocabulary.from_sequences([list("abca"), list("ab")])
    assert vocab.inverse == ["", "[UNK]", "[BOS]", "[EOS]", "a", "b", "c"]  # most frequent first
    assert len(vocab) == 7
    assert vocab.encode(list("cab")) == [6, 4, 5]
    assert vocab.encode(["z"]) == [UNK_ID]
    assert vocab.decode([BOS_ID, 6, 4, PAD_ID, 5, EOS_ID, 4]) == ["c", "a", "b"]  # stops at EOS
    assert vocab.decode([4, EOS_ID, 5], stop_at_eos=False) == ["a", "[EOS]", "b"]
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json").inverse == vocab.inverse


def test_japanese_vowels(data_dir):
    task = load("japanese_vowels", data_dir)
    assert task.model_spec() == {
        "topology": "many_to_one",
        "inputs": {"type": "features", "dim": 12},
        "outputs": {"type": "classes", "size": 9},
    }
    assert task.vocabularies == {}
    for raw, (x, y) in pairs(task, "train", 50):
        np.testing.assert_array_equal(x, raw["lpc"])
        assert x.dtype == np.float32 and x.shape[1] == 12 and 7 <= len(x) <= 29
        assert y == raw["speaker"]
    # 270 training utterances: train[:90%] and train[90%:]; 370 test.
    sizes = {split: sum(len(y) for _, y, _ in task.batches(split, 16)) for split in ("train", "validation", "test")}
    assert sizes == {"train": 243, "validation": 27, "test": 370}
    labels = np.concatenate([y.numpy() for _, y, _ in task.batches("test", 64)])
    assert set(labels.tolist()) == set(range(9))
    # Padding is all-zero steps after each utterance (what the Masking layer skips).
    for x, *_ in task.batches("train", 16).take(4):
        x = x.numpy()
        assert x.shape[0] <= 16 and x.shape[2] == 12
        lengths = (np.abs(x).sum(-1) != 0).sum(1)
        for row, length in enumerate(lengths):
            assert np.all(np.abs(x[row, :length]).sum(-1) != 0) and not x[row, length:].any()


def test_pipelines_run_without_the_autotune_thread(data_dir):
    """Freeing an autotuned iterator waits for tf.data's autotuning thread: minutes, under load (loading.py)."""
    task = seqzoo.load_task("japanese_vowels", data_dir=data_dir)
    assert task.raw("train").options().autotune.enabled is False
    batches = task.batches("train", 8, shuffle=True)
    assert batches.options().autotune.enabled is False
    assert sum(int((weights.numpy() > 0).sum()) for _, _, weights in batches) == 243  # Every example, once.


def test_names(data_dir):
    task = load("names", data_dir)
    chars = {c for raw in task.raw("train").as_numpy_iterator() for c in text(raw["name"])}
    spec = task.model_spec()
    assert spec == {"topology": "language_model", "inputs": {"type": "tokens", "vocab_size": len(chars) + 4}}
    vocab = task.vocabularies["inputs"]
    assert vocab.inverse[:4] == ["", "[UNK]", "[BOS]", "[EOS]"] and set(vocab.tokens) == chars
    for raw, (x, y) in pairs(task, "train", 100):
        check_framed(x, y)
        assert join(vocab.decode(y), "chars") == text(raw["name"])
        assert vocab.encode(list(text(raw["name"]))) == list(y[:-1])
    padded = 0
    for x, y, _ in task.batches("train", 32).take(10):
        lengths = check_padded_lm_batch(x.numpy(), y.numpy())
        padded += int((lengths < x.shape[1]).sum())
    assert padded > 0  # names of different lengths share batches


def test_names_max_length_truncates_before_framing(data_dir):
    task = load("names", data_dir, max_length=3)
    for raw, (x, y) in pairs(task, "train", 100):
        check_framed(x, y)
        assert len(y) == min(len(text(raw["name"])), 3) + 1


def test_names_by_gender(data_dir):
    task = load("names_by_gender", data_dir)
    spec = task.model_spec()
    assert spec["topology"] == "one_to_many"
    assert spec["condition"] == {"type": "classes", "size": 2}
    assert spec["inputs"] == load("names", data_dir).model_spec()["inputs"]
    vocab = task.vocabularies["inputs"]
    genders = set()
    for raw, (x, y) in pairs(task, "train", 200):
        assert set(x) == {"condition", "inputs"}
        assert x["condition"] == raw["gender"]
        genders.add(int(x["condition"]))
        check_framed(x["inputs"], y)
        assert join(vocab.decode(y), "chars") == text(raw["name"])
    assert genders == {0, 1}
    for x, y, _ in task.batches("train", 16).take(3):
        assert x["condition"].shape == (y.shape[0],)
        check_padded_lm_batch(x["inputs"].numpy(), y.numpy())


def test_dates(data_dir):
    task = load("dates", data_dir)
    spec = task.model_spec()
    source, target = task.vocabularies["source"], task.vocabularies["target"]
    assert spec == {
        "topology": "encoder_decoder",
        "inputs": {"type": "tokens", "vocab_size": len(source)},
        "targets": {"type": "tokens", "vocab_size": 15},  # 10 digits, "-", 4 specials
    }
    assert sorted(target.tokens) == sorted("0123456789-")
    for raw, (x, y) in pairs(task, "train", 100):
        human, iso = text(raw["human"]), text(raw["iso"])
        # decode(encode(x)) gives the date string back.
        assert join(source.decode(source.encode(list(human))), "chars") == human
        # The source is the date after its locale, which "3/9/24" needs to be unambiguous.
        assert join(source.decode(x["inputs"]), "chars") == f"{text(raw['locale'])} {human}"
        assert join(target.decode(y), "chars") == iso
        # decoder_inputs = [BOS] + target, y = target + [EOS].
        assert len(y) == len(iso) + 1 == 11
        assert x["decoder_inputs"][0] == BOS_ID and y[-1] == EOS_ID
        np.testing.assert_array_equal(x["decoder_inputs"][1:], y[:-1])
        np.testing.assert_array_equal(y[:-1], target.encode(list(iso)))
    for x, y, _ in task.batches("validation", 32).take(3):
        inputs = x["inputs"].numpy()
        targets = y.numpy() != PAD_ID  # ISO dates all have 10 characters, padded to the bucket's length.
        assert targets.sum(1).tolist() == [11] * len(y) and not targets[:, 11:].any()
        lengths = (inputs != PAD_ID).sum(1)
        assert all(not inputs[row, n:].any() for row, n in enumerate(lengths))


def test_chorales(data_dir):
    task = load("chorales", data_dir)
    spec = task.model_spec()
    assert spec["topology"] == "one_to_many" and spec["condition"] == {"type": "classes", "size": 2}
    vocab = task.vocabularies["inputs"]
    pitches = {int(p) for raw in task.raw("train").as_numpy_iterator() for p in raw["soprano"]}
    assert spec["inputs"] == {"type": "tokens", "vocab_size": len(pitches) + 4}
    for raw, (x, y) in pairs(task, "train"):
        check_framed(x["inputs"], y)
        assert x["condition"] == raw["mode"]
        assert [int(token) for token in vocab.decode(y)] == raw["soprano"].tolist()
    sizes = [sum(len(y) for _, y, _ in task.batches(split, 4)) for split in ("train", "validation", "test")]
    assert sizes == [24, 3, 3]


def test_chorales_harmony(data_dir):
    task = load("chorales_harmony", data_dir)
    spec = task.model_spec()
    vocab = task.vocabularies["inputs"]
    pitches = set()
    for raw in task.raw("train").as_numpy_iterator():
        pitches |= set(raw["soprano"].tolist()) | set(raw["bass"].tolist())
    size = len(pitches) + 4  # one vocabulary for soprano and bass
    assert spec == {
        "topology": "many_to_many",
        "inputs": {"type": "tokens", "vocab_size": size},
        "outputs": {"type": "classes", "size": size},
    }
    assert task.tag_names() is None
    for raw, (x, y) in pairs(task, "train"):
        assert len(x) == len(y) == len(raw["soprano"])  # one bass step per soprano step, no framing
        assert [int(t) for t in vocab.decode(x)] == raw["soprano"].tolist()
        assert [int(t) for t in vocab.decode(y)] == raw["bass"].tolist()
    for x, y, _ in task.batches("train", 4).take(3):
        x, y = x.numpy(), y.numpy()
        assert x.shape == y.shape
        np.testing.assert_array_equal(x == PAD_ID, y == PAD_ID)  # the same padding


def test_vocabularies_save_and_load(data_dir, tmp_path):
    task = load("dates", data_dir)
    task.save_vocabularies(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vocabulary_source.json", "vocabulary_target.json"]
    other = load("dates", data_dir).load_vocabularies(tmp_path)
    for side in ("source", "target"):
        assert other.vocabularies[side].inverse == task.vocabularies[side].inverse
    (x1, y1), (x2, y2) = (
        next(task.examples("test").as_numpy_iterator()),
        next(other.examples("test").as_numpy_iterator()),
    )
    np.testing.assert_array_equal(x1["inputs"], x2["inputs"])
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize(
    "task_name, model_name",
    [
        ("japanese_vowels", "gru_uni"),
        ("names", "gru_char_lm"),
        ("names_by_gender", "gru_conditioned_char_lm"),
        ("dates", "lstm_seq2seq_attention"),
        ("chorales", "lstm_music"),
        ("chorales_harmony", "lstm_bi_harmonizer"),
    ],
)
def test_named_model_fits_each_offline_task(data_dir, task_name, model_name):
    task = load(task_name, data_dir)
    model = seqzoo.build(model_name, task=task, **{"backbone.units": 8, "backbone.depth": 1})
    spec = task.model_spec()
    config = model.seqzoo_config
    assert config["topology"] == spec["topology"]
    for section in ("inputs", "outputs", "condition", "targets"):
        if section in spec:
            assert config[section].items() >= spec[section].items()
    x, y, _ = next(iter(task.batches("train", 4)))
    logits = np.asarray(model(x))
    size = spec.get("outputs", spec.get("targets", spec["inputs"]))
    size = size.get("size", size.get("vocab_size"))
    assert logits.shape == tuple(y.shape) + (size,)
    # An untrained model is close to uniform: its loss is near ln(number of classes).
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert abs(loss - np.log(size)) < 0.5 * np.log(size)


def test_two_processes_preparing_one_dataset_at_once_both_read_it(tmp_path, subprocess_env):
    # TFDS prepares in a temporary folder renamed into place: without the lock, the second rename fails.
    read = (
        "import sys; from seqzoo.tasks.loading import load_split; "
        "print(sum(1 for _ in load_split('seqzoo_japanese_vowels', 'train', sys.argv[1])))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", read, str(tmp_path)], env=subprocess_env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    assert [output.split()[-1] for output in outputs] == ["270", "270"]  # after TFDS's own lines
    assert len(list((tmp_path / "seqzoo_japanese_vowels").glob("*/dataset_info.json"))) == 1
