"""A run folder or a `preset:` reference, opened as a finished `RunFolder`."""

import os

from seqzoo.presets import sources
from seqzoo.runs.folder import RunFolder


def open_run(reference):
    """The finished `RunFolder` of a run folder path or a `preset:` reference.

    Args:
        reference: a run folder, or `preset:NAME` (a shipped preset; see
            `seqzoo.list_presets()`), or `preset:PATH` (a run folder or a
            `.zip`, `.tar.gz`, `.tgz` or `.tar` archive of one, unpacked once
            into `$SEQZOO_CACHE`).

    Example:

    >>> model = seqzoo.presets.open_run("preset:names").load_model()
    """
    return RunFolder(sources.run_path(os.fspath(reference)))
