"""One key of a config section, `Field`: its type, default and checks. Plain Python, no Keras."""

from seqzoo.errors import unknown_name_error

REQUIRED = object()
KINDS = {kind.__name__: kind for kind in (int, float, str, bool, dict)}


class Field:
    """One key of a config section: its type, default and allowed values.

    Args:
        kind: the type of its values (`int`, `float`, `str`, `bool`, `dict`);
            an int is a float too, a bool is no int.
        default: its value when not given; `REQUIRED` when it must be.
        choices: the allowed values, if only some are.
        minimum: the least value allowed, if any.
        below: a bound every value must stay under, if any.
        nullable: whether `None` is allowed (always when the default is `None`).

    Example:

    >>> Field(int, minimum=1).check("backbone.units", 0)
    ValueError: Received backbone.units=0; it must be >= 1.
    """

    def __init__(self, kind, default=REQUIRED, choices=None, minimum=None, below=None, nullable=False):
        self.kind, self.default, self.choices = kind, default, choices
        self.minimum, self.below = minimum, below
        self.nullable = nullable or default is None

    def check(self, where, value):
        if value is None and self.nullable:
            return
        kinds = (int, float) if self.kind is float else self.kind
        if isinstance(value, bool) and self.kind is not bool or not isinstance(value, kinds):
            raise ValueError(f"Received {where}={value!r}; expected {getattr(self.kind, '__name__', self.kind)}.")
        if self.choices is not None and value not in self.choices:
            raise unknown_name_error(f"value for {where}", value, self.choices)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"Received {where}={value!r}; it must be >= {self.minimum}.")
        if self.below is not None and value >= self.below:
            raise ValueError(f"Received {where}={value!r}; it must be < {self.below}.")

    def spec(self):
        """What `check` needs, as JSON data (for the index of the named models); `Field.from_spec` reads it."""
        return {
            "kind": self.kind.__name__,
            "choices": None if self.choices is None else list(self.choices),
            "minimum": self.minimum,
            "below": self.below,
            "nullable": self.nullable,
        }

    @classmethod
    def from_spec(cls, spec):
        """The `Field` that checks as the one whose `spec()` this is (its default is not kept)."""
        kind = KINDS[spec["kind"]]
        return cls(kind, None if spec["nullable"] else REQUIRED, spec["choices"], spec["minimum"], spec["below"])
