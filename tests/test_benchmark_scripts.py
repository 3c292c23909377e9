"""The results benchmarks run end to end at tiny budgets (their numbers are measured, not tested)."""

import json

from benchmarks import maml_pendulum


def test_maml_pendulum_script_prints_its_checks(tmp_path, capsys):
    assert maml_pendulum.main(["--out", str(tmp_path / "run"), "--iterations", "1", "--tasks", "3",
                               "--threads", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result["checks"]) == {"adaptation_gain_above_zero", "above_pretrained_fine_tuned"}
    assert result["baselines"]["pretrained"]["pretrain_iterations"] == 1


def test_checks_read_the_lower_end_of_the_paired_interval():
    result = {"gain_by_step": [0.0, 10.0], "gain_ci95_by_step": [0.0, 9.0],
              "baselines": {"pretrained": {"maml_minus_baseline_by_step": [0.0, 10.0],
                                           "maml_minus_baseline_ci95_by_step": [0.0, 11.0]}}}
    assert maml_pendulum.checks(result) == {"adaptation_gain_above_zero": True, "above_pretrained_fine_tuned": False}


def test_set_overrides_are_typed_like_config_fields():
    import pytest

    from metarl.api import configure

    config = configure("maml", "pendulum", items=["inner_lr=0.05", "hidden_sizes=64,64", "estimator=dice",
                                                  "compile=true", "meta_batch_size=40", "activation=tanh"])
    assert (config.inner.inner_lr, config.policy.hidden_sizes, config.inner.estimator, config.compile,
            config.sampling.meta_batch_size, config.policy.activation) == (0.05, (64, 64), "dice", True, 40, "tanh")
    with pytest.raises(ValueError, match="lvc"):
        configure("maml", "pendulum", items=["lvc"])
    with pytest.raises(ValueError, match="inner_lr must be > 0"):
        configure("maml", "pendulum", items=["inner_lr=-1"])


def test_rl2_results_reports_a_trained_run(tmp_path, capsys):
    import metarl
    from benchmarks import rl2_results

    run = metarl.train("rl2", env="bandit", out=str(tmp_path / "run"), seed=0, iterations=2, quiet=True,
                       trials_per_iteration=16, validation_tasks=8, validate_every=1)
    assert rl2_results.main(["--run", str(run), "--tasks", "10", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert "RL² on bandit: 10 held-out tasks" in out
    assert result["training"]["iterations"] == 2
    assert result["training"]["train_env_steps"] == 2 * 16 * 10
    written = json.loads((tmp_path / "out" / "rl2_bandit.json").read_text())
    assert written["mean_trial_return"] == result["mean_trial_return"]


def test_rl2_results_refuses_a_negative_time_budget():
    import pytest

    from benchmarks import rl2_results

    with pytest.raises(SystemExit, match=r"--minutes=-1.0 is not allowed: a number >= 0"):
        rl2_results.main(["--preset", "bandit", "--minutes", "-1"])


def test_mountaincar_hills_times_reproduce_the_modules_figures(capsys):
    """The slowest direct attempts at the lowest power, as the family's docstring quotes them."""
    from benchmarks import mountaincar_hills_times

    assert mountaincar_hills_times.main(["--powers", "0.0014", "--tasks", "20"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["powers"]["0.0014"] == {"right": 72, "left": 69}
    assert result["remember"][1] > result["remember"][0] + 30
