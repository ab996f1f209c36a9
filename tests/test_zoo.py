"""The model registry: every named model builds at its own size, as its index entry says, and from its config.

Every check runs for every name in `seqzoo.list_models()`, so a new YAML file
in zoo_configs/ is tested without touching this file. The backend suite
(tests/backends/test_every_model.py) trains every named model, shrunk, and
round-trips it through a `.keras` file.
"""

from pathlib import Path

import keras
import numpy as np
import pytest
import yaml
from backends import zoo_cases

import seqzoo
from seqzoo.architectures import TOPOLOGIES
from seqzoo.cli import main
from seqzoo.registry import build as zoo
from seqzoo.registry import index
from seqzoo.registry import sources
from seqzoo.registry.fields import Field
from seqzoo.registry.overrides import dotted_keys
from seqzoo.registry.schema import SECTIONS
from seqzoo.registry.schema import TOP_LEVEL
from seqzoo.registry.schema import resolve
from seqzoo.registry.schema import topology_sections

CELLS = ("rnn", "gru", "lstm", "peephole")


def expected_output_shape(config):
    B, T = zoo_cases.B, zoo_cases.T
    topology = config["topology"]
    if topology == "encoder_decoder":
        return (B, T, config["targets"]["vocab_size"])
    if topology in ("language_model", "one_to_many"):
        return (B, T, config["inputs"]["vocab_size"])
    outputs = config["outputs"]
    size = 1 if outputs["type"] == "binary" else outputs["size"]
    return (B, size) if topology == "many_to_one" else (B, T, size)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


# --- the registry -------------------------------------------------------------------------


def test_registry_has_at_least_24_models():
    assert len(seqzoo.list_models()) >= 24
    assert seqzoo.list_models() == sorted(seqzoo.list_models())


def test_list_models_filters_with_fnmatch():
    lstm = seqzoo.list_models("lstm_*")
    assert lstm, "no lstm_* models"
    assert lstm == [name for name in seqzoo.list_models() if name.startswith("lstm_")]
    assert "lstm_bi_deep" in lstm and "gru_bi_deep" not in lstm
    assert seqzoo.list_models("*_bi_deep") == [f"{cell}_bi_deep" for cell in sorted((*CELLS, "mingru"))]
    assert seqzoo.list_models("no_such_model_*") == []


def test_configs_come_from_the_yaml_folder():
    folder = sources.config_dir()
    stems = sorted(path.stem for path in Path(folder).glob("*.yaml"))
    assert stems == seqzoo.list_models()
    # The resolved config keeps what its YAML file says.
    with open(Path(folder) / "lstm_bi_deep.yaml") as file:
        written = yaml.safe_load(file)
    resolved = seqzoo.get_config("lstm_bi_deep")
    assert resolved["description"] == written["description"]
    for key, value in written["backbone"].items():
        assert resolved["backbone"][key] == value
    assert resolved["search"] == written["search"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("direction", ["uni", "bi"])
@pytest.mark.parametrize("deep", ["", "_deep"])
def test_every_cell_direction_and_depth_is_registered(cell, direction, deep):
    name = f"{cell}_{direction}{deep}"
    assert name in seqzoo.list_models()
    backbone = seqzoo.get_config(name)["backbone"]
    assert backbone["cell"] == cell
    assert backbone["bidirectional"] is (direction == "bi")
    assert (backbone["depth"] > 1) is bool(deep)


def test_minimal_cells_have_models_of_every_topology():
    names = seqzoo.list_models("min*")
    assert len(names) >= 6
    configs = [seqzoo.get_config(name) for name in names]
    assert {config["backbone"]["cell"] for config in configs} == {"mingru", "minlstm"}
    assert {config["topology"] for config in configs} == set(TOPOLOGIES)
    deep = seqzoo.get_config("mingru_bi_deep")["backbone"]
    assert deep["depth"] == 3 and deep["bidirectional"]


def test_lstm_bi_deep_is_three_bidirectional_lstm_layers():
    config = seqzoo.get_config("lstm_bi_deep")
    assert config["backbone"]["cell"] == "lstm"
    assert config["backbone"]["depth"] == 3
    assert config["backbone"]["bidirectional"] is True
    stack = seqzoo.build("lstm_bi_deep").get_layer("backbone")
    assert stack.depth == 3 and len(stack.recurrent_layers) == 3
    assert all(isinstance(layer, keras.layers.Bidirectional) for layer in stack.recurrent_layers)
    assert all(type(cell).__name__ == "LSTMCell" for cell in stack.cells)


# --- every model: forward pass, training, save/load ---------------------------------------


@pytest.mark.parametrize("name", seqzoo.list_models())
def test_named_model_builds_as_indexed_and_from_its_config(name):
    config = seqzoo.get_config(name)
    model = seqzoo.build(name)
    assert isinstance(model, seqzoo.architectures.SeqzooModel)
    assert model.seqzoo_config == config
    # The shipped index (what `seqzoo list` and `show` print) is the live resolution and size.
    entry = index.indexed(name)
    assert entry is not None, f"{name}: zoo_configs/index.json is stale; run python -m seqzoo.registry.write_index"
    assert entry["config"] == zoo.resolve_config(name) and entry["parameters"] == model.count_params()
    x, _ = zoo_cases.batch_for(config)
    outputs = numpy(model(x, training=False))
    assert outputs.shape == expected_output_shape(config)
    assert np.all(np.isfinite(outputs))
    # The resolved config alone rebuilds the same architecture.
    rebuilt = zoo.build_from_config(config, name=name)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(numpy(rebuilt(x, training=False)), outputs, rtol=0, atol=1e-6)


# --- overrides and resolved configs -------------------------------------------------------


def test_section_override_changes_units():
    config = seqzoo.get_config("lstm_uni", backbone={"units": 16})
    assert config["backbone"]["units"] == 16
    assert config["backbone"]["cell"] == "lstm"  # the rest of the section is kept
    model = seqzoo.build("lstm_uni", backbone={"units": 16})
    assert model.seqzoo_config == config
    stack = model.get_layer("backbone")
    assert stack.units == 16 and stack.cells[0].units == 16
    assert tuple(stack.cells[0].kernel.shape) == (64, 4 * 16)
    assert seqzoo.get_config("lstm_uni")["backbone"]["units"] == 128  # the YAML is untouched


def test_dotted_override_changes_depth():
    model = seqzoo.build("lstm_uni", **{"backbone.depth": 2})
    assert model.seqzoo_config["backbone"]["depth"] == 2
    stack = model.get_layer("backbone")
    assert stack.depth == 2 and len(stack.recurrent_layers) == 2
    assert seqzoo.get_config("lstm_uni", **{"backbone.depth": 2}) == model.seqzoo_config


def test_topology_override_changes_the_output_rank():
    many_to_one = seqzoo.build("lstm_uni", backbone={"units": 8})
    many_to_many = seqzoo.build("lstm_uni", topology="many_to_many", backbone={"units": 8})
    assert many_to_many.seqzoo_config["topology"] == "many_to_many"
    x = np.array([[3, 1, 4, 1, 5, 0]], dtype="int32")
    assert numpy(many_to_one(x)).shape == (1, 1)
    assert numpy(many_to_many(x)).shape == (1, 6, 1)


@pytest.mark.parametrize("name", seqzoo.list_models())
def test_resolved_config_has_every_default(name):
    config = seqzoo.get_config(name)
    assert set(config) == {"description", "topology", "optimizer", "search"} | set(
        topology_sections(config["topology"])
    )
    assert set(config["backbone"]) == set(SECTIONS["backbone"])
    assert set(config["optimizer"]) == set(SECTIONS["optimizer"])
    for key, field in SECTIONS["backbone"].items():
        assert config["backbone"][key] is not None, key
    # Resolving a resolved config changes nothing.
    assert resolve(config, name) == config


def test_the_index_holds_every_named_model_and_override_key():
    shipped = index.read_index()
    assert list(shipped["models"]) == seqzoo.list_models()
    assert shipped["override_keys"] == [*TOP_LEVEL, *dotted_keys()]
    fields = {f"{section}.{key}": field for section, keys in SECTIONS.items() for key, field in keys.items()}
    assert shipped["override_fields"] == {key: field.spec() for key, field in fields.items()}
    for key, spec in shipped["override_fields"].items():  # The field read back from the index checks the same.
        assert Field.from_spec(spec).spec() == spec and Field.from_spec(spec).nullable == fields[key].nullable


def test_a_config_edited_since_the_index_was_written_is_resolved_live(monkeypatch, capsys):
    shipped = index.read_index()
    fake = {**shipped["models"]["gru_bi"], "parameters": 7, "config": {"description": "not the file's"}}
    edited = {**fake, "sha256": "0" * 64}  # The file's hash differs from the one recorded.
    monkeypatch.setattr(index, "read_index", lambda: {**shipped, "models": {"gru_bi": fake}})
    assert seqzoo.get_config("gru_bi") == fake["config"]  # A matching hash: the index is read.
    monkeypatch.setattr(index, "read_index", lambda: {**shipped, "models": {"gru_bi": edited}})
    assert index.indexed("gru_bi") is None and seqzoo.get_config("gru_bi") == zoo.resolve_config("gru_bi")
    assert main(["list", "gru_bi"]) == 0
    assert capsys.readouterr().out.split()[-1] == f"{shipped['models']['gru_bi']['parameters']:,}"


def test_defaults_missing_from_yaml_are_written_out():
    with open(Path(sources.config_dir()) / "rnn_uni.yaml") as file:
        written = yaml.safe_load(file)
    assert not {"residual", "dropout", "recurrent_dropout", "merge_mode", "cell_options"} & set(written["backbone"])
    backbone = seqzoo.get_config("rnn_uni")["backbone"]
    assert backbone["residual"] is False
    assert backbone["dropout"] == 0.0
    assert backbone["recurrent_dropout"] == 0.0
    assert backbone["merge_mode"] == "concat"
    assert backbone["cell_options"] == {}


# --- user mistakes: unknown names and keys ------------------------------------------------


@pytest.mark.parametrize("function", [seqzoo.build, seqzoo.get_config])
def test_unknown_model_name_names_the_closest(function):
    with pytest.raises(ValueError, match="'lstm_bi_dep'") as info:
        function("lstm_bi_dep")
    assert "'lstm_bi_deep'" in str(info.value)


def test_unknown_key_in_a_section_override_names_the_allowed_key():
    with pytest.raises(ValueError, match="'unitz'") as info:
        seqzoo.build("lstm_uni", backbone={"unitz": 3})
    assert "'units'" in str(info.value)


def test_unknown_dotted_override_names_the_closest_key():
    with pytest.raises(ValueError, match="'backbone.unitz'") as info:
        seqzoo.build("lstm_uni", **{"backbone.unitz": 3})
    assert "'backbone.units'" in str(info.value)


def test_unknown_top_level_override_names_the_closest_key():
    with pytest.raises(ValueError, match="'topolgy'") as info:
        seqzoo.build("lstm_uni", topolgy="many_to_many")
    assert "'topology'" in str(info.value)


def test_a_section_override_must_be_a_mapping():
    with pytest.raises(ValueError, match="backbone") as info:
        seqzoo.build("lstm_uni", backbone=5)
    assert "5" in str(info.value) and "mapping" in str(info.value)


# -- a user's own config: a YAML file or a dict wherever a name is taken ------------------


def test_a_yaml_file_is_a_model(tmp_path):
    path = tmp_path / "my_gru.yaml"
    path.write_text(
        "description: My GRU.\ninputs: {type: features, dim: 3}\noutputs: {type: classes, size: 4}\n"
        "backbone: {cell: gru, units: 12, depth: 2}\noptimizer: {learning_rate: 5e-4}\n"
    )
    config = seqzoo.get_config(str(path))
    assert config["backbone"]["units"] == 12 and config["backbone"]["depth"] == 2
    assert config["optimizer"]["learning_rate"] == 0.0005  # 5e-4 read as a float, as a person writes it
    model = seqzoo.build(str(path), **{"backbone.units": 6})
    assert model.name == "my_gru" and model.seqzoo_config["backbone"]["units"] == 6
    as_dict = {
        "inputs": {"type": "features", "dim": 3},
        "outputs": {"type": "binary"},
        "backbone": {"cell": "lstm", "units": 5},
    }
    assert seqzoo.build(as_dict).seqzoo_config["backbone"]["cell"] == "lstm"


def test_errors_in_a_yaml_file_name_the_file_and_the_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("backbone: {cell: gru, unitz: 12}\n")
    with pytest.raises(ValueError, match=rf"Unknown key in {path}'s backbone 'unitz'. Did you mean 'units'"):
        seqzoo.get_config(str(path))
    with pytest.raises(ValueError, match=r"missing.yaml', which is not a file"):
        seqzoo.get_config(str(tmp_path / "missing.yaml"))
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        seqzoo.get_config(str(tmp_path / "list.yaml"))
