"""config_cli on toy nested configs (network / optimiser / loss sub-configs): flags, help, errors,
overrides, resume policy and JSON round trips, each checked against hand-written expectations."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import field
from typing import Any, Literal

import pytest

from metarl.config_cli import (
    ConfigError,
    apply_overrides,
    changed_fields,
    config_from_dict,
    config_to_dict,
    flag_specs,
    flags_of,
    help_text,
    parse_config,
    resume_changes,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Net:
    hidden_sizes: tuple[int, ...] = (32,)
    """hidden layer sizes of the MLP"""
    activation: Literal["relu", "tanh"] = "relu"
    """hidden activation"""
    layer_norm: bool = False
    """normalise every hidden layer"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Optim:
    lr: float = field(default=1e-3, metadata={"help": "Adam step size"})
    max_grad_norm: float = 0.5
    """gradient norm clip"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Loss:
    clip_range: float = 0.2
    """PPO ratio clip"""
    estimator: Literal["plain", "dice", "lvc"] = "plain"
    """meta-gradient estimator"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Toy:
    env: str = "bandit"
    """task family"""
    seed: int = 0
    """seed of everything"""
    iterations: int = 100
    """meta-iterations"""
    policy: Net = Net()
    optim: Optim = Optim()
    loss: Loss = field(default_factory=Loss)
    task_options: tuple[str, ...] = ()
    """task distribution options as name=value"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class WithLr:
    lr: float = 0.1
    """lr of the loss"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Twin:
    """Two sub-configs of one type and an ``lr`` in two places: those flags keep their prefix."""

    policy: Net = Net()
    value: Net = Net(hidden_sizes=(8,))
    optim: Optim = Optim()
    loss: WithLr = WithLr()
    seed: int = 0


PRESET = Toy(env="navigation2d", iterations=800, policy=Net(hidden_sizes=(64, 64), activation="tanh"),
             optim=Optim(lr=3e-4), loss=Loss(estimator="lvc"))


def parse(args: list[str], default: Any = PRESET, **kwargs: Any) -> Any:
    return parse_config(type(default), default=default, args=args, prog="metarl train toy", **kwargs)


# ----------------------------------------------------------------------------- flags and help
def test_unique_leaf_names_are_flat_flags_and_bools_have_negations():
    assert flags_of(Toy) == ["--env", "--seed", "--iterations", "--hidden-sizes", "--activation", "--layer-norm",
                             "--no-layer-norm", "--lr", "--max-grad-norm", "--clip-range", "--estimator",
                             "--task-options"]
    assert [s.path for s in flag_specs(Toy)][3:6] == ["policy.hidden_sizes", "policy.activation", "policy.layer_norm"]


def test_shared_leaf_names_keep_their_prefix():
    assert flags_of(Twin) == ["--policy.hidden-sizes", "--policy.activation", "--policy.layer-norm",
                              "--policy.no-layer-norm", "--value.hidden-sizes", "--value.activation",
                              "--value.layer-norm", "--value.no-layer-norm", "--optim.lr", "--max-grad-norm",
                              "--loss.lr", "--seed"]
    config = parse(["--value.hidden-sizes", "4", "4", "--loss.lr", "0.5", "--optim.lr", "0.25",
                    "--policy.no-layer-norm", "--value.layer-norm"], default=Twin())
    assert config == Twin(value=Net(hidden_sizes=(4, 4), layer_norm=True), optim=Optim(lr=0.25), loss=WithLr(lr=0.5))


def test_help_shows_docstrings_metadata_help_and_the_presets_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for doc in ("hidden layer sizes of the MLP", "Adam step size", "PPO ratio clip", "normalise every hidden layer"):
        assert doc in text
    for shown in ("--hidden-sizes", "(default: 64 64)", "{relu,tanh}", "(default: tanh)", "(default: 0.0003)",
                  "(default: 800)", "{plain,dice,lvc}", "(default: lvc)", "--layer-norm, --no-layer-norm"):
        assert shown in text, shown
    assert "(default: 32)" not in text  # the class default, hidden behind the preset's


def test_help_text_returns_the_help_and_fixed_fields_get_no_flag():
    text = help_text(Toy, default=PRESET, prog="metarl train toy", fixed=["env"])
    assert "usage: metarl train toy" in text and "--seed" in text and "--env" not in text
    with pytest.raises(ConfigError, match="--env"):
        parse(["--env", "pendulum"], fixed=["env"])
    assert parse(["--seed", "3"], fixed=["env"]).env == "navigation2d"


def test_every_leaf_is_reachable_by_its_flag_and_changes_only_itself():
    values = {"env": ["pendulum"], "seed": ["7"], "iterations": ["9"], "policy.hidden_sizes": ["5", "6", "7"],
              "policy.activation": ["relu"], "policy.layer_norm": [], "optim.lr": ["0.125"],
              "optim.max_grad_norm": ["2"], "loss.clip_range": ["0.3"], "loss.estimator": ["dice"],
              "task_options": ["arms=5", "goal=1"]}
    expected = {"env": "pendulum", "seed": 7, "iterations": 9, "policy.hidden_sizes": (5, 6, 7),
                "policy.activation": "relu", "policy.layer_norm": True, "optim.lr": 0.125, "optim.max_grad_norm": 2.0,
                "loss.clip_range": 0.3, "loss.estimator": "dice", "task_options": ("arms=5", "goal=1")}
    specs = flag_specs(Toy)
    assert {s.path for s in specs} == set(values)
    for spec in specs:
        config = parse([spec.flag, *values[spec.path]])
        assert changed_fields(PRESET, config) == {spec.path: (_get(PRESET, spec.path), expected[spec.path])}


def _get(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


def test_a_variable_length_tuple_flag_takes_no_values_as_empty():
    assert parse(["--task-options"], default=dataclasses.replace(PRESET, task_options=("a=1",))).task_options == ()


@pytest.mark.parametrize(("args", "named"), [
    (["--activation", "sigmoid"], ["--activation", "sigmoid", "relu", "tanh"]),
    (["--estimator", "exact"], ["--estimator", "'plain', 'dice', 'lvc'"]),
    (["--lr", "fast"], ["--lr", "fast", "FLOAT"]),
    (["--seed", "1.5"], ["--seed", "1.5", "INT"]),
    (["--hidden-sizes", "64", "x"], ["--hidden-sizes", "x", "INT"]),
    (["--hiden-sizes", "64"], ["--hiden-sizes", "--hidden-sizes"]),
    (["--lr"], ["--lr"]),
])
def test_bad_flags_raise_config_error_naming_the_flag_and_what_is_allowed(args, named):
    with pytest.raises(ConfigError) as err:
        parse(args)
    for text in named:
        assert text in str(err.value), (text, str(err.value))
    assert "\u2502" not in str(err.value) and "\n" not in str(err.value)


def test_a_long_bad_value_is_quoted_whole():
    value = "x" * 300
    with pytest.raises(ConfigError, match=value):
        parse(["--lr", value])


@pytest.mark.parametrize(("tp", "why"), [(Callable[[int], int], "no command-line flag"), (Any, "no command-line flag"),
                                         (Net | None, "union/optional of sub-configs"), (object, "no command-line")])
def test_a_field_no_flag_can_express_raises_naming_it(tp, why):
    inner = dataclasses.make_dataclass("Inner", [("hook", tp, field(default=None))], frozen=True, kw_only=True)
    fields = [("seed", int, field(default=0)), ("inner", inner, field(default=inner()))]
    outer = dataclasses.make_dataclass("Outer", fields, frozen=True, kw_only=True)
    with pytest.raises(ConfigError, match=rf"Outer\.inner\.hook .*{why}|Outer\.inner\.hook: .*{why}"):
        parse_config(outer, default=outer(), args=[], prog="p")
    with pytest.raises(ConfigError, match="inner.hook"):
        flags_of(outer)


# ----------------------------------------------------------------------------- NAME=VALUE overrides
@pytest.mark.parametrize(("item", "path", "value"), [
    ("activation=relu", "policy.activation", "relu"),
    ("policy.activation=relu", "policy.activation", "relu"),
    ("hidden_sizes=16,8", "policy.hidden_sizes", (16, 8)),
    ("hidden_sizes=16 8", "policy.hidden_sizes", (16, 8)),
    ('hidden_sizes="16 8"', "policy.hidden_sizes", (16, 8)),
    ("hidden_sizes=[16, 8]", "policy.hidden_sizes", (16, 8)),
    ("hidden-sizes=4", "policy.hidden_sizes", (4,)),
    ("lr=3e-5", "optim.lr", 3e-5),
    ("optim.lr=-1", "optim.lr", -1.0),
    ("layer_norm=true", "policy.layer_norm", True),
    ("layer_norm=Yes", "policy.layer_norm", True),
    ("env=--odd", "env", "--odd"),
    ("env=", "env", ""),
    ("task_options=arms=5,goal=1", "task_options", ("arms=5", "goal=1")),
    ('task_options=["a=1", "b=2"]', "task_options", ("a=1", "b=2")),
    ("task_options='a b','c=1'", "task_options", ("a b", "c=1")),
    ("estimator=dice", "loss.estimator", "dice"),
])
def test_overrides_set_exactly_their_field(item, path, value):
    config = apply_overrides(PRESET, [item])
    assert changed_fields(PRESET, config) == {path: (_get(PRESET, path), value)}


def test_overrides_of_a_bool_back_to_false_and_several_at_once():
    start = dataclasses.replace(PRESET, policy=Net(layer_norm=True))
    config = apply_overrides(start, ["layer_norm=false", "seed=3", "max_grad_norm=1"])
    assert config == dataclasses.replace(start, seed=3, policy=Net(), optim=Optim(lr=3e-4, max_grad_norm=1.0))
    assert apply_overrides(PRESET, []) is PRESET


@pytest.mark.parametrize(("items", "named"), [
    (["activation=sigmoid"], ["activation=sigmoid", "--activation", "relu", "tanh"]),
    (["lr=fast"], ["lr=fast", "--lr", "FLOAT"]),
    (["layer_norm=maybe"], ["layer_norm=maybe", "true", "false"]),
    (["hiden_sizes=4"], ["'hiden_sizes'", "policy.hidden_sizes"]),
    (["activation"], ["NAME=VALUE", "'activation'"]),
    (["=3"], ["NAME=VALUE"]),
    (["policy.lr=1"], ["'policy.lr'", "optim.lr"]),
])
def test_bad_overrides_name_the_item_and_what_is_allowed(items, named):
    with pytest.raises(ConfigError) as err:
        apply_overrides(PRESET, items)
    for text in named:
        assert text in str(err.value), (text, str(err.value))
    assert "--set --help" not in str(err.value)


def test_an_ambiguous_override_name_asks_for_the_dotted_path():
    with pytest.raises(ConfigError, match="'lr' is ambiguous.*optim.lr, loss.lr"):
        apply_overrides(Twin(), ["lr=1"])
    assert apply_overrides(Twin(), ["loss.lr=1", "value.hidden_sizes=2"]) == Twin(
        value=Net(hidden_sizes=(2,)), loss=WithLr(lr=1.0))


def test_resume_applies_safe_flags_and_accepts_repeated_values():
    config = resume_changes(PRESET, ["--iterations", "1600", "--seed", "0", "--activation", "tanh"],
                            safe=["iterations"])
    assert config == dataclasses.replace(PRESET, iterations=1600)
    assert resume_changes(PRESET, [], safe=()) == PRESET


def test_resume_refuses_every_flag_that_changes_the_stored_config():
    with pytest.raises(ConfigError) as err:
        resume_changes(PRESET, ["--iterations", "1600", "--lr", "0.1", "--layer-norm", "--hidden-sizes", "8"],
                       safe=["--iterations"])
    text = str(err.value)
    for part in ("--lr (stored 0.0003, given 0.1)", "--layer-norm (stored False, given True)",
                 "--hidden-sizes (stored (64, 64), given (8,))", "allowed with --resume: --iterations"):
        assert part in text, (part, text)
    assert "--iterations (" not in text


def test_resume_safe_names_may_be_dotted_paths_of_prefixed_flags():
    assert resume_changes(Twin(), ["--loss.lr", "0.3"], safe=["loss.lr"]).loss.lr == 0.3
    with pytest.raises(ConfigError, match=r"--optim.lr \(stored 0.001, given 0.3\)"):
        resume_changes(Twin(), ["--optim.lr", "0.3", "--loss.lr", "0.3"], safe=["loss.lr"])
    with pytest.raises(ConfigError, match="'lr' is ambiguous"):
        resume_changes(Twin(), [], safe=["lr"])


def test_resume_errors_in_the_flags_themselves_are_config_errors():
    with pytest.raises(ConfigError, match="--activation"):
        resume_changes(PRESET, ["--activation", "gelu"], safe=["activation"])


# ----------------------------------------------------------------------------- JSON
def test_to_dict_is_nested_json_with_lists_and_round_trips():
    data = config_to_dict(PRESET)
    assert data == {"env": "navigation2d", "seed": 0, "iterations": 800,
                    "policy": {"hidden_sizes": [64, 64], "activation": "tanh", "layer_norm": False},
                    "optim": {"lr": 3e-4, "max_grad_norm": 0.5}, "loss": {"clip_range": 0.2, "estimator": "lvc"},
                    "task_options": []}
    assert config_from_dict(Toy, json.loads(json.dumps(data))) == PRESET
    assert config_from_dict(Twin, config_to_dict(Twin())) == Twin()


def test_from_dict_fills_missing_keys_with_defaults_and_names_unknown_ones():
    assert config_from_dict(Toy, {"seed": 2, "policy": {"activation": "tanh"}}) == Toy(
        seed=2, policy=Net(activation="tanh"))
    with pytest.raises(ConfigError, match=r"Toy.policy has no field\(s\) \['width'\]"):
        config_from_dict(Toy, {"policy": {"width": 3}})
    with pytest.raises(ConfigError, match="'depth'"):
        config_from_dict(Toy, {"depth": 3})


def test_from_dict_maps_an_old_flat_dict_onto_the_nested_fields():
    flat = {"env": "navigation2d", "iterations": 800, "hidden_sizes": [64, 64], "activation": "tanh",
            "lr": 3e-4, "estimator": "lvc", "max_grad_norm": 0.5}
    assert config_from_dict(Toy, flat) == PRESET
    assert config_from_dict(Toy, {"policy.hidden_sizes": [64, 64], "policy": {"activation": "tanh"}}).policy == Net(
        hidden_sizes=(64, 64), activation="tanh")
    with pytest.raises(ConfigError, match="'lr' is ambiguous"):
        config_from_dict(Twin, {"lr": 0.1})
    with pytest.raises(ConfigError, match="given twice"):
        config_from_dict(Toy, {"lr": 0.1, "optim": {"lr": 0.2}})


@pytest.mark.parametrize(("data", "named"), [
    ({"seed": "3"}, "Toy.seed='3' is not a int"), ({"seed": True}, "Toy.seed=True"),
    ({"policy": {"activation": "gelu"}}, "Toy.policy.activation='gelu'"),
    ({"policy": {"hidden_sizes": 64}}, "Toy.policy.hidden_sizes=64"), ({"policy": 3}, "Toy.policy must be a dict"),
])
def test_from_dict_names_a_value_of_the_wrong_type(data, named):
    with pytest.raises(ConfigError) as err:
        config_from_dict(Toy, data)
    assert named in str(err.value)


def test_from_dict_widens_ints_to_floats():
    assert config_from_dict(Toy, {"optim": {"lr": 1}}).optim.lr == 1.0
    assert isinstance(config_from_dict(Toy, {"optim": {"lr": 1}}).optim.lr, float)
