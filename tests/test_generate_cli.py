"""`seqzoo generate` end to end, on tiny runs trained for a moment on seqzoo's offline tasks."""

import json
import os
import re

import keras
import music21
import numpy as np
import pytest
from test_export import run_without_keras

import seqzoo
from seqzoo import cli
from seqzoo import generation
from seqzoo import music
from seqzoo.inference import decoding
from seqzoo.inference import loop
from seqzoo.runs.folder import RunFolder
from seqzoo.tasks.vocabulary import Vocabulary

TINY = {"backbone.units": 16}

# The runs below are trained once per session: one worker of `pytest -n 2 --dist loadgroup` runs every test here.
pytestmark = pytest.mark.xdist_group("generate_runs")


def _small(name, data_dir, train, **options):
    """A catalog task on the first `train` training examples (the vocabulary comes from them)."""
    splits = {"train": f"train[:{train}]", "validation": "validation[:100]", "test": "test[:100]"}
    return seqzoo.load_task(name, data_dir=data_dir, splits=splits, **options)


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


def _train(model, task, folder, data_dir, epochs=1, **overrides):
    keras.utils.set_random_seed(0)
    return seqzoo.train(model, task, epochs=epochs, out=str(folder), data_dir=data_dir, verbose=0, **TINY, **overrides)


@pytest.fixture(scope="session")
def names_run(runs, data_dir):
    return _train("gru_char_lm", _small("names", data_dir, 2000), runs / "names", data_dir)


@pytest.fixture(scope="session")
def gender_run(runs, data_dir):
    return _train("gru_conditioned_char_lm", _small("names_by_gender", data_dir, 2000), runs / "gender", data_dir)


@pytest.fixture(scope="session")
def dates_run(runs, data_dir):
    # Two quick epochs at a high learning rate are enough for the ISO format (not for the right days).
    task = _small("dates", data_dir, 3000)
    return _train(
        "lstm_seq2seq_attention", task, runs / "dates", data_dir, epochs=2, **{"optimizer.learning_rate": 1e-2}
    )


@pytest.fixture(scope="session")
def chorales_run(runs, data_dir):
    task = seqzoo.load_task("chorales", dataset="seqzoo_chorales/small", data_dir=data_dir)
    return _train("lstm_music", task, runs / "chorales", data_dir)


def generate(capsys, *argv):
    """Runs `seqzoo generate ARGV`; returns (exit code, stdout lines, stderr lines)."""
    code = cli.main(["generate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), [line for line in err.splitlines() if line.startswith("seqzoo")]


def _vocabulary(run, name="inputs"):
    return set(Vocabulary.load(os.path.join(run, f"vocabulary_{name}.json")).tokens)


# -- names -------------------------------------------------------------------------------


def test_novel_names_are_seeded(names_run, capsys):
    code, names, _ = generate(capsys, names_run, "--num", 8, "--seed", 0)
    assert code == 0 and len(names) == 8
    letters = _vocabulary(names_run)
    assert all(set(name) <= letters for name in names)
    assert sum(len(name) for name in names) > 8  # Not all empty: the model writes letters.
    assert generate(capsys, names_run, "--num", 8, "--seed", 0)[1] == names
    assert generate(capsys, names_run, "--num", 8, "--seed", 1)[1] != names
    assert seqzoo.generate(names_run, num=8, seed=0) == names


def test_prefix_seeds_the_name(names_run, capsys):
    code, names, _ = generate(capsys, names_run, "--num", 5, "--seed", 3, "--prefix", "Ma", "--top-k", 5)
    assert code == 0 and len(names) == 5
    assert all(name.startswith("Ma") for name in names)
    # The same continuation as feeding BOS, "M", "a" through the stepper by hand.
    model = RunFolder(names_run).load_model()
    vocabulary = Vocabulary.load(os.path.join(names_run, "vocabulary_inputs.json"))
    stepper = seqzoo.architectures.Stepper(model)
    # `generate` draws the compiled loop's seed from numpy.random.default_rng(seed).
    sample = loop.sample if keras.backend.backend() in generation.COMPILED_BACKENDS else decoding.sample
    ids = sample(
        stepper,
        stepper.start(batch_size=5),
        5,
        100,
        top_k=5,
        seed=np.random.default_rng(3),
        prefix=vocabulary.encode(["M", "a"]),
        forbid_unk=True,
    )
    assert ["".join(vocabulary.decode(row)) for row in ids] == names


def test_beam_search_and_greedy_are_deterministic(names_run, capsys):
    code, best, _ = generate(capsys, names_run, "--beam", 4, "--num", 3)
    assert code == 0 and len(best) == 3 and len(set(best)) == 3  # Three distinct hypotheses.
    assert generate(capsys, names_run, "--beam", 4, "--num", 3)[1] == best
    code, greedy, _ = generate(capsys, names_run, "--greedy", "--num", 2)
    assert code == 0 and greedy[0] == greedy[1] == generate(capsys, names_run, "--beam", 1)[1][0]


def test_out_writes_one_name_per_line(names_run, capsys, tmp_path):
    path = tmp_path / "names.txt"
    code, printed, _ = generate(capsys, names_run, "--num", 4, "--seed", 5, "--out", path)
    assert code == 0 and printed == [str(path)]
    assert path.read_text().splitlines() == seqzoo.generate(names_run, num=4, seed=5)


def test_out_of_vocabulary_prefix_is_one_error_line(names_run, capsys):
    code, out, err = generate(capsys, names_run, "--prefix", "Mä")
    assert code == 2 and out == [] and len(err) == 1
    assert "'ä'" in err[0] and "not in the vocabulary" in err[0] and "The vocabulary has" in err[0]


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--temperature", 0, "Received temperature=0.0"),
        ("--temperature", -2, "Received temperature=-2.0"),
        ("--top-k", 0, "argument --top-k: expected an integer >= 1, received 0"),
        ("--top-p", 1.5, "Received top_p=1.5"),
        ("--top-p", 0, "Received top_p=0.0"),
        ("--beam", 0, "argument --beam: expected an integer >= 1, received 0"),
        ("--num", 0, "argument --num: expected an integer >= 1, received 0"),
        ("--max-length", 0, "argument --max-length: expected an integer >= 1, received 0"),
    ],
)
def test_nonsensical_settings_are_one_error_line(names_run, capsys, option, value, message):
    code, out, err = generate(capsys, names_run, option, value)
    assert code == 2 and out == [] and len(err) == 1
    assert err[0].startswith("seqzoo generate: error: " + message)


def test_condition_on_an_unconditioned_run_is_an_error(names_run, capsys):
    code, _, err = generate(capsys, names_run, "--condition", "female")
    assert code == 2 and "names_by_gender" in err[0]


# -- names of a gender -----------------------------------------------------------------------


def test_names_of_a_gender(gender_run, capsys):
    code, female, _ = generate(capsys, gender_run, "--condition", "female", "--num", 6, "--seed", 0)
    assert code == 0 and len(female) == 6
    assert all(set(name) <= _vocabulary(gender_run) for name in female)
    male = generate(capsys, gender_run, "--condition", "male", "--num", 6, "--seed", 0)[1]
    assert male != female  # Same draws, another initial state.
    both = generate(capsys, gender_run, "--condition", "female", "--condition", "male", "--num", 6, "--seed", 0)[1]
    assert len(both) == 12
    assert seqzoo.generate(gender_run, num=6, seed=0, condition=1) == male  # Class ids work too.


def test_unknown_or_missing_condition(gender_run, capsys):
    code, _, err = generate(capsys, gender_run, "--condition", "femal")
    assert code == 2 and len(err) == 1 and "'femal'" in err[0] and "Did you mean 'female'" in err[0]
    code, _, err = generate(capsys, gender_run)
    assert code == 2 and "'female', 'male'" in err[0]


# -- dates ------------------------------------------------------------------------------------


def test_dates_become_iso(dates_run, capsys):
    sources = ["3 may 1999", "july 4, 1976", "12/25/2001"]
    code, dates, _ = generate(capsys, dates_run, *sources, "--context", "en_US")
    assert code == 0 and len(dates) == 3
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) for date in dates), dates
    # The same as the greedy decoder that TranslationTask.evaluate uses, on the encoded sources.
    model = RunFolder(dates_run).load_model()
    vocabulary = Vocabulary.load(os.path.join(dates_run, "vocabulary_source.json"))
    encoded = [vocabulary.encode(list("en_US " + source)) for source in sources]
    width = max(map(len, encoded))
    source = np.array([ids + [0] * (width - len(ids)) for ids in encoded], "int32")
    target = Vocabulary.load(os.path.join(dates_run, "vocabulary_target.json"))
    greedy = decoding.greedy_translate(model, source, 100)
    assert ["".join(target.decode(ids)) for ids in greedy] == dates
    # --prefix is the same source; beam search of width 1 is greedy.
    assert generate(capsys, dates_run, "--prefix", "en_US 3 may 1999")[1] == dates[:1]
    assert generate(capsys, dates_run, "--prefix", "en_US 3 may 1999", "--beam", 1)[1] == dates[:1]
    code, candidates, _ = generate(capsys, dates_run, "en_US 3 may 1999", "--beam", 3, "--num", 3)
    assert code == 0 and len(candidates) == 3 and len(set(candidates)) == 3


def test_a_source_in_any_letter_case_is_read_as_the_data(dates_run, capsys):
    """The dates task lowercases its data, so a user's source is lowercased too (its locale kept as written)."""
    code, lower, _ = generate(capsys, dates_run, "en_US 3 may 1999", "3 may 1999")
    assert code == 0 and lower[0] == lower[1]  # en_US is the task's default context.
    code, mixed, _ = generate(capsys, dates_run, "en_US 3 MAY  1999", "3 May 1999")
    assert code == 0 and mixed == lower
    code, _, err = generate(capsys, dates_run, "3 may 1999 \N{SNOWMAN}")
    assert code == 2 and len(err) == 1 and "'\N{SNOWMAN}'" in err[0]


# -- melodies ----------------------------------------------------------------------------------


def test_melody_as_midi_and_musicxml(chorales_run, capsys, tmp_path):
    settings = ["--condition", "minor", "--seed", 0, "--max-length", 64]
    code, lines, _ = generate(capsys, chorales_run, *settings)
    assert code == 0 and len(lines) == 1
    pitches = [int(token) for token in lines[0].split()]
    assert all(pitch == 0 or 36 <= pitch <= 96 for pitch in pitches)
    code, paths, _ = generate(capsys, chorales_run, *settings, "--out", tmp_path / "melody.mid")
    assert code == 0 and paths == [str(tmp_path / "melody.mid"), str(tmp_path / "melody.musicxml")]
    runs = music.melody_runs(pitches)
    notes = [(pitch, steps * 0.25) for pitch, steps in runs if pitch]
    for path in paths:
        parsed = music21.converter.parse(path).stripTies().flatten().notes
        assert [(note.pitch.midi, float(note.quarterLength)) for note in parsed] == notes


def test_melody_notes_hold_repeated_pitches(tmp_path):
    pitches = [60, 60, 60, 60, 62, 62, 0, 0, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 65, 67]
    paths = music.write_melody(pitches, tmp_path / "tune.mid")
    for path in paths:
        parsed = music21.converter.parse(path).stripTies().flatten().notes
        assert [(note.pitch.midi, float(note.quarterLength)) for note in parsed] == [
            (60, 1.0),
            (62, 0.5),
            (64, 2.5),
            (65, 0.25),
            (67, 0.25),
        ]


# -- runs that cannot generate ------------------------------------------------------------------


def test_a_many_to_one_run_is_one_error_line(tmp_path, capsys):
    model = seqzoo.build("gru_uni", **{"backbone.units": 4, "inputs.vocab_size": 20, "inputs.embedding_dim": 4})
    folder = tmp_path / "classifier"
    run = RunFolder(str(folder))
    folder.mkdir()
    run.start(
        {"task": "japanese_vowels", "model": "gru_uni", "task_options": {}, "batch_size": 8, "data_dir": None},
        model.seqzoo_config,
        {},
    )
    run.save_model(model)
    run.write_json("metrics.json", {"accuracy": 0.5})
    run.set_stage("finished")
    code, out, err = generate(capsys, folder)
    assert code == 2 and out == [] and len(err) == 1
    assert "many_to_one" in err[0] and "language_model, one_to_many, encoder_decoder" in err[0]
    code, _, err = generate(capsys, tmp_path / "missing")
    assert code == 2 and "does not exist" in err[0]


# -- export ----------------------------------------------------------------------------------


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a SavedModel needs TensorFlow")
def test_an_exported_run_generates_what_seqzoo_generates(names_run, dates_run, tmp_path, capsys):
    names, dates = str(tmp_path / "names"), str(tmp_path / "dates")
    assert generation.export_run(names_run, names, max_length=12) == ["serve", "generate"]
    assert cli.main(["export", dates_run, "--out", dates, "--max-length", "12"]) == 0  # The command does the same.
    assert json.loads(capsys.readouterr().out) == {"run": dates_run, "out": dates, "endpoints": ["serve", "generate"]}
    prefixes, sources = ["Ma", "", "Jo"], ["en_US 3 may 1999", "en_US july 4, 1976"]
    got = run_without_keras(
        [
            (names, "generate", prefixes, {"temperature": 0.0}),
            (names, "generate", prefixes, {"beam": 2}),
            (dates, "generate", sources, {}),
            (dates, "generate", sources, {"beam": 3}),
        ]
    )
    # One loaded run each, so each decoder compiles once for the three prefixes.
    names_trained, dates_trained = seqzoo.load(names_run), seqzoo.load(dates_run)
    expected = [
        [seqzoo.generate(names_trained, prefix=prefix, greedy=True, max_length=12)[0] for prefix in prefixes],
        [seqzoo.generate(names_trained, prefix=prefix, beam=2, max_length=12)[0] for prefix in prefixes],
        seqzoo.generate(dates_trained, source=sources, max_length=12),
        seqzoo.generate(dates_trained, source=sources, beam=3, max_length=12),
    ]
    assert got == expected
