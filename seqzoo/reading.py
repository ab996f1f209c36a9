"""Reading a user's text file (a config, a table of texts): UTF-8, bounded, every failure one line naming the file."""

from seqzoo.errors import InputError


def read_utf8(path, max_bytes=None):
    """The text of file `path`, decoded as UTF-8 (a byte order mark dropped).

    Args:
        path: the file.
        max_bytes: the largest file read; a larger one is refused unread.

    Returns:
        The text.

    Raises:
        InputError: the file cannot be read, is too large, or is not UTF-8
            (the message gives the first bad byte and its line).

    Example:

    >>> read_utf8("my_model.yaml", max_bytes=1 << 20)
    'backbone: ...'
    """
    try:
        with open(path, "rb") as file:
            content = file.read() if max_bytes is None else file.read(max_bytes + 1)
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}.") from error
    if max_bytes is not None and len(content) > max_bytes:
        raise InputError(f"{path} is larger than {max_bytes:,} bytes, the most it may be.")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise InputError(
            f"{path} is not UTF-8 text (byte {content[error.start]:#04x} on line {line}); save it as UTF-8."
        ) from error
