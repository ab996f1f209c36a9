"""Errors that say what was received, what is allowed and what was meant."""

import difflib


def closest_names(name, choices, n=3):
    """Returns up to `n` entries of `choices` that look most like `name`."""
    return difflib.get_close_matches(str(name), list(choices), n=n, cutoff=0.5)


def unknown_name_error(kind, name, choices):
    """Builds the `ValueError` for an unknown name, naming the closest known.

    Args:
        kind: what the name names, e.g. `"cell"` or `"model"`.
        name: the name that was received.
        choices: every name that is allowed.

    Returns:
        A `ValueError` to raise.
    """
    choices = sorted(choices)
    message = f"Unknown {kind} {name!r}."
    close = closest_names(name, choices)
    if close:
        message += f" Did you mean {' or '.join(repr(c) for c in close)}?"
    message += f" Allowed: {', '.join(choices)}."
    return ValueError(message)


def missing_column(path, role, column, header, delimiter, remedy):
    """The `ValueError` for a table without a column it needs: the closest names, every column, and `remedy`."""
    close = closest_names(column, header)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    return ValueError(
        f"{path} has no {role} column {column!r}.{hint} Its columns (delimiter {delimiter!r}): "
        f"{', '.join(map(repr, header))}. {remedy}"
    )
