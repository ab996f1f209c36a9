"""A config is plain data: mappings with string keys, lists, strings, numbers, booleans and null, of bounded size.

YAML aliases (`&a` ... `*a`) make a small file stand for a huge tree, and
Keras's attribute tracking walks the whole tree when a config is attached to a
model: a 20-line file of nested aliases stood for 400 million values. So a
config's size is measured as it would be expanded (counted through shared
parts without expanding them), refused over the limits below, and otherwise
expanded into a tree that shares nothing. Imports no Keras.
"""

from seqzoo.errors import InputError

MAX_FILE_BYTES = 1 << 20  # A config file's size, before it is parsed.
MAX_VALUES = 100_000  # Mappings, lists and scalars in the expanded config.
MAX_CHARACTERS = 1_000_000  # Text in the expanded config: keys and strings.
MAX_DEPTH = 32  # Nesting of mappings and lists.
SCALARS = (str, bool, int, float, type(None))


def plain_config(value, where):
    """Checks that `value` is plain data within the limits; returns a copy that shares nothing.

    Args:
        value: a config as read from YAML or given as a dict.
        where: what to call it in errors (the file, or "the config dict").

    Returns:
        A copy of `value` in which no mapping, list or string is reached twice.

    Raises:
        InputError: for a value of another type (a date, bytes, a set), a key
            that is not a string, a structure that contains itself, or a
            config larger than `MAX_VALUES` values, `MAX_CHARACTERS` characters
            of text or `MAX_DEPTH` levels once its aliases are expanded.

    Example:

    >>> plain_config({"backbone": {"units": 64}}, "my.yaml")
    {'backbone': {'units': 64}}
    """
    values, characters = _Measure(where).size(value, "", ())
    if values > MAX_VALUES or characters > MAX_CHARACTERS:
        raise InputError(
            f"{where}: the config expands to {_amount(values)} values and {_amount(characters)} characters of text "
            f"(YAML aliases count each time they are used); a config may hold at most {MAX_VALUES:,} values and "
            f"{MAX_CHARACTERS:,} characters."
        )
    return _copy(value)


class _Measure:
    """The expanded size of a value, each shared part measured once (linear in the parts, not the expansion)."""

    def __init__(self, where):
        self.where = where
        self.sizes = {}  # id -> (values, characters) of each mapping and list measured.

    def size(self, value, path, enclosing):
        if isinstance(value, (dict, list)):
            if id(value) in enclosing:
                raise InputError(f"{self.where}: {_at(path)} contains itself (a recursive YAML alias).")
            if len(enclosing) >= MAX_DEPTH:
                raise InputError(f"{self.where}: {_at(path)} is nested deeper than {MAX_DEPTH} levels.")
            if id(value) not in self.sizes:
                self.sizes[id(value)] = self._children(value, path, (*enclosing, id(value)))
            return self.sizes[id(value)]
        if not isinstance(value, SCALARS):
            raise InputError(
                f"{self.where}: {_at(path)} is a {type(value).__name__} ({value!r:.60}); a config holds only "
                "mappings, lists, strings, numbers, booleans and null (quote it to make it a string)."
            )
        return 1, len(value) if isinstance(value, str) else 0

    def _children(self, value, path, enclosing):
        values, characters = 1, 0
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(value, dict) and not isinstance(key, str):
                raise InputError(
                    f"{self.where}: {_at(path)} has the key {key!r:.60}, a {type(key).__name__}; keys must be "
                    "strings (quote it)."
                )
            child_values, child_characters = self.size(child, f"{path}.{key}" if path else str(key), enclosing)
            values = _saturating(values + child_values)
            characters = _saturating(characters + child_characters + (len(key) if isinstance(key, str) else 0))
        return values, characters


def _saturating(count):
    """Counts stop growing far past every limit, so that measuring never works with huge integers."""
    return min(count, MAX_VALUES * MAX_CHARACTERS)


def _amount(count):
    return f"more than {MAX_VALUES * MAX_CHARACTERS:,}" if count >= MAX_VALUES * MAX_CHARACTERS else f"{count:,}"


def _at(path):
    return f"the value at {path!r}" if path else "the config"


def _copy(value):
    if isinstance(value, dict):
        return {key: _copy(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_copy(child) for child in value]
    return value
