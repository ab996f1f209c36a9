"""The code's shape as checked contracts: imports point down, no import hides in a function, modules stay small."""

import ast
import os

import grimp
import pytest

import seqzoo
from seqzoo import _compat

PACKAGE = os.path.dirname(os.path.abspath(seqzoo.__file__))

# seqzoo's layers, bottom first. A module may import from its own package and from layers below it.
LAYERS = [
    ["_version", "_lazy", "errors", "atomic"],
    ["_compat", "reading"],
    ["cells"],
    ["fused"],
    ["layers"],
    ["architectures"],
    ["metrics", "music", "diagnostics", "tbptt"],
    ["tasks"],
    ["inference"],
    ["registry"],
    ["runs"],
    ["presets"],
    ["training"],
    ["trained"],
    ["generation"],
    ["tuning"],
    ["cli"],
    ["__main__"],
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
# Imports inside a function that are a design, not a dodge: the fused kernels' loops per backend
# import TensorFlow, JAX or PyTorch at their top, so only the active backend's module is imported;
# the dataset builders import TFDS at theirs.
FUNCTION_LEVEL_ALLOWED = {
    ("seqzoo.fused", "seqzoo.fused.tensorflow_loops"),
    ("seqzoo.fused", "seqzoo.fused.jax_loops"),
    ("seqzoo.fused", "seqzoo.fused.torch_kernels"),
    ("seqzoo.fused.scan", "seqzoo.fused.tensorflow_loops"),
    ("seqzoo.fused.scan", "seqzoo.fused.jax_loops"),
    ("seqzoo.fused.scan", "seqzoo.fused.torch_kernels"),
    # TFDS and seqzoo's builders for it load when a dataset is first read, not with every task (generation).
    ("seqzoo.tasks.loading", "seqzoo.tasks.builders"),
}


def top(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def modules():
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                relative = os.path.relpath(path, os.path.dirname(PACKAGE))[: -len(".py")].replace(os.sep, ".")
                yield relative.removesuffix(".__init__"), path


def test_every_package_has_a_layer():
    assert {top(name) for name, _ in modules()} - {None} <= set(RANK)


def test_imports_point_down():
    graph = grimp.build_graph("seqzoo")
    upward = []
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = top(importer), top(imported)
            if a is None or b is None or a == b:
                continue
            if RANK[b] >= RANK[a]:
                upward.append(f"{importer} -> {imported}")
    assert not upward, "imports that point up or sideways:\n" + "\n".join(sorted(upward))


def test_no_seqzoo_import_inside_a_function():
    found = []
    for module, path in modules():
        with open(path) as file:
            tree = ast.parse(file.read())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [f"{node.module}.{alias.name}" for alias in node.names]
                for name in names:
                    if name.split(".")[0] == "seqzoo" and (module, name) not in FUNCTION_LEVEL_ALLOWED:
                        found.append(f"{module}.{function.name}: import {name}")
    assert not found, "seqzoo imports inside functions (a sign of a cycle):\n" + "\n".join(found)


@pytest.mark.parametrize("module, path", sorted(modules()))
def test_modules_stay_small(module, path):
    with open(path) as file:
        lines = len(file.readlines())
    assert lines <= 400, f"{module} has {lines} lines; split it by concept"


def test_private_apis_only_through_compat():
    found = []
    for module, path in modules():
        if module == "seqzoo._compat":
            continue
        with open(path) as file:
            text = file.read()
        for marker in ("keras.src", "keras_tuner.src", "keras_tuner.engine", "keras_tuner.distribute"):
            if marker in text:
                found.append(f"{module}: {marker}")
    assert not found, "private APIs outside seqzoo._compat:\n" + "\n".join(found)


def test_installed_versions_are_the_tested_ones():
    assert _compat.check_versions() == []
