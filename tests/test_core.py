"""The core layer's shared pieces: typed configuration, atomic writes, the error base class."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import Literal

import pytest

from imitation_datasets.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from imitation_datasets.core.config import from_mapping, read_yaml, to_mapping, with_overrides
from imitation_datasets.core.errors import ConfigError, DatasetFormatError, ImitationDatasetsError
from imitation_datasets.core.names import UnknownNameError


@dataclass(frozen=True)
class Net:
    hidden: tuple[int, ...] = (64, 64)
    activation: Literal["relu", "tanh"] = "relu"


@dataclass(frozen=True)
class Train:
    learning_rate: float = 1e-3
    epochs: int = 10
    net: Net = field(default_factory=Net)
    label: str | None = None


@dataclass(frozen=True)
class Required:
    env_id: str
    episodes: int = 1


def test_a_mapping_becomes_a_typed_frozen_config():
    config = from_mapping(Train, {"learning_rate": 1, "net": {"hidden": [32]}}, "x.yaml")
    assert config == Train(learning_rate=1.0, net=Net(hidden=(32,)))
    assert isinstance(config.learning_rate, float)
    with pytest.raises(AttributeError):
        config.epochs = 3  # type: ignore[misc]
    assert from_mapping(Train, None, "x") == Train()


@pytest.mark.parametrize(("data", "message"), [
    ({"learning_rat": 1}, "x.yaml [CartPole-v1]: unknown key 'learning_rat'; did you mean "
                          "learning_rate?"),
    ({"epochs": True}, "'epochs' must be int, got True"),
    ({"epochs": 2.5}, "'epochs' must be int, got 2.5"),
    ({"net": {"activation": "elu"}}, "must be one of 'relu', 'tanh', got 'elu'"),
    ({"net": {"hidden": ["a"]}}, "'hidden'[0] must be int, got 'a'"),
    ({"net": [1]}, "must be a mapping"),
    ({"label": 3}, "'label' must be str | None, got 3"),
])
def test_a_bad_key_or_value_is_named_with_its_location(data, message):
    with pytest.raises(ConfigError) as info:
        from_mapping(Train, data, "x.yaml [CartPole-v1]")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_required_field_must_be_given():
    with pytest.raises(ConfigError, match="missing required key\\(s\\) 'env_id'"):
        from_mapping(Required, {"episodes": 3}, "envs.yaml [cartpole]")


def test_overrides_replace_only_the_fields_named_nested_ones_field_by_field():
    base = Train(net=Net(hidden=(8,)))
    config = with_overrides(base, {"epochs": 3, "net": {"activation": "tanh"}}, "Hopper-v5")
    assert config == Train(epochs=3, net=Net(hidden=(8,), activation="tanh"))
    assert with_overrides(base, None, "x") is base
    with pytest.raises(ConfigError, match="Hopper-v5: unknown key 'epoch'; did you mean epochs"):
        with_overrides(base, {"epoch": 3}, "Hopper-v5")


def test_to_mapping_gives_json_ready_values():
    assert to_mapping(Train()) == {"learning_rate": 1e-3, "epochs": 10, "label": None,
                                   "net": {"hidden": [64, 64], "activation": "relu"}}


def test_yaml_is_read_safely_and_must_be_a_mapping(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("default:\n  epochs: 3\n")
    assert read_yaml(good) == {"default": {"epochs": 3}}
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("!!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match="hostile.yaml: cannot read configuration"):
        read_yaml(hostile)
    assert not (tmp_path / "pwned").exists()
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n")
    with pytest.raises(ConfigError, match="list.yaml: must hold a mapping, got list"):
        read_yaml(listing)
    with pytest.raises(ConfigError, match="missing.yaml"):
        read_yaml(tmp_path / "missing.yaml")


def test_atomic_writes_replace_whole_files(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_text(target, "old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    with atomic_path(target, durable=False) as tmp:
        tmp.write_text("newer")
        assert target.read_text() == "new"  # nothing visible before the rename
    assert target.read_text() == "newer"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    target.write_text("old")

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.replace", full_disk)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_every_deliberate_error_shares_one_base_class_and_its_builtin_family():
    assert issubclass(ConfigError, ImitationDatasetsError) and issubclass(ConfigError, ValueError)
    assert issubclass(DatasetFormatError, ValueError)
    assert issubclass(UnknownNameError, ImitationDatasetsError)
    assert issubclass(UnknownNameError, LookupError)
    error = DatasetFormatError("a\nb" + "x" * 2000)
    assert "\n" not in str(error) and len(str(error)) == 1000
