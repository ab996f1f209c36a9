"""The `seqzoo_japanese_vowels` dataset: 12 LPC cepstra per frame -> speaker."""

import importlib.resources

import numpy as np
import tensorflow_datasets as tfds

from seqzoo.tasks.builders.sources import PACKAGE_VERSIONS
from seqzoo.tasks.builders.sources import package_versions
from seqzoo.tasks.builders.sources import require

COEFFICIENTS = 12
SPEAKERS = [str(speaker) for speaker in range(1, 10)]


class SeqzooJapaneseVowels(tfds.core.GeneratorBasedBuilder):
    """The UEA JapaneseVowels set: which of 9 speakers uttered the vowels /ae/.

    Read from the `.ts` files shipped in `sktime` (`sktime/datasets/data/
    JapaneseVowels`). Each example is one utterance:

    - `lpc`: float32, shape `(frames, 12)`, 12 LPC cepstrum coefficients per
      analysis frame; 7 to 29 frames.
    - `speaker`: the speaker, class names `"1"` to `"9"`.

    Splits as shipped: train 270 (30 per speaker), test 370.

    Example:

    >>> import seqzoo.tasks.builders
    >>> ds = tfds.load("seqzoo_japanese_vowels", split="train", as_supervised=True)
    """

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "1.1.0": "Records the versions of the packages it is built from (metadata.json); the same examples.",
    }

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            metadata=tfds.core.MetadataDict(),
            description=(
                "Nine male Japanese speakers uttering /ae/: 12 LPC cepstrum coefficients "
                "per frame, 7 to 29 frames per utterance (UEA/UCR archive, via sktime)."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "lpc": tfds.features.Tensor(shape=(None, COEFFICIENTS), dtype=np.float32),
                    "speaker": tfds.features.ClassLabel(names=SPEAKERS),
                }
            ),
            supervised_keys=("lpc", "speaker"),
            homepage="https://archive.ics.uci.edu/dataset/128/japanese+vowels",
            citation=(
                "@article{kudo1999multidimensional,\n"
                "  title = {Multidimensional Curve Classification Using Passing-Through "
                "Regions},\n"
                "  author = {Kudo, Mineichi and Toyama, Jun and Shimbo, Masaru},\n"
                "  journal = {Pattern Recognition Letters},\n"
                "  volume = {20},\n"
                "  number = {11--13},\n"
                "  pages = {1103--1111},\n"
                "  year = {1999}\n"
                "}"
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: the files ship with sktime.
        self.info.metadata[PACKAGE_VERSIONS] = package_versions("sktime")
        folder = importlib.resources.files(require("sktime.datasets")) / "data" / "JapaneseVowels"
        return {
            split: self._generate_examples(folder / f"JapaneseVowels_{split.upper()}.ts") for split in ("train", "test")
        }

    def _generate_examples(self, path):
        """Yields the series of a `.ts` file: `dim_1:...:dim_12:label` per line."""
        lines = path.read_text().splitlines()
        series = lines[lines.index("@data") + 1 :]
        for index, line in enumerate(filter(None, series)):
            *dimensions, speaker = line.split(":")
            lpc = np.array([dimension.split(",") for dimension in dimensions], np.float32)
            yield index, {"lpc": lpc.T, "speaker": speaker}
