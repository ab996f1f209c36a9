"""The config schema: defaults, checks and the search space, as ValueErrors that say what is wrong."""

import copy
import re

import pytest

import seqzoo
from seqzoo.registry.schema import resolve


@pytest.mark.parametrize(
    "overrides,received,allowed",
    [
        ({"backbone": {"units": 0}}, "backbone.units=0", ">= 1"),
        ({"backbone.depth": 0}, "backbone.depth=0", ">= 1"),
        ({"backbone": {"merge_mode": "avg"}}, "'avg'", "'ave'"),
        ({"backbone": {"cell": "lstn"}}, "'lstn'", "'lstm'"),
        ({"backbone": {"dropout": 1.5}}, "backbone.dropout=1.5", "< 1"),
        ({"backbone": {"dropout": -0.1}}, "backbone.dropout=-0.1", ">= 0"),
        ({"backbone.recurrent_dropout": 1.0}, "recurrent_dropout=1.0", "< 1"),
        ({"topology": "many_to_few"}, "'many_to_few'", "'many_to_one'"),
        ({"backbone": {"units": "64"}}, "backbone.units='64'", "int"),
        ({"backbone": {"units": 64.0}}, "backbone.units=64.0", "int"),
        ({"backbone": {"bidirectional": "yes"}}, "'yes'", "bool"),
        ({"outputs": {"type": "classes"}}, "outputs.size", "required"),
        ({"optimizer": {"name": "adamm"}}, "'adamm'", "'adam'"),
        ({"attention": "luong"}, "'luong'", "additive"),
        ({"backbone": {"cell_options": {"reset_afterr": False}, "cell": "gru"}}, "'reset_afterr'", "'reset_after'"),
        ({"unitz": 3}, "'unitz'", "backbone.units"),
    ],
)
def test_bad_values_say_what_was_received_and_what_is_allowed(overrides, received, allowed):
    name = "lstm_seq2seq" if "attention" in overrides else "lstm_uni"
    with pytest.raises(ValueError) as info:
        seqzoo.build(name, **overrides)
    message = str(info.value)
    assert re.search(re.escape(received), message), message
    assert re.search(re.escape(allowed), message), message


def test_bool_is_not_an_int():
    with pytest.raises(ValueError, match="backbone.units=True"):
        seqzoo.get_config("lstm_uni", backbone={"units": True})


def test_an_int_is_a_float():
    assert seqzoo.get_config("lstm_uni", backbone={"dropout": 0})["backbone"]["dropout"] == 0


def test_bidirectional_backbone_cannot_generate_autoregressively():
    with pytest.raises(ValueError) as info:
        seqzoo.build("lstm_bi", topology="language_model")
    message = str(info.value)
    assert "language_model" in message and "bidirectional=True" in message


def test_unknown_top_level_key_names_the_closest():
    config = copy.deepcopy(seqzoo.get_config("lstm_uni"))
    config["backbones"] = config.pop("backbone")
    with pytest.raises(ValueError, match="'backbones'") as info:
        resolve(config, "crafted")
    assert "'backbone'" in str(info.value)


def test_missing_required_key_is_named():
    config = seqzoo.get_config("lstm_uni")
    del config["backbone"]["cell"]
    with pytest.raises(ValueError, match="backbone.cell is required"):
        resolve(config, "crafted")


def test_topology_drops_sections_it_does_not_use_and_resolve_is_idempotent():
    config = seqzoo.get_config("lstm_uni", topology="language_model")
    assert "outputs" not in config
    assert set(config) == {"description", "topology", "backbone", "inputs", "optimizer", "search"}
    assert resolve(copy.deepcopy(config)) == config


def test_optional_keys_left_unset_are_left_out_of_typed_sections():
    config = seqzoo.get_config("rnn_char_lm")
    assert config["inputs"] == {"type": "one_hot", "vocab_size": 64}
    assert config["optimizer"]["clipvalue"] is None


# --- the search space ---------------------------------------------------------------------


def with_search(search, name="lstm_uni"):
    config = copy.deepcopy(seqzoo.get_config(name))
    config["search"] = search
    return config


def test_a_well_formed_search_space_resolves():
    search = {
        "backbone.units": {"choice": [8, 16]},
        "backbone.depth": {"int": [1, 3], "step": 1},
        "backbone.dropout": {"float": [0.0, 0.5]},
        "optimizer.learning_rate": {"float": [1e-4, 1e-2], "sampling": "log"},
        "backbone.residual": {"bool": True},
    }
    assert resolve(with_search(search), "crafted")["search"] == search


@pytest.mark.parametrize(
    "search,received,allowed",
    [
        ({"backbone.unitz": {"choice": [8]}}, "'backbone.unitz'", "'backbone.units'"),
        ({"outputs.size": {"choice": [2, 3]}}, "'outputs.size'", "backbone.units"),  # not a language model's key
        ({"backbone.units": {"choice": []}}, "[]", "non-empty list"),
        ({"backbone.units": {"choice": 8}}, "8", "non-empty list"),
        ({"backbone.dropout": {"float": [1, 0]}}, "[1, 0]", "low < high"),
        ({"backbone.depth": {"int": [3, 3]}}, "[3, 3]", "low < high"),
        ({"backbone.depth": {"int": [1]}}, "[1]", "[low, high]"),
        ({"backbone.units": {"choice": [8], "int": [1, 4]}}, "choice", "exactly one"),
        ({"backbone.units": {}}, "{}", "exactly one"),
        ({"backbone.units": [8, 16]}, "[8, 16]", "exactly one"),
        ({"optimizer.learning_rate": {"float": [1e-4, 1e-2], "sampling": "exp"}}, "learning_rate", "linear or log"),
    ],
)
def test_a_malformed_search_space_is_a_value_error(search, received, allowed):
    name = "gru_char_lm" if "outputs.size" in search else "lstm_uni"
    with pytest.raises(ValueError) as info:
        resolve(with_search(search, name), "crafted")
    message = str(info.value)
    assert received in message, message
    assert allowed in message, message


@pytest.mark.parametrize("name", seqzoo.list_models())
def test_every_shipped_search_space_is_well_formed(name):
    search = seqzoo.get_config(name)["search"]
    assert search, f"{name} has no search space"
    for key, spec in search.items():
        section, _, field = key.partition(".")
        assert field or section == "attention"


@pytest.mark.parametrize(
    "search,received,allowed",
    [
        # Every value a search can give must be a valid value of its key.
        ({"backbone.units": {"choice": [0, 64]}}, "search.backbone.units=0", ">= 1"),
        ({"backbone.dropout": {"float": [0.0, 1.5]}}, "search.backbone.dropout=1.5", "< 1"),
        ({"backbone.merge_mode": {"choice": ["concat", "avg"]}}, "'avg'", "'ave'"),
        ({"backbone.units": {"float": [8, 64]}}, "float range", "int"),
        ({"backbone.units": {"bool": True}}, "search.backbone.units=True", "int"),
        ({"backbone.depth": {"int": ["1", 3]}}, "['1', 3]", "low < high"),
        ({"optimizer.learning_rate": {"float": [0.0, 1e-2], "sampling": "log"}}, "[0.0, 0.01]", "low > 0"),
    ],
)
def test_a_search_that_can_only_give_invalid_values_is_a_value_error(search, received, allowed):
    with pytest.raises(ValueError) as info:
        resolve(with_search(search), "crafted")
    message = str(info.value)
    assert received in message, message
    assert allowed in message, message


def test_searched_attention_must_be_a_known_type():
    config = with_search({"attention": {"choice": ["dot", "luong"]}}, "lstm_seq2seq_attention")
    with pytest.raises(ValueError, match="'luong'") as info:
        resolve(config, "crafted")
    assert "'additive'" in str(info.value) or "additive" in str(info.value)
    config = with_search({"attention": {"choice": ["dot", None]}}, "lstm_seq2seq_attention")
    assert resolve(config, "crafted")["search"]["attention"] == {"choice": ["dot", None]}


# --- gradient clipping --------------------------------------------------------------------


def test_clipnorm_is_the_default():
    model = seqzoo.build("lstm_uni", backbone={"units": 4})
    assert model.optimizer.clipnorm == 1.0 and model.optimizer.clipvalue is None


def test_clip_by_value_when_clipnorm_is_turned_off():
    model = seqzoo.build("lstm_uni", backbone={"units": 4}, optimizer={"clipnorm": None, "clipvalue": 0.5})
    assert model.seqzoo_config["optimizer"]["clipnorm"] is None
    assert model.optimizer.clipvalue == 0.5 and model.optimizer.clipnorm is None
    assert resolve(copy.deepcopy(model.seqzoo_config)) == model.seqzoo_config


def test_clipnorm_and_clipvalue_together_is_a_config_error():
    with pytest.raises(ValueError, match=r"optimizer\.clipnorm=1\.0") as info:
        seqzoo.get_config("lstm_uni", optimizer={"clipvalue": 0.5})
    assert "optimizer.clipvalue=0.5" in str(info.value)


def test_other_keys_stay_non_nullable():
    with pytest.raises(ValueError, match="optimizer.learning_rate=None"):
        seqzoo.get_config("lstm_uni", optimizer={"learning_rate": None})
