"""MAML's and RL²'s configs as sub-configs: flat names (presets, ``make_config`` keywords) land on
the leaves the hand-written tables below say, runs written while the configs were flat still load,
and ``validate`` works on the nested config."""

from __future__ import annotations

from typing import Any

import pytest

from metarl.algorithms.maml import config as maml_config
from metarl.algorithms.rl2 import config as rl2_config
from metarl.config_cli import changed_fields, config_from_dict, config_to_dict, flag_specs, replace_leaves
from metarl.errors import ConfigError, UserError

# config_to_dict(make_config("pendulum")) and config_to_dict(make_config("bandit-k10-n100")), copied
# from the code before the configs were nested: what those runs' config.json files hold.
OLD_MAML_PENDULUM = {
    "env": "pendulum", "seed": 0, "iterations": 500, "device": "cpu", "backend": "local", "workers": 1,
    "ray_address": "", "compile": False, "hidden_sizes": [64, 64], "activation": "relu", "init_std": 1.0,
    "normalize_actions": False, "meta_batch_size": 20, "episodes_per_task": 10, "max_episode_steps": 200,
    "inner_steps": 1, "inner_lr": 0.05, "learn_inner_lr": False, "first_order": False, "estimator": "lvc",
    "gamma": 0.99, "gae_lambda": 0.95, "truncation": "terminal", "outer": "trpo", "max_kl": 0.01,
    "cg_iterations": 10, "cg_damping": 1e-05, "fvp_episodes": 2, "ls_max_steps": 15, "ls_backtrack_ratio": 0.8,
    "outer_lr": 0.001, "ppo_epochs": 5, "ppo_clip": 0.2, "validation_tasks": 20, "eval_episodes": 40,
    "eval_steps": 3, "eval_lrs": [0.05, 0.025], "task_options": [],
}
OLD_RL2_BANDIT = {
    "env": "bandit", "preset": "bandit-k10-n100", "seed": 0, "iterations": 1800, "device": "cpu", "backend": "local",
    "workers": 1, "ray_address": "", "episodes_per_trial": 100, "task_options": ["arms=10"], "max_episode_steps": 0,
    "trials_per_iteration": 512, "hidden_size": 128, "cell": "gru", "embed_size": 0, "log_std": "parameter",
    "init_std": 1.0, "separate_value": False, "reward_input_scale": 1.0, "reward_scale": 0.1, "gamma": 1.0,
    "gae_lambda": 0.9, "lr": 0.001, "lr_decay": True, "ppo_epochs": 4, "minibatches": 4, "clip_range": 0.2,
    "value_coef": 0.5, "entropy_coef": 0.05, "entropy_final": 0.0, "max_grad_norm": 0.5, "value_norm": False,
    "tbptt": 0, "max_unroll": 1000, "validation_tasks": 500, "eval_deterministic": False, "task_aware": False,
}

# Where each leaf belongs, with a value that differs from the navigation2d preset and validates.
MAML_LEAVES: dict[str, dict[str, Any]] = {
    "": {"seed": 3, "iterations": 7, "device": "meta", "workers": 2, "compile": True, "max_episode_steps": 50,
         "task_options": ("low=-1",)},
    "policy": {"hidden_sizes": (8, 4), "activation": "tanh", "init_std": 0.5, "init_mean_scale": 0.1,
               "normalize_actions": False, "action_scale": 2.0},
    "sampling": {"meta_batch_size": 5, "episodes_per_task": 6},
    "inner": {"inner_steps": 2, "inner_lr": 0.02, "learn_inner_lr": True, "first_order": True, "estimator": "dice"},
    "loss": {"gamma": 0.9, "gae_lambda": 0.5, "truncation": "bootstrap"},
    "optimizer": {"outer": "ppo", "max_kl": 0.02, "cg_iterations": 4, "cg_damping": 1e-3, "fvp_episodes": 0,
                  "ls_max_steps": 3, "ls_backtrack_ratio": 0.5, "outer_lr": 3e-4, "ppo_epochs": 2, "ppo_clip": 0.1},
    "evaluation": {"validation_tasks": 4, "eval_episodes": 3, "eval_steps": 1, "eval_lrs": (0.2,)},
}
RL2_LEAVES: dict[str, dict[str, Any]] = {
    "": {"preset": "mine", "seed": 3, "iterations": 7, "device": "meta", "workers": 2, "max_episode_steps": 50,
         "episodes_per_trial": 3, "trials_per_iteration": 16, "task_aware": True, "task_options": ("low=-1",)},
    "policy": {"hidden_size": 8, "cell": "lstm", "embed_size": 4, "log_std": "head", "init_std": 0.5,
               "separate_value": True, "reward_input_scale": 2.0, "memory": False},
    "loss": {"reward_scale": 0.5, "gamma": 0.9, "gae_lambda": 0.5, "clip_range": 0.1, "value_coef": 1.0,
             "entropy_coef": 0.02, "entropy_final": 0.01, "value_norm": False},
    "optimizer": {"lr": 3e-4, "lr_decay": False, "ppo_epochs": 2, "minibatches": 2, "max_grad_norm": 1.0,
                  "tbptt": 20, "max_unroll": 500},
    "evaluation": {"validation_tasks": 4, "eval_deterministic": True},
}
CASES = {"maml": (maml_config, MAML_LEAVES), "rl2": (rl2_config, RL2_LEAVES)}
# top-level leaves left out: no other value of one validates alone (ray_address needs backend="ray",
# which refuses compile=True); generic code reads them, the nesting never moved them
COUPLED = {"env", "backend", "ray_address"}


def _flat(table: dict[str, dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    return {name: (f"{group}.{name}" if group else name, value)
            for group, leaves in table.items() for name, value in leaves.items()}


def _get(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_tables_put_every_leaf_where_the_config_has_it(name):
    module, table = CASES[name]
    config_type = type(module.make_config("navigation2d"))
    assert {s.path.split(".")[0] for s in flag_specs(config_type) if "." in s.path} == set(table) - {""}
    assert {s.path for s in flag_specs(config_type) if s.name not in COUPLED} == {p for p, _ in _flat(table).values()}
    assert {s.path for s in flag_specs(config_type) if s.name in COUPLED} == COUPLED


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_flat_keyword_of_make_config_sets_its_leaf_and_only_it(name):
    module, table = CASES[name]
    preset = module.make_config("navigation2d")
    for leaf, (path, value) in _flat(table).items():
        config = module.make_config("navigation2d", **{leaf: value})
        assert changed_fields(preset, config) == {path: (_get(preset, path), value)}, leaf


@pytest.mark.parametrize("name", sorted(CASES))
def test_all_flat_keywords_at_once_and_dotted_paths_alike(name):
    module, table = CASES[name]
    flat = _flat(table)
    by_name = module.make_config("navigation2d", **{leaf: value for leaf, (_, value) in flat.items()})
    by_path = module.make_config("navigation2d", **{path: value for path, value in flat.values()})
    assert by_name == by_path
    for path, value in flat.values():
        assert _get(by_name, path) == value, path


def test_presets_keep_their_flat_keys_and_land_on_the_leaves():
    assert maml_config.PRESETS["pendulum"]["inner_lr"] == 0.05
    pendulum = maml_config.make_config("pendulum")
    assert (pendulum.inner.inner_lr, pendulum.inner.estimator, pendulum.policy.hidden_sizes) == (0.05, "lvc", (64, 64))
    assert (pendulum.evaluation.eval_lrs, pendulum.loss.gae_lambda, pendulum.max_episode_steps) == (
        (0.05, 0.025), 0.95, 200)
    bandit = rl2_config.make_config("bandit-k10-n100")
    assert (bandit.optimizer.lr, bandit.loss.gae_lambda, bandit.loss.reward_scale, bandit.iterations) == (
        1e-3, 0.9, 0.1, 1800)
    assert (bandit.policy.hidden_size, bandit.evaluation.validation_tasks, bandit.task_options) == (
        128, 500, ("arms=10",))


def test_an_override_beats_the_preset_whichever_name_it_uses():
    assert maml_config.make_config("pendulum", **{"inner.inner_lr": 0.3}).inner.inner_lr == 0.3
    assert rl2_config.make_config("bandit", **{"optimizer.lr": 1e-4}).optimizer.lr == 1e-4
    assert maml_config.make_config("pendulum", hidden_sizes=[4, 4]).policy.hidden_sizes == (4, 4)  # lists as tuples


def test_an_env_without_preset_counts_dotted_names_as_given():
    assert set(maml_config.GROUPS) == set(MAML_LEAVES) - {""}
    given = {"inner.inner_lr": 0.05, "sampling.meta_batch_size": 4, "episodes_per_task": 2, "iterations": 3}
    assert maml_config.make_config("mountaincar", **given).sampling.meta_batch_size == 4
    with pytest.raises(ConfigError, match="no preset for env 'mountaincar'.*at least meta_batch_size$"):
        maml_config.make_config("mountaincar", inner_lr=0.05, episodes_per_task=2, iterations=3)
    sampling = maml_config.SamplingConfig(meta_batch_size=4, episodes_per_task=2)  # a whole sub-config
    assert maml_config.make_config("mountaincar", inner_lr=0.05, sampling=sampling, iterations=3).sampling == sampling
    with pytest.raises(ConfigError, match="at least inner_lr$"):
        maml_config.make_config("mountaincar", sampling=sampling, iterations=3)


@pytest.mark.parametrize(("name", "cls"), [("maml", "MamlConfig"), ("rl2", "RL2Config")])
def test_unknown_names_are_all_named_in_one_user_error(name, cls):
    module, _ = CASES[name]
    with pytest.raises(ConfigError) as err:
        module.make_config("navigation2d", hiden_sizes=3, learning_rate=1, gamma=0.9)
    text = str(err.value)
    assert text.startswith(f"{cls} has no field(s) 'hiden_sizes'") and "'learning_rate'" in text
    assert isinstance(err.value, UserError)


def test_one_leaf_given_twice_is_refused():
    with pytest.raises(ConfigError, match="'inner.inner_lr' and 'inner_lr' both set inner.inner_lr"):
        maml_config.make_config("pendulum", inner_lr=0.1, **{"inner.inner_lr": 0.2})


@pytest.mark.parametrize(("name", "leaf", "value", "match"), [
    ("maml", "inner_lr", -0.1, "inner_lr must be > 0"),
    ("maml", "ls_backtrack_ratio", 1.0, "ls_backtrack_ratio must be in"),
    ("maml", "eval_steps", 0, "eval_steps must be an integer >= 1"),
    ("rl2", "minibatches", 10**6, "minibatches=1000000 is not allowed: at most trials_per_iteration"),
    ("rl2", "entropy_coef", -1.0, "entropy_coef=-1.0"),
    ("rl2", "tbptt", 2000, "tbptt=2000 is not allowed: at most max_unroll"),
])
def test_validate_reads_the_nested_config_and_names_the_flat_field(name, leaf, value, match):
    module, _ = CASES[name]
    bad = replace_leaves(module.make_config("navigation2d"), **{leaf: value})
    with pytest.raises(ConfigError, match=match):
        module.validate(bad)
    assert module.validate(module.make_config("navigation2d")) == module.make_config("navigation2d")


TOP_LEVEL = {
    "maml": {"env", "seed", "iterations", "device", "backend", "workers", "ray_address", "compile", "max_episode_steps",
             "task_options", "policy", "sampling", "inner", "loss", "optimizer", "evaluation"},
    "rl2": {"env", "preset", "seed", "iterations", "device", "backend", "workers", "ray_address", "task_options",
            "max_episode_steps", "episodes_per_trial", "trials_per_iteration", "task_aware", "policy", "loss",
            "optimizer", "evaluation"},
}


@pytest.mark.parametrize(("name", "old", "env"), [("maml", OLD_MAML_PENDULUM, "pendulum"),
                                                  ("rl2", OLD_RL2_BANDIT, "bandit-k10-n100")])
def test_a_run_config_written_before_the_nesting_loads(name, old, env):
    module, _ = CASES[name]
    expected = module.make_config(env)
    loaded = config_from_dict(type(expected), old)
    assert loaded == expected
    new = config_to_dict(loaded)  # what a run writes now: one dict per sub-config
    assert set(new) == TOP_LEVEL[name]
    assert config_from_dict(type(expected), new) == expected


def test_the_maml_baseline_learners_replace_nested_leaves():
    from metarl.algorithms import maml
    from metarl.algorithms.maml.evaluation import _baseline_learner

    tiny = {"hidden_sizes": (4,), "meta_batch_size": 2, "episodes_per_task": 2, "max_episode_steps": 5,
            "validation_tasks": 1, "eval_episodes": 2, "iterations": 1, "learn_inner_lr": True}
    learner = maml.build_learner(maml.make_config("navigation2d", **tiny))
    baseline = _baseline_learner(learner, seed=9, joint=True)
    assert changed_fields(learner.config, baseline.config) == {"seed": (0, 9), "inner.learn_inner_lr": (True, False)}
    assert baseline.step_sizes is None and learner.step_sizes is not None
