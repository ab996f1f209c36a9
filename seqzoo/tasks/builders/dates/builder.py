"""The `seqzoo_dates` dataset: human-readable dates -> ISO 8601."""

import datetime

import tensorflow_datasets as tfds

from seqzoo.tasks.builders.sources import PACKAGE_VERSIONS
from seqzoo.tasks.builders.sources import package_versions
from seqzoo.tasks.builders.sources import require
from seqzoo.tasks.builders.splits import SPLITS
from seqzoo.tasks.builders.splits import hash_split
from seqzoo.tasks.locales import LOCALES

# CLDR's four standard lengths, then custom patterns after the course's exercise.
PATTERNS = (
    "short",
    "medium",
    "long",
    "full",
    "d MMM y",
    "d MMMM y",
    "dd MMM y",
    "d MMM, y",
    "d MMMM, y",
    "dd, MMM y",
    "MMMM d y",
    "MMMM d, y",
    "MMM d, y",
    "EEEE, d MMMM y",
    "EEE d MMM y",
    "d MM yy",
    "dd.MM.yy",
    "MM/dd/yy",
    "dd/MM/y",
    "y-MM-dd",
    "y/MM/dd",
)
# Two-digit years ("yy") name exactly one year in this range.
FIRST_DAY = datetime.date(1950, 1, 1)
LAST_DAY = datetime.date(2049, 12, 31)
SIZES = {"train": 20_000, "validation": 1_000, "test": 1_000}


class SeqzooDates(tfds.core.GeneratorBasedBuilder):
    """Human-readable dates paired with their ISO 8601 form.

    After the "neural machine translation of dates" exercise of Andrew Ng's
    Sequence Models course, with real renderings: dates drawn with `faker`
    (seeded) between 1950-01-01 and 2049-12-31 are written with
    `babel.dates.format_date` in one of `PATTERNS` and one of `LOCALES`, then
    lowercased with whitespace runs (babel's no-break spaces included) made one
    space, e.g. `"saturday, march 9, 2024"` -> `"2024-03-09"`.

    Features: `human` (the input), `iso` (`"YYYY-MM-DD"`), `locale` and `pattern`
    (what rendered it). All-numeric renderings can be ambiguous across locales
    (`"3/9/24"` is 9 March in en_US, 3 September in es_ES): give the model
    `locale` too where that matters.

    Splits: train 20,000, validation 1,000, test 1,000 examples, assigned by a
    stable hash of the ISO date, so a calendar date in validation or test never
    appears in train. Generation is deterministic.

    Example:

    >>> import seqzoo.tasks.builders
    >>> ds = tfds.load("seqzoo_dates", split="train", as_supervised=True)
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
                "Dates rendered in many formats and locales with babel, lowercased, "
                "paired with their ISO 8601 form (YYYY-MM-DD)."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "human": tfds.features.Text(),
                    "iso": tfds.features.Text(),
                    "locale": tfds.features.Text(),
                    "pattern": tfds.features.Text(),
                }
            ),
            supervised_keys=("human", "iso"),
            homepage="https://www.coursera.org/learn/nlp-sequence-models",
            citation=(
                "@misc{ng2018sequencemodels,\n"
                "  title = {Sequence Models},\n"
                "  author = {Ng, Andrew},\n"
                "  howpublished = {Coursera, deeplearning.ai},\n"
                "  year = {2018}\n"
                "}"
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: everything is rendered locally.
        self.info.metadata[PACKAGE_VERSIONS] = package_versions("faker", "babel")
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        babel_dates = require("babel.dates")
        fake = require("faker").Faker()
        fake.seed_instance(SPLITS.index(split))
        count = 0
        while count < SIZES[split]:
            day = fake.date_between(FIRST_DAY, LAST_DAY)
            iso = day.isoformat()
            if hash_split(iso) != split:
                continue
            locale = fake.random_element(LOCALES)
            pattern = fake.random_element(PATTERNS)
            human = babel_dates.format_date(day, pattern, locale=locale)
            yield (count, {"human": " ".join(human.lower().split()), "iso": iso, "locale": locale, "pattern": pattern})
            count += 1
