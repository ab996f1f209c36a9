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


class InputError(ValueError):
    """A file or value given to seqzoo that it cannot use: malformed, too large, or not what it should be.

    Its message is one line that names what was read (a config, an archive, a
    run folder's file, a table or folder of texts) and what is wrong with it;
    the `seqzoo` command prints it and exits with code 2.
    """


def one_line(text):
    """`text` with its line breaks and runs of spaces collapsed: one line for a message."""
    return " ".join(str(text).split())


def missing_column(path, role, column, header, delimiter, remedy):
    """The `InputError` for a table without a column it needs: the closest names, every column, and `remedy`."""
    close = closest_names(column, header)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    return InputError(
        f"{path} has no {role} column {column!r}.{hint} Its columns (delimiter {delimiter!r}): "
        f"{', '.join(map(repr, header))}. {remedy}"
    )
