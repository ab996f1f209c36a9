import numpy as np
import pytest
import tensorflow_datasets as tfds

import seqzoo.tasks.builders  # noqa: F401  (registers the builders)
from seqzoo.tasks.loading import prepared_builder


@pytest.fixture(scope="module")
def splits(data_dir):
    datasets = prepared_builder("seqzoo_japanese_vowels", data_dir).as_dataset(as_supervised=True)
    return {split: list(tfds.as_numpy(dataset)) for split, dataset in datasets.items()}


def test_split_sizes_as_shipped(splits):
    assert {split: len(examples) for split, examples in splits.items()} == {"train": 270, "test": 370}


def test_frames_of_twelve_coefficients(splits):
    for examples in splits.values():
        for lpc, _ in examples:
            assert lpc.dtype == np.float32
            assert lpc.shape[1] == 12
            assert 7 <= lpc.shape[0] <= 29
            assert np.all(np.isfinite(lpc))


def test_every_speaker_present(splits):
    train = np.bincount([speaker for _, speaker in splits["train"]], minlength=9)
    test = np.bincount([speaker for _, speaker in splits["test"]], minlength=9)
    assert train.tolist() == [30] * 9
    assert len(test) == 9 and test.min() >= 24 and test.sum() == 370


def test_first_training_series_matches_ts_file(splits):
    # JapaneseVowels_TRAIN.ts, first series (speaker 1, 20 frames): dimension 1
    # starts 1.860936,1.891651,...; dimension 2 starts -0.207383,-0.193249,...
    ((lpc, speaker),) = [ex for ex in splits["train"] if ex[0][0, 0] == np.float32(1.860936)]
    assert speaker == 0  # class name "1"
    assert lpc.shape == (20, 12)
    np.testing.assert_array_equal(lpc[:2, :2], np.float32([[1.860936, -0.207383], [1.891651, -0.193249]]))
    assert lpc[-1, 0] == np.float32(1.261441)
