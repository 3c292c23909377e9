"""config_cli's access by leaf name on the toy nested configs of test_config_cli: ``replace_leaves``,
``get_leaf`` / ``leaf_path`` and the argparse bridge's flat names, against configs built by hand."""

from __future__ import annotations

import dataclasses

import pytest

from metarl.config_cli import (
    ConfigError,
    get_leaf,
    leaf_path,
    replace_leaves,
)
from tests.test_config_cli import PRESET, Loss, Net, Optim, Toy, Twin, WithLr


# ----------------------------------------------------------------------------- replace_leaves
def test_replace_leaves_by_leaf_name_path_or_flag_builds_the_same_tree_as_by_hand():
    by_hand = Toy(env="navigation2d", seed=4, iterations=800, policy=Net(hidden_sizes=(64, 64), activation="relu"),
                  optim=Optim(lr=0.5), loss=Loss(estimator="lvc"))
    assert replace_leaves(PRESET, seed=4, activation="relu", lr=0.5) == by_hand
    assert replace_leaves(PRESET, **{"seed": 4, "policy.activation": "relu", "--lr": 0.5}) == by_hand
    assert replace_leaves(PRESET, **{"optim.lr": 0.5, "policy.activation": "relu", "seed": 4}) == by_hand
    assert PRESET.optim.lr == 3e-4 and PRESET.seed == 0  # the original is untouched
    assert replace_leaves(PRESET) is PRESET


def test_replace_leaves_takes_a_whole_sub_config_by_its_path():
    assert replace_leaves(PRESET, policy=Net(), seed=1) == dataclasses.replace(PRESET, policy=Net(), seed=1)
    with pytest.raises(ConfigError, match="policy is a Net sub-config; got"):
        replace_leaves(PRESET, policy={"activation": "relu"})


def test_replace_leaves_in_twin_sub_configs_needs_the_dotted_path():
    assert replace_leaves(Twin(), **{"loss.lr": 0.5, "value.hidden_sizes": (2,)}) == Twin(
        value=Net(hidden_sizes=(2,)), loss=WithLr(lr=0.5))
    with pytest.raises(ConfigError, match="'lr' is ambiguous: say which of optim.lr, loss.lr"):
        replace_leaves(Twin(), lr=0.5)
    with pytest.raises(ConfigError, match="'hidden_sizes' is ambiguous: say which of policy.hidden_sizes, value"):
        replace_leaves(Twin(), hidden_sizes=(1,))


def test_replace_leaves_names_every_unknown_name_with_a_hint():
    with pytest.raises(ConfigError) as err:
        replace_leaves(PRESET, hiden_sizes=(1,), depth=3, seed=2)
    text = str(err.value)
    assert text.startswith("Toy has no field(s) 'hiden_sizes' (did you mean hidden_sizes?), 'depth'; fields: env,")
    assert "policy.hidden_sizes" in text


@pytest.mark.parametrize(("values", "named"), [
    ({"lr": 1.0, "optim.lr": 2.0}, "'optim.lr' and 'lr' both set optim.lr"),
    ({"policy": Net(), "activation": "tanh"}, "'activation' and 'policy' both set policy"),
    ({"activation": "tanh", "policy": Net()}, "'policy' and 'activation' both set policy"),
])
def test_replace_leaves_refuses_one_leaf_given_twice(values, named):
    with pytest.raises(ConfigError, match=named):
        replace_leaves(PRESET, **values)


def test_leaf_path_and_get_leaf_resolve_flat_names():
    assert [leaf_path(Toy, n) for n in ("lr", "--hidden-sizes", "loss.estimator", "seed")] == [
        "optim.lr", "policy.hidden_sizes", "loss.estimator", "seed"]
    assert [get_leaf(PRESET, n) for n in ("lr", "hidden_sizes", "loss.estimator", "iterations")] == [
        3e-4, (64, 64), "lvc", 800]
    with pytest.raises(ConfigError, match="ambiguous"):
        leaf_path(Twin, "lr")
    assert get_leaf(Twin(), "loss.lr") == 0.1


def test_config_errors_are_the_user_errors_the_cli_prints_as_one_line():
    from metarl.errors import ConfigError as UserConfigError
    from metarl.errors import UserError

    assert ConfigError is UserConfigError and issubclass(ConfigError, UserError)
