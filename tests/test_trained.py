"""`seqzoo.load` / `from_preset`: one object per trained run, and `seqzoo predict`, `score`, `show RUN`, `--json`.

The shipped presets answer without training; one tiny classifier is trained
for a moment on a CSV written here.
"""

import json
import math

import keras
import music21
import numpy as np
import pytest
import yaml

import seqzoo
from seqzoo import music
from seqzoo.cli import main
from seqzoo.metrics import log_softmax

POSITIVE = ["good", "great", "superb", "lovely", "fun"]
NEGATIVE = ["bad", "awful", "dull", "boring", "poor"]
FILLER = ["the", "film", "was", "and", "a", "plot"]


def lines(capsys, *argv):
    """Runs `seqzoo ARGV` in this process: (exit code, stdout lines, stderr lines that seqzoo wrote)."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), [line for line in err.splitlines() if line.startswith("seqzoo")]


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """A GRU classifier trained two epochs on 240 pos/neg texts of a CSV: (run folder, CSV path)."""
    folder = tmp_path_factory.mktemp("reviews")
    rng = np.random.default_rng(0)
    rows = ["text,label"]
    for i in range(240):
        label, words = ("pos", POSITIVE) if i % 2 else ("neg", NEGATIVE)
        text = list(rng.choice(words, 2)) + list(rng.choice(FILLER, 2))
        rng.shuffle(text)
        rows.append(f"{' '.join(text)},{label}")
    data = folder / "reviews.csv"
    data.write_text("\n".join(rows) + "\n")
    keras.utils.set_random_seed(0)
    overrides = {"backbone.units": 8, "inputs.embedding_dim": 8, "optimizer.learning_rate": 0.02}
    run = seqzoo.train("gru_uni", f"csv:{data}", epochs=2, batch_size=16, out=str(folder / "run"), **overrides)
    return run, str(data)


# -- one object per run -----------------------------------------------------------------------


def test_from_preset_generates_again_with_the_same_seed():
    names = seqzoo.from_preset("names")
    assert isinstance(names.model, keras.Model) and names.config["backbone"]["units"] == 128
    first = names.generate(num=3, seed=0)
    assert names.generate(num=3, seed=0) == first and len(first) == 3
    assert names.generate(num=3, seed=1) != first
    assert seqzoo.generate("preset:names", num=3, seed=0) == first  # the function is the object's call
    assert names.abilities == ("generate", "score", "evaluate", "export") and names.record["task"] == "names"


def test_score_is_evaluates_bits_per_token_on_the_same_texts(data_dir):
    task = seqzoo.load_task("names", data_dir=data_dir, splits={"train": "train[:10]", "test": "test[:96]"})
    names = seqzoo.load("preset:names", task=task)
    texts = [row["name"].decode() for row in task.raw("test").as_numpy_iterator()]
    scores = names.score(texts)
    for score in scores[:5]:
        assert math.isclose(sum(score["log_probabilities"]), score["log_probability"], rel_tol=1e-9)
        assert score["count"] == len(score["text"]) + 1 == len(score["tokens"])  # the end token counts
        mean = -score["log_probability"] / score["count"]
        assert math.isclose(score["bits_per_token"], mean / math.log(2), rel_tol=1e-9)
        assert math.isclose(score["perplexity"], math.exp(mean), rel_tol=1e-9)
    pooled = -sum(s["log_probability"] for s in scores) / sum(s["count"] for s in scores) / math.log(2)
    metrics = names.evaluate()
    assert metrics["tokens"] == sum(s["count"] for s in scores)
    assert pooled == pytest.approx(metrics["bits_per_token"], rel=1e-5)
    assert seqzoo.evaluate("preset:names", task=task) == metrics  # the function is the object's call


def test_score_from_a_shell_ranks_a_name_above_noise(capsys):
    code, out, _ = lines(capsys, "score", "preset:names", "Maria", "Xzqkjvw", "--json")
    maria, noise = (json.loads(line) for line in out)
    assert code == 0 and (maria["text"], noise["text"]) == ("Maria", "Xzqkjvw")
    assert maria["log_probability"] > noise["log_probability"] + 20
    assert maria["bits_per_token"] < 3 < noise["bits_per_token"]
    assert maria == seqzoo.from_preset("names").score("Maria")[0]


def test_a_conditioned_score_and_json_generation_name_their_condition(capsys):
    code, out, _ = lines(capsys, "generate", "preset:names_by_gender", "--condition", "female", "--condition", "male")
    assert code == 0 and len(out) == 2
    argv = ["generate", "preset:names_by_gender", "--condition", "female", "--condition", "male", "--num", 3]
    code, out, _ = lines(capsys, *argv, "--seed", 0, "--json")
    answers = [json.loads(line) for line in out]
    assert code == 0 and [answer["condition"] for answer in answers] == ["female"] * 3 + ["male"] * 3
    gender = seqzoo.from_preset("names_by_gender")
    plain = seqzoo.generate(gender, num=3, condition=["female", "male"], seed=0)
    assert [answer["generated"] for answer in answers] == plain
    female, male = (gender.score(["Maria"], condition=c)[0]["log_probability"] for c in ("female", "male"))
    assert female > male + 1  # Maria is a woman's name
    code, out, _ = lines(capsys, "score", "preset:names_by_gender", "Maria", "--condition", "female", "--json")
    assert json.loads(out[0])["condition"] == "female" and json.loads(out[0])["log_probability"] == female
    code, out, _ = lines(capsys, "generate", "preset:dates", "3 may 1999", "--context", "en_US", "--json")
    assert json.loads(out[0]) == {"source": "3 may 1999", "context": "en_US", "generated": "1999-05-03"}


# -- predict --------------------------------------------------------------------------------------


def test_a_classifier_on_a_csv_predicts_raw_text_from_python_and_the_shell(reviews, capsys, tmp_path):
    run, _ = reviews
    texts = ["a great and lovely film", "the plot was awful and boring"]
    predictions = seqzoo.load(run).predict(texts)
    assert [p["label"] for p in predictions] == ["pos", "neg"]
    for prediction in predictions:
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0)
    code, out, _ = lines(capsys, "predict", run, *texts, "--json")
    assert code == 0 and [json.loads(line) for line in out] == predictions
    table = tmp_path / "new.csv"
    table.write_text("id,text\n1,a great and lovely film\n2,the plot was awful and boring\n")
    code, out, _ = lines(capsys, "predict", run, "--input", table, "--out", tmp_path / "labels.txt")
    assert code == 0 and out == [str(tmp_path / "labels.txt")]
    written = (tmp_path / "labels.txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in written] == ["pos", "neg"]
    assert seqzoo.load(run).evaluate() == seqzoo.RunFolder(run).metrics()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a SavedModel needs TensorFlow")
def test_predictions_equal_the_exported_classify(reviews, tmp_path):
    import tensorflow as tf

    trained = seqzoo.load(reviews[0])
    texts = ["a great and lovely film", "the plot was awful and boring", "unheard words", "fun fun fun fun fun fun"]
    assert trained.export(str(tmp_path / "exported")) == ["serve", "classify", "class_names"]
    exported = tf.saved_model.load(str(tmp_path / "exported"))
    probabilities = exported.classify(tf.constant(texts)).numpy()
    names = [name.decode() for name in exported.class_names().numpy()]
    predictions = trained.predict(texts)
    assert names == list(predictions[0]["probabilities"])
    got = np.array([list(p["probabilities"].values()) for p in predictions])
    np.testing.assert_allclose(got, probabilities, atol=1e-6)


def test_numeric_frames_from_an_npz_are_classified_one_by_one(capsys, tmp_path):
    rng = np.random.default_rng(0)
    frames = {"short": rng.normal(size=(7, 12)), "long": rng.normal(size=(25, 12))}
    np.savez(tmp_path / "frames.npz", **frames)
    code, out, _ = lines(capsys, "predict", "preset:japanese_vowels", "--input", tmp_path / "frames.npz", "--json")
    answers = [json.loads(line) for line in out]
    assert code == 0 and [a["input"] for a in answers] == [f"{tmp_path / 'frames.npz'}:{k}" for k in frames]
    model = seqzoo.from_preset("japanese_vowels").model
    for answer, x in zip(answers, frames.values()):  # alone, unpadded: the same probabilities
        expected = np.exp(log_softmax(np.asarray(model.predict_on_batch(x[None].astype("float32")), "float64")))[0]
        np.testing.assert_allclose(list(answer["probabilities"].values()), expected, atol=1e-6)
        assert answer["label"] == str(int(np.argmax(expected)) + 1)  # speakers are named 1 to 9


def test_the_harmonizer_writes_a_bass_under_a_melody_file(capsys, tmp_path):
    melody = [67, 67, 67, 67, 69, 69, 71, 71, 72, 72, 72, 72, 71, 71, 69, 69, 67, 67, 67, 67]
    music.write_melody(melody, tmp_path / "tune.mid")
    harmonizer = seqzoo.from_preset("chorales_harmony")
    (answer,) = harmonizer.predict([" ".join(map(str, melody))])
    vocabulary = harmonizer.vocabularies["inputs"]
    logits = np.asarray(harmonizer.model.predict_on_batch(np.array([vocabulary.encode(list(map(str, melody)))])))[0]
    logits[:, :4] = -np.inf  # padding, UNK, start and end are never a bass note
    assert answer["tags"] == [vocabulary.inverse[i] for i in logits.argmax(-1)] and len(answer["tags"]) == 20
    out = tmp_path / "harmonized"
    code, printed, _ = lines(
        capsys, "predict", "preset:chorales_harmony", "--input", tmp_path / "tune.mid", "--out", out
    )
    assert code == 0 and printed == [f"{out}.mid", f"{out}.musicxml"]
    soprano, bass = (music.sample_part(part, 20)[0].tolist() for part in music21.converter.parse(printed[1]).parts)
    assert soprano == melody and bass == [int(tag) for tag in answer["tags"]]


# -- what a run is ----------------------------------------------------------------------------------


def test_show_prints_a_presets_resolved_config_and_presets_its_overrides(capsys):
    code, out, _ = lines(capsys, "show", "preset:names")
    assert code == 0 and yaml.safe_load("\n".join(out)) == seqzoo.presets.open_run("preset:names").config
    assert "  units: 128" in out
    code, out, _ = lines(capsys, "presets")
    (names,) = [line for line in out if line.startswith("names ")]
    assert "backbone.units: 128" in names


@pytest.mark.parametrize(
    "argv, message",
    [
        (["predict", "preset:names", "Maria"], "is a language model (language_model), which cannot predict"),
        (["score", "preset:japanese_vowels", "hello"], "it can predict, evaluate, export"),
        (["score", "preset:dates", "3 may 1999"], "it can generate, evaluate, export"),
        (["generate", "preset:chorales_harmony"], "it can predict, evaluate, export"),
        (["predict", "preset:japanese_vowels"], "give the inputs to predict for: INPUT ... or --input FILE"),
        (["predict", "preset:japanese_vowels", "hello"], "reads numeric frames (T, 12); received str 'hello'"),
        (["score", "preset:names_by_gender", "Maria"], "give condition= one of 'female', 'male'"),
    ],
)
def test_a_run_asked_what_it_cannot_answer_is_one_error_line(capsys, argv, message):
    code, out, err = lines(capsys, *argv)
    assert code == 2 and out == [] and len(err) == 1 and message in err[0], err


def test_an_input_table_without_a_text_column_is_one_error_line(capsys, tmp_path):
    table = tmp_path / "reviews.csv"
    table.write_text("review,label\nfun,pos\n")
    code, _, err = lines(capsys, "predict", "preset:japanese_vowels", "--input", table)
    assert code == 2 and len(err) == 1
    assert "has no text column 'text'" in err[0] and "'review', 'label'" in err[0]
