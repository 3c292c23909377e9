"""``metarl adapt`` and the API's adapt/load_agent on tiny runs of both algorithms.

Checked against the agents themselves: a saved and reloaded agent acts exactly as the one that was
adapted in memory, and the episode "before" is the unadapted policy's from the same reset.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metarl import api
from metarl.adapting import parse_task, play_episode
from metarl.cli import main
from metarl.errors import CheckpointError, ConfigError

TINY = {
    "maml": {"hidden_sizes": (8,), "meta_batch_size": 3, "episodes_per_task": 4, "max_episode_steps": 10,
             "validation_tasks": 2, "eval_episodes": 3, "eval_steps": 1, "iterations": 2, "fvp_episodes": 0},
    "rl2": {"trials_per_iteration": 8, "hidden_size": 8, "iterations": 2, "validation_tasks": 4, "minibatches": 2,
            "ppo_epochs": 1, "max_episode_steps": 10},
}


@pytest.fixture(scope="module", params=["maml", "rl2"])
def run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "run"
    api.train(request.param, env="pendulum", out=out, quiet=True, **TINY[request.param])
    return out


def _probe_actions(agent, obs: np.ndarray) -> np.ndarray:
    return np.stack([np.asarray(agent.act(o, deterministic=True)) for o in obs])


def test_cli_adapt_writes_an_agent_that_acts_like_the_adapted_one(run, capsys):
    assert main(["adapt", str(run), "--task", "mass=1.4", "--task", "length=0.8", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["task"]["mass"] == pytest.approx(1.4) and summary["task"]["length"] == pytest.approx(0.8)
    loaded = api.load_agent(summary["agent"])
    learner = api.load(run)
    fresh = learner.adapt({"mass": 1.4, "length": 0.8}, seed=0)
    obs = np.random.default_rng(0).uniform(-1, 1, size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(_probe_actions(loaded, obs), _probe_actions(fresh, obs))


def test_before_episode_is_the_unadapted_policy_from_the_same_reset(run):
    from metarl.adapting import adapt_run

    learner = api.load(run)
    result = adapt_run(learner, {"gravity": 12.0}, seed=3, out=run / "adapted" / "g.pt")
    inner = learner.learner
    task = learner.task({"gravity": 12.0})
    unadapted = learner.spec.make_agent(inner, task, seed=3, adapted=False)
    env = inner.env_factory(tasks=task)
    env.reset(seed=3)
    again = play_episode(unadapted, env)
    np.testing.assert_array_equal(again.obs, result.before.obs)
    np.testing.assert_array_equal(result.before.obs[0], result.after.obs[0])  # the same start state
    assert result.before.obs.shape == (len(result.before.rewards) + 1, 3)


def test_adapt_out_from_the_api_round_trips(run, tmp_path):
    learner = api.load(run)
    agent = learner.adapt({"mass": 0.7}, seed=1, out=tmp_path / "a.pt")
    loaded = api.load_agent(tmp_path / "a.pt")
    obs = np.zeros((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(_probe_actions(agent, obs), _probe_actions(loaded, obs))


def test_unknown_task_parameter_is_named(run, capsys):
    assert main(["adapt", str(run), "--task", "colour=3"]) == 2
    err = capsys.readouterr().err
    assert "colour" in err and "mass" in err


def test_bad_task_syntax_is_named():
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        parse_task(["mass"])
    assert parse_task(["mass=2", "side=left", "goals=0.3,-0.2"]) == {"mass": 2.0, "side": "left",
                                                                     "goals": [0.3, -0.2]}


def test_corrupt_agent_file_gets_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="not a readable adapted-agent file"):
        api.load_agent(bad)
    other = tmp_path / "other.pt"
    torch.save({"format": "something else"}, other)
    with pytest.raises(CheckpointError, match="not a metarl adapted-agent file"):
        api.load_agent(other)
    with pytest.raises(CheckpointError, match="no adapted agent"):
        api.load_agent(tmp_path / "missing.pt")
