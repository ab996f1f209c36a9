"""Real text: seqzoo's defaults against a plain Keras baseline on the same split (issue 14, item 5).

The task, `docstrings`: which library does a sentence of documentation come
from? Each text is the summary paragraph of a public function's or class's
docstring, as its authors wrote it, in one of four libraries that every
seqzoo install has: `keras`, `matplotlib`, `numpy` and `python` (the
standard library). It is the shape of TensorFlow's Stack Overflow tag
tutorial, built offline from the installed packages: `build_dataset` walks a
fixed list of modules in sorted order, keeps texts of 4 words or more, drops
texts found under two labels, draws `PER_CLASS` texts per label with a seeded
NumPy generator, and writes `text,label,split` (80/10/10) to a CSV file.

On that file's split it trains:

- seqzoo's defaults through the public API, `seqzoo.train(model,
  "csv:<file>", seed=seed, epochs=..., patience=...)`: the csv task's
  defaults (word tokens, 20,000-token vocabulary) and the named config as it
  is;
- a plain Keras model as a Keras user writes it: `TextVectorization`
  (20,000 tokens), `Embedding(64, mask_zero=True)`,
  `Bidirectional(LSTM(64))`, `Dropout(0.5)`, `Dense`, Adam 1e-3, batch 32,
  `EarlyStopping(val_loss, patience, restore_best_weights=True)`.

Usage:

    python benchmarks/text_quality.py --out /tmp/tq --seeds 0 1 2     # keras (the baseline), lstm_bi, gru_bi
    python benchmarks/text_quality.py --out /tmp/tq --models gru_bi --set backbone.recurrent_dropout=0.0
    python benchmarks/text_quality.py --out /tmp/tq --models gru_bi --task-option tokenizer=chars

It writes `<out>/docstrings.csv`, keeps each seqzoo run folder under `<out>`,
prints one JSON line per run and writes them all to `<out>/results.json`.
"""

import argparse
import collections
import csv
import importlib
import inspect
import json
import os
import re
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's seqzoo, installed or not
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

PER_CLASS = 650
MIN_WORDS = 4
SHARES = (("train", 0.8), ("validation", 0.1), ("test", 0.1))
# The modules walked for each label; an object counts only if it is defined in its label's library.
SOURCES = {
    "keras": (
        "keras.activations keras.backend keras.callbacks keras.config keras.constraints keras.distribution "
        "keras.dtype_policies keras.initializers keras.layers keras.losses keras.metrics keras.mixed_precision "
        "keras.models keras.ops keras.optimizers keras.quantizers keras.random keras.regularizers keras.saving "
        "keras.tree keras.utils"
    ),
    "matplotlib": (
        "matplotlib.animation matplotlib.axes matplotlib.axis matplotlib.colors matplotlib.figure matplotlib.lines "
        "matplotlib.patches matplotlib.pyplot matplotlib.text matplotlib.ticker"
    ),
    "numpy": (
        "numpy numpy.char numpy.fft numpy.lib.recfunctions numpy.linalg numpy.ma numpy.polynomial numpy.random "
        "numpy.rec numpy.testing"
    ),
    "python": (
        "argparse asyncio base64 bisect calendar collections configparser contextlib copy csv datetime decimal "
        "difflib email.message enum fractions functools glob gzip hashlib heapq html.parser http.client inspect io "
        "ipaddress itertools json logging math multiprocessing os os.path pathlib pickle queue random re sched "
        "shutil socket sqlite3 statistics string struct subprocess tarfile tempfile textwrap threading time "
        "traceback typing unittest urllib.request uuid warnings zipfile"
    ),
}
SIGNATURE = re.compile(r"^[\w.]+\(.*\)(\s*->.*)?$")  # C functions' docstrings may start with one.


def summaries(modules, library):
    """The summary paragraphs of the public functions, classes and methods of `modules`.

    Args:
        modules: module names, e.g. `["numpy", "numpy.linalg"]`.
        library: the library the objects must be defined in: `"python"` for
            the standard library, else the root package of their `__module__`.

    Returns:
        The paragraphs of `MIN_WORDS` words or more, whitespace collapsed, in
        a fixed order (modules, then names, sorted); duplicates are kept.
    """
    texts = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in sorted(key for key in dir(module) if not key.startswith("_")):
            value = getattr(module, name, None)
            members = [value]
            if inspect.isclass(value):
                members += [getattr(value, key, None) for key in sorted(vars(value)) if not key.startswith("_")]
            for member in members:
                if (inspect.isroutine(member) or inspect.isclass(member)) and _library(member) == library:
                    text = _summary(inspect.getdoc(member) or "")
                    if len(text.split()) >= MIN_WORDS:
                        texts.append(text)
    return texts


def _library(value):
    """The root package that defines `value`, or `"python"` for the standard library."""
    root = (getattr(value, "__module__", None) or "").split(".")[0]
    return "python" if root in sys.stdlib_module_names else root


def _summary(docstring):
    """A docstring's first paragraph that is not a call signature, on one line."""
    for paragraph in re.split(r"\n\s*\n", docstring.strip()):
        text = " ".join(paragraph.split())
        if text and not SIGNATURE.match(text):
            return text
    return ""


def build_dataset(path, seed=0, per_class=PER_CLASS):
    """Writes the `docstrings` task to a CSV file: `text,label,split`.

    The file is the same in every new Python process with the same package
    versions. A program that replaces a walked object first (pytest replaces
    `threading.excepthook`) may draw another one.

    Args:
        path: the CSV file to write.
        seed: the seed of the draw of texts and of the 80/10/10 split.
        per_class: texts per label (every label has at least this many).

    Returns:
        `{split: {label: count}}`.

    Example:

    >>> build_dataset("/tmp/docstrings.csv")["test"]
    {'keras': 65, 'matplotlib': 65, 'numpy': 65, 'python': 65}
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Deprecated members warn when read.
        found = {label: summaries(modules.split(), label) for label, modules in SOURCES.items()}
    labels_of = collections.defaultdict(set)
    for label, texts in found.items():
        for text in texts:
            labels_of[text].add(label)
    rng = np.random.default_rng(seed)
    rows = []
    for label, texts in found.items():
        unique = sorted({text for text in texts if len(labels_of[text]) == 1})
        if len(unique) < per_class:
            raise ValueError(f"Only {len(unique)} texts for {label!r}, fewer than per_class={per_class}.")
        chosen = [unique[i] for i in rng.choice(len(unique), per_class, replace=False)]
        bounds = np.cumsum([round(per_class * share) for _, share in SHARES])
        for position, text in enumerate(chosen):
            split = SHARES[int(np.searchsorted(bounds, position, side="right"))][0]
            rows.append((text, label, split))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(("text", "label", "split"))
        writer.writerows(rows)
    counts = {split: collections.Counter() for split, _ in SHARES}
    for _, label, split in rows:
        counts[split][label] += 1
    return {split: dict(sorted(count.items())) for split, count in counts.items()}


def read_split(path):
    """`{split: (texts, class ids)}` and the class names (sorted) of a CSV written by `build_dataset`."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    names = sorted({row["label"] for row in rows})
    splits = {split: ([], []) for split, _ in SHARES}
    for row in rows:
        splits[row["split"]][0].append(row["text"])
        splits[row["split"]][1].append(names.index(row["label"]))
    return splits, names


def train_seqzoo(model, path, seed, epochs, patience, out, task_options=None, **overrides):
    """Trains a named model on `csv:<path>` (the task's defaults unless `task_options`); returns its numbers."""
    import seqzoo

    start = time.time()
    options = dict(seed=seed, epochs=epochs, patience=patience, out=out, task_options=task_options, verbose=0)
    run = seqzoo.RunFolder(seqzoo.train(model, f"csv:{path}", **options, **overrides))
    seconds = time.time() - start
    history = {key: [float(row[key]) for row in run.history()] for key in ("val_loss", "accuracy", "val_accuracy")}
    return _numbers(run.metrics()["accuracy"], **history, seconds=seconds)


def train_keras(path, seed, epochs, patience, max_tokens=20000, embedding_dim=64, units=64, dropout=0.5):
    """Trains the plain Keras baseline on the same split; returns its numbers."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    start = time.time()
    splits, names = read_split(path)
    vectorize = keras.layers.TextVectorization(max_tokens=max_tokens)
    vectorize.adapt(splits["train"][0])

    def dataset(split, shuffle=False):
        texts, labels = splits[split]
        data = tf.data.Dataset.from_tensor_slices((texts, labels))
        data = data.shuffle(len(texts), seed=seed) if shuffle else data
        return data.batch(32).map(lambda x, y: (vectorize(x), y)).prefetch(tf.data.AUTOTUNE)

    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int64"),
            keras.layers.Embedding(vectorize.vocabulary_size(), embedding_dim, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(units)),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(len(names)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(
        dataset("train", shuffle=True),
        validation_data=dataset("validation"),
        epochs=epochs,
        callbacks=[stop],
        verbose=0,
    ).history
    accuracy = model.evaluate(dataset("test"), verbose=0, return_dict=True)["accuracy"]
    return _numbers(accuracy, history["val_loss"], history["accuracy"], history["val_accuracy"], time.time() - start)


def _numbers(test_accuracy, val_loss, accuracy, val_accuracy, seconds):
    best = int(np.argmin(val_loss))
    return {
        "test_accuracy": round(float(test_accuracy), 4),
        "epochs": len(val_loss),
        "best_epoch": best + 1,
        "train_accuracy_epoch1": round(accuracy[0], 4),
        "val_accuracy_epoch1": round(val_accuracy[0], 4),
        "train_accuracy_best": round(accuracy[best], 4),
        "val_accuracy_best": round(val_accuracy[best], 4),
        "seconds": round(seconds, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/text_quality")
    parser.add_argument(
        "--models", nargs="+", default=["keras", "lstm_bi", "gru_bi"], help="seqzoo names; keras: the baseline"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides (YAML values)")
    parser.add_argument("--task-option", nargs="*", default=[], metavar="KEY=VALUE", help="csv task options")
    args = parser.parse_args()
    import yaml

    overrides = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    task_options = dict(item.split("=", 1) for item in args.task_option)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.abspath(os.path.join(args.out, "docstrings.csv"))
    print(json.dumps({"dataset": path, "sizes": build_dataset(path)}), flush=True)
    results = []
    for seed in args.seeds:
        for model in args.models:
            load = os.getloadavg()[0]
            if model == "keras":
                numbers = train_keras(path, seed, args.epochs, args.patience)
            else:
                settings = args.set + args.task_option
                tag = "-".join([model, f"seed{seed}"] + [item.replace("=", "_") for item in settings])
                folder = os.path.join(args.out, tag)
                numbers = train_seqzoo(model, path, seed, args.epochs, args.patience, folder, task_options, **overrides)
            result = {"model": model, "seed": seed, "set": settings if model != "keras" else [], **numbers}
            result["load"] = [round(load, 1), round(os.getloadavg()[0], 1)]
            print(json.dumps(result), flush=True)
            results.append(result)
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(results, file, indent=1)


if __name__ == "__main__":
    main()
