"""The `seqzoo_chorales` dataset: Bach chorales as four aligned pitch sequences."""

import dataclasses
import itertools

import numpy as np
import tensorflow_datasets as tfds

from seqzoo.music import sample_part
from seqzoo.tasks.builders.sources import PACKAGE_VERSIONS
from seqzoo.tasks.builders.sources import package_versions
from seqzoo.tasks.builders.sources import require
from seqzoo.tasks.builders.splits import SHARES
from seqzoo.tasks.builders.splits import SPLITS
from seqzoo.tasks.builders.splits import hash_split

VOICES = ("soprano", "alto", "tenor", "bass")
STEP = 0.25  # One time step, in quarter notes: a sixteenth note.


@dataclasses.dataclass(eq=False)
class ChoralesConfig(tfds.core.BuilderConfig):
    """Configuration of `SeqzooChorales`.

    Args:
        max_chorales: keep at most this many chorales, shared between the
            splits as `SHARES` (80/10/10), each split keeping its first ones in
            music21's Riemenschneider order; `None` keeps all.
    """

    max_chorales: int | None = None


class SeqzooChorales(tfds.core.GeneratorBasedBuilder):
    """J. S. Bach's four-part chorales from music21's corpus.

    Each chorale of `music21.corpus.chorales.Iterator()` (350 distinct files)
    with parts named Soprano, Alto, Tenor and Bass (345; instrumental parts are
    ignored) is sampled on a grid of sixteenth notes, one MIDI pitch per step
    and voice:

    - `soprano`, `alto`, `tenor`, `bass`: int32 sequences of equal length, 0 for
      a rest. A note holds its pitch over every step it lasts (a half note is 8
      equal steps); tied notes count as one note. Notes that fill no step
      (grace notes, a few thirty-second notes) are dropped.
    - `soprano_onset`: bool per step, True where a soprano note starts, which
      tells a repeated note from a held one.
    - `key_tonic` (music21's spelling, e.g. `"B-"` for B flat) and `mode`
      (`"major"` or `"minor"`) from music21's key analysis of the chorale.
    - `time_signature`: the first time signature, e.g. `"4/4"`.
    - `id`: the corpus path, e.g. `"bach/bwv269"`.

    Splits (about 80/10/10) follow a stable hash of the id. Configs: `"full"`
    (all, the default: 286/30/29) and `"small"` (24/3/3, for quick tests).

    Example:

    >>> import seqzoo.tasks.builders
    >>> ds = tfds.load("seqzoo_chorales/small", split="train")
    """

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "1.1.0": "Records the versions of the packages it is built from (metadata.json); the same examples.",
    }
    BUILDER_CONFIGS = [
        ChoralesConfig(name="full", description="All chorales."),
        ChoralesConfig(name="small", description="30 chorales, 24/3/3.", max_chorales=30),
    ]

    def _info(self):
        pitches = tfds.features.Sequence(np.int32)
        return tfds.core.DatasetInfo(
            builder=self,
            metadata=tfds.core.MetadataDict(),
            description=(
                "Bach's four-part chorales from music21's corpus, sampled on a "
                "sixteenth-note grid: one MIDI pitch per step per voice, 0 for rest."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "id": tfds.features.Text(),
                    **{voice: pitches for voice in VOICES},
                    "soprano_onset": tfds.features.Sequence(np.bool_),
                    "key_tonic": tfds.features.Text(),
                    "mode": tfds.features.ClassLabel(names=["major", "minor"]),
                    "time_signature": tfds.features.Text(),
                }
            ),
            supervised_keys=("soprano", "bass"),
            homepage="https://web.mit.edu/music21/",
            citation=(
                "@inproceedings{cuthbert2010music21,\n"
                "  title = {music21: A Toolkit for Computer-Aided Musicology and "
                "Symbolic Music Data},\n"
                "  author = {Cuthbert, Michael Scott and Ariza, Christopher},\n"
                "  booktitle = {Proceedings of the 11th International Society for "
                "Music Information Retrieval Conference},\n"
                "  pages = {637--642},\n"
                "  year = {2010}\n"
                "}"
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: the corpus ships with music21.
        self.info.metadata[PACKAGE_VERSIONS] = package_versions("music21")
        corpus = require("music21.corpus")
        # The Riemenschneider numbering lists a few chorales twice: keep each once.
        paths = list(dict.fromkeys(corpus.chorales.Iterator(returnType="filename")))
        return {split: self._generate_examples(corpus, paths, split) for split in SPLITS}

    def _generate_examples(self, corpus, paths, split):
        maximum = self.builder_config.max_chorales
        chorales = _read(corpus, [path for path in paths if hash_split(path) == split])
        if maximum is None:
            return chorales
        return itertools.islice(chorales, round(maximum * SHARES[split]))


def _read(corpus, paths):
    """Yields `(path, example)` for each chorale in `paths` that has SATB parts.

    Each file is read from its source, not through music21's cache of parsed
    scores: that cache is one folder for every process, written in place, so
    two processes building at once read each other's half-written files.
    """
    for path in paths:
        score = corpus.parse(path, forceSource=True)
        parts = {str(part.partName).lower(): part for part in score.parts}
        if not set(VOICES) <= parts.keys():
            continue
        steps = round(score.highestTime / STEP)
        sampled = {voice: sample_part(parts[voice], steps, STEP) for voice in VOICES}
        key = score.analyze("key")
        time_signature = score.recurse().getElementsByClass("TimeSignature").first()
        yield (
            path,
            {
                "id": path,
                **{voice: pitches for voice, (pitches, _) in sampled.items()},
                "soprano_onset": sampled["soprano"][1],
                "key_tonic": key.tonic.name,
                "mode": key.mode,
                "time_signature": time_signature.ratioString,
            },
        )
