"""Imports the packages that seqzoo's own datasets are built from."""

import importlib
import importlib.metadata

from seqzoo.tasks.loading import PACKAGE_VERSIONS  # noqa: F401  (the builders record their sources under it)


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


def package_versions(*distributions):
    """The installed versions of the packages a dataset is built from, and of TFDS.

    Recorded in the dataset's `DatasetInfo.metadata[PACKAGE_VERSIONS]` (its
    `metadata.json`), since another version of a source package (a newer
    corpus, other locale data) can build other examples.

    Args:
        *distributions: PyPI names, e.g. `"faker", "babel"`.

    Returns:
        `{name: version}`, with `"tensorflow-datasets"` last.

    Example:

    >>> package_versions("names")
    {'names': '0.3.0', 'tensorflow-datasets': '4.9.10'}
    """
    return {name: importlib.metadata.version(name) for name in (*distributions, "tensorflow-datasets")}
