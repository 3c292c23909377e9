"""RL²'s memory-less baseline (``--no-memory``): the same inputs and PPO, a feed-forward network
whose state carries nothing."""

import json

import pytest
import torch

from metarl.algorithms import rl2
from metarl.cli import main
from metarl.config_cli import config_from_dict, config_to_dict
from metarl.policies import MemorylessActorCritic, RecurrentActorCritic

TINY = dict(trials_per_iteration=8, hidden_size=8, iterations=3, validation_tasks=4, minibatches=2, ppo_epochs=1,
            episodes_per_trial=2, max_episode_steps=6)


def _inputs(b=4, length=7, obs_dim=3, act_dim=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, length, obs_dim, generator=g), torch.randn(b, length, act_dim, generator=g),
            torch.randn(b, length, generator=g), (torch.rand(b, length, generator=g) < 0.3).float()]


def _perturbed(inputs, which, steps):
    """``inputs`` with input ``which`` changed at ``steps`` (the done flag flipped, others shifted by 1)."""
    out = [x.clone() for x in inputs]
    out[which][:, steps] = 1.0 - out[which][:, steps] if which == 3 else out[which][:, steps] + 1.0
    return out


def _moments(policy, inputs):
    dist, values, _ = policy.sequence(*inputs)
    return torch.cat([dist.base_dist.loc, dist.base_dist.scale, values[..., None]], -1)  # [B, L, 2 * act + 1]


@pytest.mark.parametrize("separate_value", [False, True])
@pytest.mark.parametrize("which", [0, 1, 2, 3])  # obs, previous action, previous reward, previous done
def test_memoryless_output_at_t_depends_on_the_step_t_inputs_only_and_the_grus_does_not(which, separate_value):
    torch.manual_seed(0)
    kwargs = dict(obs_dim=3, act_dim=2, hidden_size=16, log_std="head", separate_value=separate_value)
    memoryless, gru = MemorylessActorCritic(**kwargs), RecurrentActorCritic(**kwargs)
    t = 4
    inputs = _inputs()
    earlier = _perturbed(inputs, which, slice(0, t))
    with torch.no_grad():
        base, changed = _moments(memoryless, inputs), _moments(memoryless, earlier)
        assert torch.equal(base[:, t:], changed[:, t:])  # nothing of steps < t reaches steps >= t
        assert not torch.allclose(base[:, :t], changed[:, :t])  # ... yet it does read that input
        now = _moments(memoryless, _perturbed(inputs, which, slice(t, t + 1)))
        assert not torch.allclose(base[:, t], now[:, t]) and torch.equal(base[:, t + 1:], now[:, t + 1:])
        gru_base, gru_changed = _moments(gru, inputs), _moments(gru, earlier)
        assert not torch.allclose(gru_base[:, t:], gru_changed[:, t:], atol=1e-6)  # the GRU remembers


def test_memoryless_steps_equal_its_sequence_and_its_state_stays_empty():
    torch.manual_seed(1)
    policy = MemorylessActorCritic(obs_dim=3, n_actions=4, hidden_size=8, embed_size=5)
    obs, _, reward, done = _inputs()
    action = torch.randint(0, 4, reward.shape)
    dist, values, state = policy.sequence(obs, action, reward, done)
    state = policy.initial_state(obs.shape[0])
    for t in range(obs.shape[1]):
        d, v, state = policy.step(obs[:, t], action[:, t], reward[:, t], done[:, t], state)
        assert state.shape == (1, 4, 0)
        torch.testing.assert_close(d.logits, dist.logits[:, t])
        torch.testing.assert_close(v, values[:, t])


def test_memoryless_learner_trains_with_tbptt_and_resumes_exactly():
    config = rl2.make_config("pendulum", memory=False, tbptt=4, **TINY)
    learner = rl2.build_learner(config)
    assert isinstance(learner.policy, MemorylessActorCritic)
    assert not any("rnn" in k for k in learner.policy.state_dict())
    trials = learner.collect(learner.tasks.train_batch(3, learner.train_rng))
    dist, _ = learner.policy.evaluate_trials(trials)  # PPO's re-run reproduces the sampler's log-probs
    torch.testing.assert_close(dist.log_prob(trials.actions) * trials.mask, trials.log_probs)

    def strip(m):
        return {k: v for k, v in m.items() if not k.startswith("time") and k != "env_steps_per_second"}

    first = rl2.build_learner(config)
    metrics = [strip(first.train_iteration(i)) for i in range(3)]
    partial = rl2.build_learner(config)
    partial.train_iteration(0), partial.train_iteration(1)
    state = partial.state_dict()  # before the next build, which reseeds torch
    resumed = rl2.build_learner(config)
    resumed.load_state_dict(state)
    assert strip(resumed.train_iteration(2)) == metrics[2]
    with pytest.raises(RuntimeError, match="rnn"):  # a memory-less checkpoint is not a recurrent one
        rl2.build_learner(rl2.make_config("pendulum", **TINY)).load_state_dict(first.state_dict())


def test_old_configs_without_the_memory_leaf_load_with_memory():
    data = config_to_dict(rl2.make_config("pendulum", **TINY))
    del data["policy"]["memory"]
    assert config_from_dict(rl2.RL2Config, data).policy.memory is True


def test_cli_trains_resumes_and_evaluates_a_memoryless_run(tmp_path, capsys):
    run = tmp_path / "ff"
    args = ["train", "rl2", "--env", "pendulum", "--no-memory", "--out", str(run), "--iterations", "1",
            "--trials-per-iteration", "4", "--hidden-size", "8", "--validation-tasks", "2", "--minibatches", "2",
            "--max-episode-steps", "5", "--quiet"]
    assert main(args) == 0
    assert main(["train", "rl2", "--resume", str(run), "--iterations", "2", "--quiet"]) == 0
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["iteration"] == 1
    assert json.loads((run / "config.json").read_text())["algorithm_config"]["policy"]["memory"] is False
    assert main(["evaluate", str(run), "--tasks", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(result["within_episode"]["x"]) == 5
