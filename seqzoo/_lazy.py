"""Lazy package exports (PEP 562): a public name imports its module the first time it is used."""

import importlib


def lazy_exports(package, exports):
    """`__getattr__` and `__dir__` for a package whose names load on first use.

    Args:
        package: the package's `__name__`.
        exports: public name -> `(module, attribute)`; attribute `None` for
            the module itself.

    Example:

    >>> __getattr__, __dir__ = lazy_exports(__name__, {"train": ("seqzoo.training.fit", "train")})
    """

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = exports[name]
        value = importlib.import_module(module)
        return value if attribute is None else getattr(value, attribute)

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
