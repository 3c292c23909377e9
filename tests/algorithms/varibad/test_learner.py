"""VariBAD's learner: the online belief is the stored trial's, gradients stop at the belief, a
checkpoint resumes exactly, and bad config is a clear error."""

from __future__ import annotations

import io

import pytest
import torch

from metarl.algorithms import varibad
from metarl.errors import ConfigError

TINY = dict(trials_per_iteration=4, encoder_hidden_size=8, vae_buffer_size=10, vae_batch_trials=3,
            precollect_frames=0, validation_tasks=4, minibatches=2, iterations=3)


def _learner(**overrides) -> varibad.VariBADLearner:
    return varibad.build_learner(varibad.make_config("gridworld", **{**TINY, **overrides}))


def test_preset_is_the_references_grid_settings():
    config = varibad.make_config("gridworld")
    assert (config.episodes_per_trial, config.max_trial_length, config.trials_per_iteration) == (4, 60, 16)
    assert config.trials_per_iteration * config.max_trial_length * config.iterations == pytest.approx(2e7, rel=1e-4)
    assert (config.encoder.encoder_hidden_size, config.encoder.latent_dim, config.decoder.reward_decoder) == \
        (64, 5, "cells")
    assert (config.loss.gamma, config.loss.clip_range, config.optimizer.lr, config.optimizer.ppo_epochs,
            config.optimizer.minibatches, config.loss.entropy_coef) == (0.95, 0.05, 7e-4, 2, 4, 0.01)
    assert (config.vae.vae_buffer_size, config.vae.vae_batch_trials, config.vae.vae_updates, config.vae.kl_weight) == \
        (100_000, 25, 3, 0.01)


def test_sampled_log_probs_are_those_of_the_belief_recomputed_over_the_stored_trial():
    """The sampler's belief (advanced step by step through ``transition``, the final observation at
    episode ends) is the encoder's over the stored trial: the policy's log-probabilities agree."""
    learner = _learner()
    learner.train_iteration(0)  # the input normalisers and weights are no longer the initial ones
    trials = learner.collect(learner.tasks.train_batch(4, learner.train_rng))
    mean, logvar = learner.beliefs(trials)
    with torch.no_grad():
        dist, values = learner.policy(trials.obs, torch.cat([mean[:, :-1], logvar[:, :-1]], -1))
    assert torch.allclose(dist.log_prob(trials.actions), trials.log_probs, atol=1e-5)
    assert torch.allclose(values, trials.values, atol=1e-5)
    assert int(trials.episode_ends().sum()) == 4 * 4  # episodes did end inside the trials


def test_ppo_gradients_stop_at_the_belief():
    learner = _learner()
    trials = learner.collect(learner.tasks.train_batch(4, learner.train_rng))
    rows = learner.policy_batch(trials)
    loss, _ = learner.ppo_loss(rows, index=torch.arange(rows["advantages"].shape[0]))
    learner.vae.zero_grad(set_to_none=True)
    loss.backward()
    assert all(p.grad is None for p in learner.vae.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in learner.policy.parameters())


def test_vae_loss_reaches_encoder_and_decoder_but_not_the_policy():
    learner = _learner()
    learner.buffer.add(learner.collect(learner.tasks.train_batch(4, learner.train_rng)))
    batch = learner.buffer.sample(3, torch.Generator().manual_seed(0))
    loss, _ = learner.vae.loss(batch, noise=torch.randn(3, batch.mask.shape[1] + 1, 5))
    loss.backward()
    assert all(p.grad is None for p in learner.policy.parameters())
    assert learner.vae.encoder.gru.weight_hh_l0.grad.abs().sum() > 0
    assert learner.vae.reward_decoder.head.weight.grad.abs().sum() > 0


def test_checkpoint_round_trip_resumes_exactly():
    first = _learner()
    for it in range(2):
        first.train_iteration(it)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    expected = first.train_iteration(2)
    second = _learner(seed=5)  # other weights and streams, overwritten by the checkpoint
    buffer.seek(0)
    second.load_state_dict(torch.load(buffer, weights_only=True))
    got = second.train_iteration(2)
    timing = {k for k in expected if k.startswith("time") or k.endswith("per_second")}
    assert {k: v for k, v in got.items() if k not in timing} == {k: v for k, v in expected.items() if k not in timing}
    assert len(second.buffer) == len(first.buffer) == 10  # the ring wrapped: 12 trials into 10


def test_buffer_keeps_the_most_recent_trials():
    learner = _learner(vae_buffer_size=6)
    batches = [learner.collect(learner.tasks.train_batch(4, learner.train_rng)) for _ in range(2)]
    for trials in batches:
        learner.buffer.add(trials)
    kept = learner.buffer.rewards[:6].sum(1).tolist()
    newest = batches[1].trial_returns().tolist() + batches[0].trial_returns()[2:].tolist()
    assert sorted(kept) == pytest.approx(sorted(newest))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("latent_dim", 0, "latent_dim=0 is not allowed: an integer >= 1"),
    ("kl_weight", -1.0, "kl_weight=-1.0 is not allowed: a number >= 0"),
    ("reward_decoder", "gaussian", "reward_decoder='gaussian' is not allowed"),
    ("policy_layers", (), "policy_layers=() is not allowed: at least one layer"),
    ("state_embed_size", 0, "all embeddings are 0"),
])
def test_bad_config_names_the_field(field, value, message):
    overrides = {field: value}
    if field == "state_embed_size":
        overrides["reward_embed_size"] = 0
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        varibad.make_config("gridworld", **overrides)


def test_cells_decoder_needs_a_grid():
    config = varibad.make_config("pendulum", reward_decoder="cells", validation_tasks=2)
    with pytest.raises(ConfigError, match="reward_decoder='cells' needs observations that are cells of a grid"):
        varibad.build_learner(config)


def test_continuous_family_trains_with_the_transition_decoder():
    learner = varibad.build_learner(varibad.make_config(
        "navigation2d", trials_per_iteration=2, encoder_hidden_size=8, vae_buffer_size=4, vae_batch_trials=2,
        precollect_frames=0, validation_tasks=2, decode_state=True, decoder_prev_state=True, decoder_action=True,
        prev_state_embed_size=4, action_embed_size=4))
    stats = learner.train_iteration(0)
    assert {"reward_reconstruction", "state_reconstruction", "kl", "policy_loss"} <= set(stats)
