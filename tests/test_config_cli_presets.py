"""config_cli on the algorithms' real configs with a preset as default: every field is a flag whose
help and preset default show, every flag reaches its field, bad values name the flag, ``--set``
overrides, the resume policy and the JSON round trip."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metarl.algorithms.maml import config as maml_config
from metarl.algorithms.rl2 import config as rl2_config
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
    replace_leaves,
    resume_changes,
)

PRESETS = {"maml": maml_config.make_config("navigation2d"), "rl2": rl2_config.make_config("navigation2d")}

# The flags as they were while both configs were flat (plus MAML's later --init-mean-scale and
# --action-scale): nesting the configs must not change one.
FLAT_FLAGS = {
    "maml": ["--action-scale", "--activation", "--backend", "--cg-damping", "--cg-iterations", "--compile", "--device",
             "--env", "--episodes-per-task", "--estimator", "--eval-episodes", "--eval-lrs", "--eval-steps",
             "--first-order", "--fvp-episodes", "--gae-lambda", "--gamma", "--hidden-sizes", "--init-mean-scale",
             "--init-std", "--inner-lr", "--inner-steps", "--iterations", "--learn-inner-lr", "--ls-backtrack-ratio",
             "--ls-max-steps", "--max-episode-steps", "--max-kl", "--meta-batch-size", "--no-compile",
             "--no-first-order", "--no-learn-inner-lr", "--no-normalize-actions", "--normalize-actions", "--outer",
             "--outer-lr", "--ppo-clip", "--ppo-epochs", "--ray-address", "--seed", "--task-options", "--truncation",
             "--validation-tasks", "--workers"],
    "rl2": ["--backend", "--cell", "--clip-range", "--device", "--embed-size", "--entropy-coef", "--entropy-final",
            "--env", "--episodes-per-trial", "--eval-deterministic", "--gae-lambda", "--gamma", "--hidden-size",
            "--init-std", "--iterations", "--log-std", "--lr", "--lr-decay", "--max-episode-steps", "--max-grad-norm",
            "--max-unroll", "--memory", "--minibatches", "--no-eval-deterministic", "--no-lr-decay", "--no-memory",
            "--no-separate-value",
            "--no-task-aware", "--no-value-norm", "--ppo-epochs", "--preset", "--ray-address", "--reward-input-scale",
            "--reward-scale", "--seed", "--separate-value", "--task-aware", "--task-options", "--tbptt",
            "--trials-per-iteration", "--validation-tasks", "--value-coef", "--value-norm", "--workers"],
}


def preset(name: str) -> Any:
    return PRESETS[name]


def _get(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


def other_value(tp: Any, value: Any) -> tuple[Any, list[str]]:
    """A value of type ``tp`` different from ``value``, and how it is written as flag values."""
    if tp is bool:
        return not value, []
    if typing.get_origin(tp) is Literal:
        new = next(v for v in typing.get_args(tp) if v != value)
        return new, [new]
    if tp is int:
        return value + 3, [str(value + 3)]
    if tp is float:
        return value * 2 + 0.25, [repr(value * 2 + 0.25)]
    if tp is str:
        return f"alt{value}", [f"alt{value}"]
    if typing.get_args(tp)[0] is int:
        return (3, 5, 7), ["3", "5", "7"]
    if typing.get_args(tp)[0] is float:
        return (0.5, 0.125), ["0.5", "0.125"]
    return ("arms=3", "b=x"), ["arms=3", "b=x"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_the_flags_are_the_flat_configs_flags_one_per_leaf(name):
    specs = flag_specs(type(preset(name)))
    assert sorted(flags_of(type(preset(name)))) == FLAT_FLAGS[name]
    assert all(spec.flag == "--" + spec.name.replace("_", "-") for spec in specs)  # no dotted prefix anywhere
    assert len({spec.path for spec in specs}) == len(specs) == len([f for f in FLAT_FLAGS[name]
                                                                     if not f.startswith("--no-")])


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_flag_reaches_its_field_and_only_it(name):
    config = preset(name)
    for spec in flag_specs(type(config)):
        value, args = other_value(spec.type, _get(config, spec.path))
        flag = spec.negation if spec.negation and not value else spec.flag
        parsed = parse_config(type(config), default=config, args=[flag, *args], prog="t")
        assert changed_fields(config, parsed) == {spec.path: (_get(config, spec.path), value)}, spec.flag
        assert _get(parsed, spec.path) == value


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_override_reaches_its_field_and_only_it(name):
    config = preset(name)
    for spec in flag_specs(type(config)):
        value, args = other_value(spec.type, _get(config, spec.path))
        text = str(value).lower() if spec.negation else ",".join(args)
        assert changed_fields(config, apply_overrides(config, [f"{spec.name}={text}"])) == {
            spec.path: (_get(config, spec.path), value)}, spec.name


def test_help_shows_each_fields_help_and_the_presets_values():
    config = preset("rl2")
    text = " ".join(help_text(type(config), default=config, prog="metarl train rl2", fixed=["env"]).split())
    # the navigation2d preset's values, not RL2Config's class defaults (hidden 256, lr 1e-3, 500 iterations)
    for part in ("--hidden-size INT recurrent units (default: 64)", "Adam learning rate (default: 0.002)",
                 "(default: 250)", "--cell {gru,lstm}", "--value-norm, --no-value-norm",
                 "learn values in running-normalised units (default: True)"):
        assert part in text, part
    assert "--env" not in text
    for spec in flag_specs(type(config)):
        if spec.name != "env":
            help_ = next(f for f in dataclasses.fields(spec.owner) if f.name == spec.name).metadata["help"]
            assert " ".join(help_.split()) in text, spec.path
    for group in (rl2_config.PolicyConfig, rl2_config.LossConfig, rl2_config.OptimizerConfig,
                  rl2_config.EvaluationConfig):
        assert " ".join(group.__doc__.split()) in text, group.__name__


def test_maml_help_shows_tuples_as_space_separated_values():
    config = preset("maml")
    text = " ".join(help_text(type(config), default=config, prog="metarl train maml").split())
    assert "hidden layer sizes of the policy MLP (default: 100 100)" in text
    assert "--estimator {plain,dice,lvc}" in text and "--normalize-actions, --no-normalize-actions" in text
    assert "(default: True)" in text  # normalize_actions: the navigation2d preset's, not the class's False


@pytest.mark.parametrize(("name", "args", "named"), [
    ("rl2", ["--cell", "rnn"], ["--cell", "'rnn'", "'gru', 'lstm'"]),
    ("rl2", ["--lr", "3e"], ["--lr", "'3e'", "FLOAT"]),
    ("rl2", ["--hidden-size", "1.5"], ["--hidden-size", "'1.5'", "INT"]),
    ("rl2", ["--value-norm", "yes"], ["yes"]),
    ("maml", ["--outer", "adam"], ["--outer", "'adam'", "'trpo', 'ppo'"]),
    ("maml", ["--hidden-sizes", "100", "wide"], ["--hidden-sizes", "'wide'", "INT"]),
    ("maml", ["--inner-lrr", "0.1"], ["--inner-lrr", "--inner-lr"]),
])
def test_bad_values_name_the_flag_and_what_is_allowed(name, args, named):
    with pytest.raises(ConfigError) as err:
        parse_config(type(preset(name)), default=preset(name), args=args, prog="metarl train")
    for text in named:
        assert text in str(err.value), (text, str(err.value))


def test_set_overrides_on_the_real_configs():
    maml = apply_overrides(preset("maml"), ["activation=tanh", "hidden_sizes=64,64", "inner_lr=0.05",
                                            "eval_lrs=0.05 0.025", "compile=true", "task_options=arms=5"])
    assert maml == replace_leaves(preset("maml"), activation="tanh", hidden_sizes=(64, 64), inner_lr=0.05,
                                  eval_lrs=(0.05, 0.025), compile=True, task_options=("arms=5",))
    assert (maml.policy.activation, maml.policy.hidden_sizes, maml.inner.inner_lr) == ("tanh", (64, 64), 0.05)
    rl2 = apply_overrides(preset("rl2"), ["lr=3e-4", "value_norm=false", "cell=lstm", "max_episode_steps=50"])
    assert rl2 == replace_leaves(preset("rl2"), lr=3e-4, value_norm=False, cell="lstm", max_episode_steps=50)
    assert (rl2.optimizer.lr, rl2.loss.value_norm, rl2.policy.cell) == (3e-4, False, "lstm")
    assert rl2_config.validate(rl2) == rl2
    with pytest.raises(ConfigError, match="cell=gpt.*--cell.*'gru', 'lstm'"):
        apply_overrides(preset("rl2"), ["cell=gpt"])
    with pytest.raises(ConfigError, match="'learning_rate' names no config field"):
        apply_overrides(preset("rl2"), ["learning_rate=1"])


def test_resume_with_iterations_extends_and_anything_else_is_refused():
    stored = preset("rl2")
    assert resume_changes(stored, ["--iterations", "500", "--lr", "0.002"], safe=["iterations"]) == (
        dataclasses.replace(stored, iterations=500))
    with pytest.raises(ConfigError) as err:
        resume_changes(stored, ["--iterations", "500", "--seed", "1", "--no-value-norm"], safe=["iterations"])
    assert "--seed (stored 0, given 1)" in str(err.value)
    assert "--value-norm (stored True, given False)" in str(err.value)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_to_dict_and_back_through_json(name):
    config = apply_overrides(preset(name), ["seed=5"])
    data = json.loads(json.dumps(config_to_dict(config)))
    assert config_from_dict(type(config), data) == config
    assert data == json.loads(json.dumps(dataclasses.asdict(config)))  # nested: one dict per sub-config
    assert isinstance(data["policy"], dict) and "hidden_sizes" not in data and "hidden_size" not in data


def test_an_older_run_config_without_a_newer_field_still_loads():
    data = config_to_dict(preset("rl2"))
    del data["optimizer"]["max_unroll"]
    assert config_from_dict(rl2_config.RL2Config, data).optimizer.max_unroll == 1000
    with pytest.raises(ConfigError, match="'hidden'"):
        config_from_dict(rl2_config.RL2Config, {**data, "hidden": 3})


def _leaf_values(spec: Any) -> st.SearchStrategy:
    tp = spec.type
    if tp is bool:
        return st.booleans()
    if typing.get_origin(tp) is Literal:
        return st.sampled_from(typing.get_args(tp))
    if tp is int:
        return st.integers(-10**6, 10**6)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if tp is str:
        return st.text(st.characters(codec="utf-8", exclude_characters=",\x00"), max_size=8).filter(
            lambda s: s.strip() == s and not s.startswith("-"))
    element = {int: st.integers(0, 999), float: st.floats(0, 10, allow_nan=False)}.get(typing.get_args(tp)[0])
    if element is None:
        element = st.from_regex(r"[a-z]{1,4}=[0-9]{1,2}", fullmatch=True)
    return st.lists(element, max_size=3).map(tuple)


@pytest.mark.parametrize("name", sorted(PRESETS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_overrides_equal_dataclasses_replace_and_survive_json(name, data):
    config = preset(name)
    specs = data.draw(st.lists(st.sampled_from(flag_specs(type(config))), min_size=1, max_size=4, unique=True))
    values = {spec.path: data.draw(_leaf_values(spec)) for spec in specs}
    items = [f"{path}={','.join(map(repr, v)) if isinstance(v, tuple) else repr(v) if isinstance(v, float) else v}"
             for path, v in values.items()]
    expected = replace_leaves(config, **values)
    assert apply_overrides(config, items) == expected
    assert config_from_dict(type(config), json.loads(json.dumps(config_to_dict(expected)))) == expected
