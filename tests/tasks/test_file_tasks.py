"""`csv:PATH` and `folder:PATH`: a user's own labelled texts, written for real to a temporary folder."""

import csv
import json
import os

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.tasks import FileClassificationTask

# Each class has its own words, so a tiny model can tell them apart in a few epochs.
WORDS = {
    "neg": ["bad", "awful", "dull", "boring", "poor"],
    "pos": ["good", "great", "superb", "lovely", "fun"],
    "meh": ["okay", "fine", "average", "plain", "so-so"],
}
FILLER = ["the", "film", "was", "and", "a", "plot"]


def sentences(count, classes=("neg", "pos"), seed=0):
    """`count` short texts (`(text, label)`), the classes in turn."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        label = classes[i % len(classes)]
        words = list(rng.choice(WORDS[label], 3)) + list(rng.choice(FILLER, 2))
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


def write_table(path, header, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_folder(root, rows):
    for i, (text, label) in enumerate(rows):
        os.makedirs(root / label, exist_ok=True)
        (root / label / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    return str(root)


def split_texts(task):
    """`{split: [(text, label name)]}` read back through the task's raw examples."""
    names = task.class_names()
    return {
        split: [(row["text"].decode(), names[row["label"]]) for row in task.raw(split).as_numpy_iterator()]
        for split in ("train", "validation", "test")
    }


def train_briefly(task, epochs=8):
    """A tiny named model, trained on the task's batches; returns the train loss before and after, and it."""
    keras.utils.set_random_seed(0)
    model = seqzoo.build(
        "gru_uni",
        task=task,
        **{"backbone.units": 16, "inputs.embedding_dim": 16, "optimizer.learning_rate": 0.02},
    )
    before = model.evaluate(task.batches("train", 8), verbose=0, return_dict=True)["loss"]
    model.fit(task.batches("train", 8, shuffle=True), epochs=epochs, verbose=0)
    after = model.evaluate(task.batches("train", 8), verbose=0, return_dict=True)["loss"]
    return before, after, model


def test_csv_task_splits_80_10_10_by_seed_and_trains(tmp_path):
    rows = sentences(60)
    path = write_table(tmp_path / "reviews.csv", ["id", "text", "label"], [(i, *row) for i, row in enumerate(rows)])
    task = seqzoo.load_task(f"csv:{path}")
    assert isinstance(task, FileClassificationTask)
    assert task.name == f"csv:{path}" and task.options == {}
    assert task.class_names() == ["neg", "pos"]
    texts = split_texts(task)
    assert {split: len(items) for split, items in texts.items()} == {"train": 48, "validation": 6, "test": 6}
    assert sorted(sum(texts.values(), [])) == sorted(rows)  # every row once, with its label
    # The split follows from the seed alone.
    assert split_texts(seqzoo.load_task(f"csv:{path}", seed=0)) == texts
    other = split_texts(seqzoo.load_task(f"csv:{path}", seed="1"))  # a CLI string
    assert other != texts and sorted(sum(other.values(), [])) == sorted(rows)
    # Words, tokenized and counted on the training split only.
    train_words = {word for text, _ in texts["train"] for word in text.split()}
    assert task.model_spec() == {
        "topology": "many_to_one",
        "inputs": {"type": "tokens", "vocab_size": len(train_words) + 4},
        "outputs": {"type": "classes", "size": 2},
    }
    vocabulary = task.vocabularies["inputs"]
    for (text, label), (x, y) in zip(texts["train"], task.examples("train").as_numpy_iterator()):
        assert vocabulary.decode(x) == text.split() and y == ["neg", "pos"].index(label)
    before, after, model = train_briefly(task)
    assert after < 0.5 * before
    results = task.evaluate(model, "validation")
    assert set(results) == {"loss", "accuracy"} and results["accuracy"] >= 5 / 6


def test_csv_split_column_and_three_classes(tmp_path):
    rows = sentences(45, classes=("neg", "pos", "meh"))
    splits = ["train"] * 30 + ["Validation "] * 6 + ["test"] * 9  # case and spaces do not matter
    path = write_table(
        tmp_path / "data.csv",
        ["label", "text", "split"],
        [(label, text, split) for (text, label), split in zip(rows, splits)],
    )
    task = seqzoo.load_task(f"csv:{path}")
    texts = split_texts(task)
    assert texts == {"train": rows[:30], "validation": rows[30:36], "test": rows[36:]}
    assert task.class_names() == ["meh", "neg", "pos"]  # sorted
    assert task.model_spec()["outputs"] == {"type": "classes", "size": 3}


def test_csv_split_column_without_validation_draws_it_from_train(tmp_path):
    rows = sentences(50)
    path = write_table(
        tmp_path / "data.csv",
        ["text", "label", "split"],
        [(*row, "test" if i < 10 else "train") for i, row in enumerate(rows)],
    )
    texts = split_texts(seqzoo.load_task(f"csv:{path}"))
    assert texts["test"] == rows[:10]
    assert len(texts["validation"]) == 4 and len(texts["train"]) == 36  # 10% of the 40 training rows
    assert sorted(texts["train"] + texts["validation"]) == sorted(rows[10:])


def test_tsv_and_other_columns_and_delimiters(tmp_path):
    rows = sentences(30)
    tsv = write_table(tmp_path / "data.tsv", ["review", "stars"], rows, delimiter="\t")
    task = seqzoo.load_task(f"csv:{tsv}", text_column="review", label_column="stars", tokenizer="chars")
    assert sorted(sum(split_texts(task).values(), [])) == sorted(rows)
    characters = {c for text, _ in split_texts(task)["train"] for c in text}
    assert task.model_spec()["inputs"]["vocab_size"] == len(characters) + 4
    semicolons = write_table(tmp_path / "data.txt", ["text", "label"], rows, delimiter=";")
    assert split_texts(seqzoo.load_task(f"csv:{semicolons}", delimiter=";")) == split_texts(
        seqzoo.load_task(f"csv:{tsv}", text_column="review", label_column="stars")
    )
    # Numbers as labels sort as numbers.
    numbered = write_table(
        tmp_path / "n.csv", ["text", "label"], [(text, {"neg": "10", "pos": "2"}[label]) for text, label in rows]
    )
    assert seqzoo.load_task(f"csv:{numbered}").class_names() == ["2", "10"]


def test_csv_task_reloads_from_its_recorded_options_anywhere(tmp_path, monkeypatch):
    rows = sentences(40)
    (tmp_path / "data").mkdir()
    write_table(tmp_path / "data" / "texts.csv", ["text", "label"], rows)
    monkeypatch.chdir(tmp_path)
    task = seqzoo.load_task("csv:data/texts.csv", seed=3, max_length="4", max_vocab=12)
    assert task.name == f"csv:{tmp_path / 'data' / 'texts.csv'}"  # absolute
    assert task.options == {"seed": 3, "max_length": "4", "max_vocab": 12}
    record = json.loads(json.dumps({"task": task.name, "options": task.options}))  # as a run folder keeps it
    task.save_vocabularies(tmp_path)
    assert len(task.vocabularies["inputs"]) == 12 + 4
    monkeypatch.chdir(tmp_path / "data")
    again = seqzoo.load_task(record["task"], **record["options"]).load_vocabularies(tmp_path)
    assert split_texts(again) == split_texts(task)
    assert again.vocabularies["inputs"].inverse == task.vocabularies["inputs"].inverse
    for (x1, y1), (x2, y2) in zip(
        task.examples("test").as_numpy_iterator(), again.examples("test").as_numpy_iterator()
    ):
        np.testing.assert_array_equal(x1, x2)
        assert y1 == y2 and len(x1) <= 4


def test_csv_task_trains_into_a_run_folder(tmp_path, monkeypatch):
    path = write_table(tmp_path / "texts.csv", ["text", "label"], sentences(40))
    run = seqzoo.train(
        "gru_uni",
        f"csv:{path}",
        epochs=2,
        batch_size=8,
        out=str(tmp_path / "run"),
        verbose=0,
        **{"backbone.units": 8, "inputs.embedding_dim": 8},
    )
    with open(os.path.join(run, "metrics.json")) as file:
        results = json.load(file)
    monkeypatch.chdir(tmp_path / "run")
    again = seqzoo.evaluate(run, batch_size=8)
    assert again == pytest.approx(results, rel=1e-4)


def test_folder_task(tmp_path):
    rows = sentences(50, classes=("pos", "neg", "meh"))
    path = write_folder(tmp_path / "texts", rows)
    (tmp_path / "texts" / "pos" / "notes.md").write_text("not a text: only .txt files are read")
    task = seqzoo.load_task(f"folder:{path}", seed=2)
    assert task.name == f"folder:{path}" and task.class_names() == ["meh", "neg", "pos"]
    texts = split_texts(task)
    assert {split: len(items) for split, items in texts.items()} == {"train": 40, "validation": 5, "test": 5}
    assert sorted(sum(texts.values(), [])) == sorted(rows)
    before, after, _ = train_briefly(task)
    assert after < 0.5 * before


def test_folder_with_split_subfolders(tmp_path):
    train, test = sentences(40), sentences(10, seed=1)
    write_folder(tmp_path / "texts" / "train", train)
    write_folder(tmp_path / "texts" / "test", test)
    texts = split_texts(seqzoo.load_task(f"folder:{tmp_path / 'texts'}"))
    assert sorted(texts["test"]) == sorted(test)
    assert len(texts["validation"]) == 4 and sorted(texts["train"] + texts["validation"]) == sorted(train)
    write_folder(tmp_path / "texts" / "validation", sentences(6, seed=2))
    texts = split_texts(seqzoo.load_task(f"folder:{tmp_path / 'texts'}"))
    assert {split: len(items) for split, items in texts.items()} == {"train": 40, "validation": 6, "test": 10}


@pytest.mark.parametrize(
    "header, rows, options, message",
    [
        (None, None, {}, "No such file: '.*missing.csv'"),
        ([], [], {}, "is empty: a header row"),
        (["text", "label"], [], {}, "has no texts"),
        (["text", "label"], [("good film", "pos")] * 5, {}, "only one class, 'pos' \\(5 texts\\)"),
        (
            ["txt", "label"],
            [("a", "x"), ("b", "y")],
            {},
            "no text column 'text'. Did you mean 'txt'.*columns .*'txt', 'label'",
        ),
        (["text", "stars"], [("a", "1")], {"label_column": "star"}, "no label column 'star'. Did you mean 'stars'"),
        (
            ["text", "label", "split"],
            [("a", "x", "train"), ("b", "y", "dev")],
            {},
            "'dev'.*allowed: train, validation, test",
        ),
        (["text", "label", "split"], [("a", "x", "tran")], {}, "'tran' \\(did you mean 'train'\\?\\)"),
        (["text", "label"], [("a", "")], {}, "row 2: no label"),
        (["text", "label"], [("a", "x"), ("b", "y")] * 2, {}, "no texts in validation or test \\(4 texts in all\\)"),
        (
            ["text", "label"],
            [("a", "x")],
            {"text_colum": "t"},
            "Unknown option 'text_colum'. Did you mean 'text_column'",
        ),
        (
            ["text", "label"],
            [("a", "x")],
            {"tokenizer": "word"},
            "Unknown tokenizer 'word'. Did you mean 'words'.*chars, words",
        ),
        (["text", "label"], [("a", "x")], {"seed": "one"}, "seed must be a whole number, received 'one'"),
        (["text", "label"], [("a", "x")], {"delimiter": ";;"}, "delimiter must be one character"),
    ],
)
def test_csv_errors(tmp_path, header, rows, options, message):
    path = tmp_path / "missing.csv"
    if header is not None:
        path = tmp_path / "data.csv"
        if header:
            write_table(path, header, rows)
        else:
            path.write_text("")
    with pytest.raises(ValueError, match=message) as error:
        seqzoo.load_task(f"csv:{path}", **options)
    assert "\n" not in str(error.value)


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="No such folder"):
        seqzoo.load_task(f"folder:{tmp_path / 'nothing'}")
    with pytest.raises(ValueError, match="has no subfolders"):
        seqzoo.load_task(f"folder:{tmp_path}")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.md").write_text("not read")
    with pytest.raises(ValueError, match="no .txt files in its subfolders a, b"):
        seqzoo.load_task(f"folder:{tmp_path}")
    (tmp_path / "a" / "x.txt").write_text("some text")
    with pytest.raises(ValueError, match="only one class, 'a'"):
        seqzoo.load_task(f"folder:{tmp_path}")
    with pytest.raises(ValueError, match="Unknown option 'text_column'.*max_length"):
        seqzoo.load_task(f"folder:{tmp_path}", text_column="text")
    with pytest.raises(ValueError, match="needs a path after 'folder:'"):
        seqzoo.load_task("folder:")


def test_csv_quoted_fields_may_hold_commas_and_newlines(tmp_path):
    rows = sentences(20)
    rows[0] = ('a "great", lovely\nfilm', "pos")
    path = write_table(tmp_path / "quoted.csv", ["text", "label"], rows)
    texts = split_texts(seqzoo.load_task(f"csv:{path}"))
    assert sorted(sum(texts.values(), [])) == sorted(rows)
