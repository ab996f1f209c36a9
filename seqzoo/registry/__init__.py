"""The registry of model configs: the schema, named YAML files, a user's own YAML or dict, overrides, build.

Modules: `sources` (names, YAML files and dicts; imports no Keras, so the
command line can check a name before TensorFlow loads), `index` (the named
models' resolved configs and parameter counts, read without Keras; written by
`write_index`), `schema` (sections, defaults, checks), `overrides` (dotted
keys, fitting a config to a task), `memory` (parameter counts), `build`
(`get_config`, `build`). `parameter_count` loads its module on first use.
"""

from seqzoo._lazy import lazy_exports

__all__ = ["parameter_count"]
__getattr__, __dir__ = lazy_exports(__name__, {"parameter_count": ("seqzoo.registry.memory", "parameter_count")})
