"""seqzoo's own TFDS dataset builders, generated offline from installed packages.

Importing this package registers the builders with TFDS:

>>> import seqzoo.tasks.builders
>>> ds = tfds.load("seqzoo_names", split="train")

`BUILDERS` maps a seqzoo task-data name to its builder class.
"""

from seqzoo.tasks.builders.chorales import SeqzooChorales
from seqzoo.tasks.builders.dates import SeqzooDates
from seqzoo.tasks.builders.japanese_vowels import SeqzooJapaneseVowels
from seqzoo.tasks.builders.names import SeqzooNames

BUILDERS = {
    "names": SeqzooNames,
    "dates": SeqzooDates,
    "chorales": SeqzooChorales,
    "japanese_vowels": SeqzooJapaneseVowels,
}
