"""The registry of model configs: the schema, named YAML files, a user's own YAML or dict, overrides, build.

Modules: `sources` (names, YAML files and dicts; imports no Keras, so the
command line can check a name before TensorFlow loads), `schema` (sections,
defaults, checks), `overrides` (dotted keys, fitting a config to a task),
`build` (`get_config`, `build`).
"""
