"""Checking a task's options: known names, typed values, from Python or from the CLI's `KEY=VALUE`."""

import inspect

from seqzoo.errors import unknown_name_error

INTEGER_OPTIONS = ("max_length", "max_vocab", "window", "seed")
BOOLEAN_OPTIONS = ("shared_vocabulary",)
TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
# Arguments that `load_task` itself supplies: never options.
NOT_OPTIONS = ("self", "name", "description", "data_dir")


def constructor_options(task_class):
    """The keyword arguments of a task class's constructor chain, e.g. `max_length`.

    Args:
        task_class: a `Task` subclass.

    Returns:
        A set of argument names.
    """
    names = set()
    for cls in task_class.__mro__:
        if "__init__" in cls.__dict__ and cls is not object:
            for parameter in inspect.signature(cls.__dict__["__init__"]).parameters.values():
                if parameter.kind in (
                    parameter.KEYWORD_ONLY,
                    parameter.POSITIONAL_OR_KEYWORD,
                ):
                    names.add(parameter.name)
    return names - set(NOT_OPTIONS)


def check_option_names(task, options, allowed):
    """Raises a `ValueError` naming the first unknown option and the closest allowed ones.

    Args:
        task: the task's name, for the message.
        options: the options received.
        allowed: the option names the task takes.
    """
    for key in options:
        if key not in allowed:
            raise ValueError(f"Task {task!r}: {unknown_name_error('option', key, allowed)}")


def typed(task, key, value):
    """One option's value as its type: integers and booleans may come as strings.

    Args:
        task: the task's name, for the message.
        key: the option's name.
        value: the value received (a YAML scalar from the CLI, or any Python value).

    Returns:
        The value: an `int` (or `None`) for `INTEGER_OPTIONS`, a `bool` for
        `BOOLEAN_OPTIONS`, else the value unchanged.

    Example:

    >>> typed("names", "max_length", "12")
    12
    """
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
        return None
    if key in INTEGER_OPTIONS:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(value, bool) or str(number) != str(value).strip():
            raise ValueError(f"Task {task!r}: option {key} must be a whole number, received {value!r}.")
        if number < (0 if key == "seed" else 1):
            raise ValueError(
                f"Task {task!r}: option {key} must be at least {0 if key == 'seed' else 1}, received {value!r}."
            )
        return number
    if key in BOOLEAN_OPTIONS:
        if isinstance(value, bool):
            return value
        if str(value).lower() in TRUE + FALSE:
            return str(value).lower() in TRUE
        raise ValueError(f"Task {task!r}: option {key} must be true or false, received {value!r}.")
    return value


def typed_options(task, options, allowed):
    """Checks the names of `options` against `allowed` and returns them typed (see `typed`)."""
    check_option_names(task, options, allowed)
    return {key: typed(task, key, value) for key, value in options.items()}


def choice(task, key, value, choices):
    """Returns `value` if it is one of `choices`, else raises naming the closest."""
    if value not in choices:
        raise ValueError(f"Task {task!r}: {unknown_name_error(key, value, choices)}")
    return value
