from __future__ import annotations

import pytest

from ticl_fpga.errors import ConfigError
from ticl_fpga.train.config import BUILTIN_CONFIGS, TrainConfig, load_train_config


@pytest.mark.parametrize("name", BUILTIN_CONFIGS)
def test_builtin_configs_load(name):
    cfg = load_train_config(name)
    spec = cfg.spec(node_dim=19, edge_dim=10)
    assert spec.node_dim == 19 and spec.niters == cfg.niters


def test_quick_is_smaller_than_default():
    quick, default = load_train_config("quick"), load_train_config("default")
    assert quick.epochs < default.epochs and quick.node_hidden < default.node_hidden


def test_unknown_field_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 3\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml \[learning_rate\]"):
        load_train_config(bad)


def test_invalid_value_names_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("batch_size: 0\n")
    with pytest.raises(ConfigError, match=r"\[batch_size\]"):
        load_train_config(bad)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such training config"):
        load_train_config(tmp_path / "nope.yaml")


def test_saved_config_round_trips(tmp_path):
    cfg = TrainConfig(epochs=7, lr=1e-3, aggr="max")
    cfg.save(tmp_path / "train_config.yaml", dataset="x")
    again = load_train_config(tmp_path / "train_config.yaml")
    assert again == cfg
