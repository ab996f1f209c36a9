"""Imports the packages that seqzoo's own datasets are built from."""

import importlib


def require(module):
    """Imports `module`, or says how to install the package it comes from.

    Args:
        module: a dotted module name, e.g. `"music21.corpus"`.

    Returns:
        The imported module.

    Raises:
        ImportError: naming the missing package and `pip install 'seqzoo[data]'`.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        package = module.partition(".")[0]
        raise ImportError(
            f"This seqzoo dataset is built from the package '{package}', which is not "
            f"installed (missing module: '{error.name}'). Install seqzoo's data sources "
            "with: pip install 'seqzoo[data]'"
        ) from error
