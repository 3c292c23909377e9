import io

import pytest
import torch

from metarl.algorithms import maml
from metarl.algorithms.maml.curvature import gauss_newton_fvp
from metarl.algorithms.maml.episodes import sample_adaptation
from metarl.algorithms.maml.learner import MamlLearner, _detached_distribution
from metarl.rl.trpo import fisher_vector_product

TINY = {"hidden_sizes": (8,), "meta_batch_size": 3, "episodes_per_task": 4, "max_episode_steps": 10,
        "validation_tasks": 2, "eval_episodes": 3, "iterations": 2, "fvp_episodes": 0}


def _learner(**overrides):
    torch.manual_seed(0)
    return maml.build_learner(maml.make_config("navigation2d", **{**TINY, **overrides}))


def test_paper_preset_and_interface():
    config = maml.make_config("navigation2d")
    assert (config.policy.hidden_sizes, config.inner.inner_lr, config.sampling.meta_batch_size,
            config.sampling.episodes_per_task) == ((100, 100), 0.1, 20, 20)
    assert (config.optimizer.max_kl, config.loss.gamma, config.inner.first_order, config.optimizer.outer) == (
        0.01, 0.99, False, "trpo")
    assert {"navigation2d", "pendulum", "halfcheetah-vel", "halfcheetah-dir"} <= set(maml.PRESETS)
    assert maml.CONFIG is maml.MamlConfig and callable(maml.build_learner)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("inner_steps", 0, "inner_steps must be an integer >= 1"),
    ("inner_lr", 0.0, "inner_lr must be > 0"),
    ("inner_lr", -0.1, "inner_lr must be > 0"),
    ("eval_lrs", (0.1, -1.0), "eval_lrs"),
    ("estimator", "maml++", "estimator"),
    ("nonsense", 1, r"MamlConfig has no field\(s\) 'nonsense'"),
])
def test_bad_config_is_a_clear_error(field, value, match):
    with pytest.raises(ValueError, match=match):
        maml.make_config("navigation2d", **{field: value})


def test_env_without_preset_needs_hyperparameters():
    with pytest.raises(ValueError, match="no preset for env 'mountaincar'.*inner_lr"):
        maml.make_config("mountaincar")
    config = maml.make_config("mountaincar", inner_lr=0.05, meta_batch_size=4, episodes_per_task=2, iterations=3)
    assert config.env == "mountaincar"


def test_iteration_metrics_and_an_accepted_step_within_the_kl_bound():
    metrics = _learner().train_iteration(0)
    for key in ("return_pre", "return_post", "time_sampling", "time_adaptation", "time_outer", "trpo_rejected",
                "trpo_kl"):
        assert key in metrics
    assert metrics["trpo_rejected"] == 0.0  # a rejected step reports kl 0, which would pass any bound
    assert 0.0 < metrics["trpo_kl"] <= 0.01
    assert metrics["trpo_loss_after"] < metrics["trpo_loss_before"]


@pytest.mark.parametrize("overrides", [
    {"estimator": "dice"}, {"estimator": "lvc"}, {"first_order": True}, {"inner_steps": 2},
    {"outer": "ppo", "ppo_epochs": 2}, {"learn_inner_lr": True},
])
def test_variants_run_and_change_the_policy(overrides):
    learner = _learner(**overrides)
    before = [p.detach().clone() for p in learner.policy.parameters()]
    steps_before = None if learner.step_sizes is None else [v.detach().clone() for v in learner.step_sizes.values()]
    metrics = learner.train_iteration(0)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    if learner.config.optimizer.outer == "trpo":
        assert metrics["trpo_rejected"] == 0.0 and 0.0 < metrics["trpo_kl"] <= learner.config.optimizer.max_kl
    else:
        assert metrics["ppo_loss_last"] < metrics["ppo_loss_first"]
    assert all(not torch.equal(a, b) for a, b in zip(before, learner.policy.parameters(), strict=True))
    if steps_before is not None:  # Meta-SGD: the learned step sizes move too
        assert any(not torch.equal(a, b) for a, b in zip(steps_before, learner.step_sizes.values(), strict=True))


@pytest.mark.parametrize("steps", [1, 2])
def test_gauss_newton_product_equals_double_backward(steps):
    learner = _learner(inner_steps=steps)
    c = learner.config
    tasks = learner.tasks.train_batch(3, learner.train_rng)
    sampled = sample_adaptation(policy=learner.policy, sampler=learner.sampler, tasks=tasks, episodes=4,
                                step_sizes=[c.inner.inner_lr] * steps, gamma=c.loss.gamma,
                                gae_lambda=c.loss.gae_lambda)
    *inner, post = sampled.batches
    old = _detached_distribution(learner.policy, post.obs, sampled.params)
    params = learner.meta_parameters()
    _, kl = learner.outer_objective(inner, post, old, create_graph=True)
    reference = fisher_vector_product(kl, params, damping=1e-3)
    fast = gauss_newton_fvp(policy=learner.policy, trace=sampled.trace, inner=inner, post=post,
                            step_sizes=[c.inner.inner_lr] * steps, estimator="plain", first_order=False, damping=1e-3)
    v = torch.randn(sum(p.numel() for p in params), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(fast(v), reference(v), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("overrides", [{"estimator": "lvc"}, {"learn_inner_lr": True}, {"first_order": True}])
def test_the_outer_replay_recomputes_the_sampled_adaptation(overrides):
    """Sampling steps detached, the outer objective replays the same steps differentiably: both
    must land on the same adapted parameters (two steps; LVC, Meta-SGD step sizes, first order)."""
    learner = _learner(inner_steps=2, **overrides)
    c = learner.config
    tasks = learner.tasks.train_batch(3, learner.train_rng)
    sampled = sample_adaptation(policy=learner.policy, sampler=learner.sampler, tasks=tasks, episodes=4,
                                step_sizes=learner.inner_step_sizes([c.inner.inner_lr] * 2), gamma=c.loss.gamma,
                                gae_lambda=c.loss.gae_lambda, estimator=c.inner.estimator)
    replayed, _ = learner.replay(sampled.batches[:-1], tasks=3, create_graph=True)
    assert set(replayed) == set(sampled.params)
    for name, value in replayed.items():
        assert value.requires_grad
        torch.testing.assert_close(value.detach(), sampled.params[name], rtol=1e-5, atol=1e-6)
    assert not torch.equal(sampled.params["log_std"], sampled.trace[0]["log_std"])


def test_checkpoint_round_trip_resumes_identically():
    a, b = _learner(), _learner()  # built first: building seeds torch's global generator
    a.train_iteration(0)
    buffer = io.BytesIO()
    torch.save({"learner": a.state_dict()}, buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)["learner"]
    ma = a.train_iteration(1)
    b.load_state_dict(state)  # also restores torch's global generator, which a just advanced
    mb = b.train_iteration(1)
    assert ma["return_post"] == mb["return_post"] and ma["trpo_loss_after"] == mb["trpo_loss_after"]


def test_foreign_checkpoint_is_refused():
    learner = _learner()
    state = learner.state_dict()
    state["algorithm"] = "rl2"
    with pytest.raises(ValueError, match="'rl2', not 'maml'"):
        learner.load_state_dict(state)


def test_evaluate_result_and_plot(tmp_path):
    learner = _learner()
    result = maml.evaluate(learner, num_tasks=3, seed=0, options=maml.MamlEvalOptions(steps=2, pretrain_iterations=1))
    assert result["algorithm"] == "maml" and result["env"] == "navigation2d"
    assert result.axis == "adaptation step" and result.x == [0, 1, 2]
    assert len(result["mean_return_by_step"]) == len(result["ci95_by_step"]) == 3
    assert result.curve.mean == result["mean_return_by_step"]
    assert set(result["baselines"]) == {"pretrained", "random_init", "stay", "oracle"}
    oracle = result["baselines"]["oracle"]["mean_return_by_step"][0]
    assert oracle > max(result["mean_return_by_step"])  # knows the goal
    for name in ("pretrained", "random_init"):  # paired lead: the mean of differences is the difference of means
        base = result["baselines"][name]
        lead = [m - b for m, b in zip(result["mean_return_by_step"], base["mean_return_by_step"], strict=True)]
        assert base["maml_minus_baseline_by_step"] == pytest.approx(lead, abs=1e-4)
        assert result.paired[f"minus {name}"].mean == pytest.approx(lead, abs=1e-4)
        assert len(base["maml_minus_baseline_ci95_by_step"]) == 3
    result.plot(tmp_path / "eval.png")
    assert (tmp_path / "eval.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="num_tasks"):
        maml.evaluate(learner, num_tasks=0)


def test_summary_by_hand():
    from metarl.algorithms.maml.evaluation import summarize

    out = summarize(torch.tensor([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]]))
    assert out["mean_return_by_step"] == [2.0, 4.0]
    assert out["ci95_by_step"][0] == pytest.approx(1.96 / 3**0.5) and out["ci95_by_step"][1] == 0.0
    # paired gain: per-task differences 3, 2, 1 -> mean 2, std 1
    assert out["gain_by_step"] == [0.0, 2.0]
    assert out["gain_ci95_by_step"] == [0.0, pytest.approx(1.96 / 3**0.5)]


def test_sampled_adaptation_batches_have_normalised_advantages():
    learner = _learner(inner_steps=2)
    tasks = learner.tasks.train_batch(3, learner.train_rng)
    sampled = sample_adaptation(policy=learner.policy, sampler=learner.sampler, tasks=tasks, episodes=4,
                                step_sizes=[0.1, 0.1], gamma=0.99, gae_lambda=1.0)
    assert len(sampled.batches) == 3 and len(sampled.trace) == 3
    for batch in sampled.batches:
        n = batch.mask.sum((1, 2))
        mean = (batch.advantages * batch.mask).sum((1, 2)) / n
        var = (batch.advantages**2 * batch.mask).sum((1, 2)) / n
        torch.testing.assert_close(mean, torch.zeros(3), atol=1e-5, rtol=0)
        torch.testing.assert_close(var, torch.ones(3), atol=1e-4, rtol=0)
    assert not torch.equal(sampled.trace[1]["log_std"], sampled.trace[0]["log_std"])


def test_pretrained_baseline_gets_the_meta_training_budget_and_is_cached(tmp_path, monkeypatch):
    from metarl.algorithms.maml import evaluation

    trained = []
    original = MamlLearner.train_iteration

    def counting(self, iteration):
        if self.joint:
            trained.append(iteration)
        return original(self, iteration)

    monkeypatch.setattr(MamlLearner, "train_iteration", counting)
    learner = _learner()
    cache = tmp_path / "baseline_pretrained_seed0.pt"
    one_step = evaluation.MamlEvalOptions(steps=1)
    first = evaluation.evaluate(learner, num_tasks=2, seed=0, options=one_step, cache_dir=tmp_path)
    assert len(trained) == learner.config.iterations == first["baselines"]["pretrained"]["pretrain_iterations"]
    assert cache.is_file()
    second = evaluation.evaluate(learner, num_tasks=2, seed=0, options=one_step, cache_dir=tmp_path)
    assert len(trained) == learner.config.iterations  # reused, not trained again
    assert second["baselines"]["pretrained"] == first["baselines"]["pretrained"]
    evaluation.evaluate(learner, num_tasks=2, seed=0, cache_dir=tmp_path,
                        options=evaluation.MamlEvalOptions(steps=1, pretrain_iterations=1))
    assert len(trained) == learner.config.iterations + 1  # another budget: trained anew
    cache.write_bytes(b"not a checkpoint")
    evaluation.evaluate(learner, num_tasks=2, seed=0, cache_dir=tmp_path,
                        options=evaluation.MamlEvalOptions(steps=1, pretrain_iterations=1))
    assert len(trained) == learner.config.iterations + 2  # a damaged cache is rebuilt, not trusted
