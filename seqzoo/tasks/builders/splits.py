"""Stable split assignment for seqzoo's own datasets."""

import zlib

SPLITS = ("train", "validation", "test")
SHARES = {"train": 0.8, "validation": 0.1, "test": 0.1}


def hash_split(key):
    """Returns the split that `key` belongs to, the same on every machine and run.

    The split follows from the CRC-32 of `key` alone, with the fractions in
    `SHARES`, so equal keys always land in the same split: a name, a calendar
    date or a chorale never crosses from train to test.

    Args:
        key: the string that identifies what must stay within one split.

    Returns:
        `"train"`, `"validation"` or `"test"`.

    Example:

    >>> hash_split("Mary")
    'train'
    """
    position = zlib.crc32(key.encode("utf-8")) / 2**32
    if position < SHARES["test"]:
        return "test"
    if position < SHARES["test"] + SHARES["validation"]:
        return "validation"
    return "train"
