"""The `seqzoo_names` dataset: US Census 1990 first names by gender."""

import importlib.resources

import numpy as np
import tensorflow_datasets as tfds

from seqzoo.tasks.builders.sources import PACKAGE_VERSIONS
from seqzoo.tasks.builders.sources import package_versions
from seqzoo.tasks.builders.sources import require
from seqzoo.tasks.builders.splits import SPLITS
from seqzoo.tasks.builders.splits import hash_split

GENDERS = ("female", "male")


class SeqzooNames(tfds.core.GeneratorBasedBuilder):
    """US Census 1990 first names, with gender and frequency.

    Built offline from the lists `dist.female.first` (4,275 names) and
    `dist.male.first` (1,219 names) in the PyPI package `names`. Each example
    is one (name, gender) pair:

    - `name`: the name as it is written, e.g. `"Mary"` (the lists are in capitals).
    - `gender`: `"female"` or `"male"`. 331 names are in both lists and give two
      examples, one per gender.
    - `frequency`: the percent of the 1990 census population of that gender that
      had the name, e.g. 2.629 for female "Mary".

    Splits (about 80/10/10) follow a stable hash of the name, so a name in both
    lists is in one split only.

    Example:

    >>> import seqzoo.tasks.builders
    >>> ds = tfds.load("seqzoo_names", split="train")
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
                "First names from the US Census 1990 (the PyPI package `names`), "
                "with gender and census frequency in percent."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "name": tfds.features.Text(),
                    "gender": tfds.features.ClassLabel(names=GENDERS),
                    "frequency": tfds.features.Scalar(dtype=np.float32),
                }
            ),
            homepage="https://www.census.gov/topics/population/genealogy/data/1990_census.html",
            citation=(
                "@misc{census1990names,\n"
                "  title = {Frequently Occurring First Names and Surnames From the 1990 Census},\n"
                "  author = {{U.S. Census Bureau}},\n"
                "  year = {1995},\n"
                "  url = {https://www.census.gov/topics/population/genealogy/data/1990_census.html}\n"
                "}"
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: the lists ship with `names`.
        self.info.metadata[PACKAGE_VERSIONS] = package_versions("names")
        folder = importlib.resources.files(require("names"))
        return {split: self._generate_examples(folder, split) for split in SPLITS}

    def _generate_examples(self, folder, split):
        for gender in GENDERS:
            for line in (folder / f"dist.{gender}.first").read_text().splitlines():
                name, percent, _, _ = line.split()
                name = name.capitalize()
                if hash_split(name) == split:
                    example = {"name": name, "gender": gender, "frequency": float(percent)}
                    yield f"{gender}/{name}", example
