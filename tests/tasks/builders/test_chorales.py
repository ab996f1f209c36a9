import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds
from music21 import corpus

import seqzoo.tasks.builders  # noqa: F401  (registers the builders)
from seqzoo.tasks.loading import prepared_builder

VOICES = ("soprano", "alto", "tenor", "bass")


@pytest.fixture(scope="module")
def splits(data_dir):
    datasets = prepared_builder("seqzoo_chorales/small", data_dir).as_dataset()
    return {split: list(tfds.as_numpy(dataset)) for split, dataset in datasets.items()}


@pytest.fixture(scope="module")
def chorales(splits):
    return {ex["id"].decode(): ex for examples in splits.values() for ex in examples}


def test_small_config_sizes_and_disjoint_ids(splits, chorales):
    assert {split: len(examples) for split, examples in splits.items()} == {
        "train": 24,
        "validation": 3,
        "test": 3,
    }
    assert len(chorales) == 30


def test_voices_aligned_and_in_midi_range(chorales):
    for chorale in chorales.values():
        steps = len(chorale["soprano"])
        assert steps >= 64  # at least four 4/4 bars of sixteenths
        assert len(chorale["soprano_onset"]) == steps
        for voice in VOICES:
            pitches = chorale[voice]
            assert pitches.dtype == np.int32 and len(pitches) == steps
            sounding = pitches[pitches > 0]
            assert np.all((sounding >= 21) & (sounding <= 108))
            assert len(sounding) > 0.9 * steps  # chorales barely rest


def test_voices_ordered_from_soprano_down(chorales):
    for chorale in chorales.values():
        means = [chorale[voice][chorale[voice] > 0].mean() for voice in VOICES]
        assert means[0] > means[3] + 12  # soprano well above bass
    overall = [np.mean([c[v][c[v] > 0].mean() for c in chorales.values()]) for v in VOICES]
    assert overall == sorted(overall, reverse=True)


def test_known_chorale_matches_music21(chorales):
    chorale = chorales["bach/bwv269"]
    soprano = corpus.parse("bach/bwv269", forceSource=True).parts["Soprano"].flatten().stripTies().notes
    starts = np.flatnonzero(chorale["soprano_onset"])
    music21_pitches = [note.pitch.midi for note in soprano]
    assert chorale["soprano"][starts].tolist() == music21_pitches
    assert np.diff(np.append(starts, len(chorale["soprano"]))).tolist() == [
        round(note.quarterLength * 4) for note in soprano
    ]
    # It opens G4 (quarter), G4 (half), D5, B4 (dotted quarter), A4 (eighth), G4.
    opening = [67] * 4 + [67] * 8 + [74] * 4 + [71] * 6 + [69] * 2 + [67] * 4
    assert chorale["soprano"][: len(opening)].tolist() == opening
    assert 0 < chorale["bass"][0] < chorale["soprano"][0]
    assert chorale["key_tonic"].decode() == "G" and chorale["mode"] == 0  # G major
    assert chorale["time_signature"].decode() == "3/4"


@pytest.mark.parametrize(
    "path, voice, step",
    [
        ("bach/bwv282", "alto", 76),  # F4 tied to F4 spelled with a natural sign: no new onset
        ("bach/bwv362", "tenor", 296),  # a stray tie into B-3 after C4: a new onset
    ],
)
def test_onsets_follow_music21s_tied_notes(path, voice, step):
    from seqzoo.music import sample_part
    from seqzoo.tasks.builders.chorales.builder import STEP

    score = corpus.parse(path, forceSource=True)  # no shared cache, as the builder
    part = {str(part.partName).lower(): part for part in score.parts}[voice]
    steps = round(score.highestTime / STEP)
    _, onsets = sample_part(part, steps, STEP)
    expected = np.zeros(steps, bool)
    for note in part.flatten().stripTies().notes:
        expected[round(note.offset / STEP)] = True
    assert onsets.tolist() == expected.tolist()
    assert onsets[step] == (voice == "tenor")


def test_building_leaves_music21s_shared_cache_alone(tmp_path, subprocess_env):
    # music21 caches parsed scores in one folder for all processes, written in place: two processes building at
    # once (two test workers, a distributed sweep's workers) read each other's half-written files (zlib.error).
    temp = tmp_path / "tmp"
    temp.mkdir()
    code = (
        "import tensorflow_datasets as tfds, seqzoo.tasks.builders; "
        f"tfds.builder('seqzoo_chorales/small', data_dir={str(tmp_path / 'tfds')!r}).download_and_prepare()"
    )
    env = {**subprocess_env, "TMPDIR": str(temp)}  # music21's cache folder is under the temporary folder
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list((tmp_path / "tfds").rglob("*.tfrecord*"))
    assert not [path.name for path in temp.rglob("m21-*")]
