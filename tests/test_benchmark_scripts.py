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


def _watched(train, validation, row_seconds, config=None):
    """Rows as the Trainer logs them: a split summing to ``train[i]`` - 0.01 (0.01 s beyond the
    split), and ``time_iteration`` = train + the row's validation time (rows in ``validation``)."""
    from benchmarks.watch import Watched

    rows = tuple({"iteration": str(i), "time_sampling": "0.1", "time_update": str(t - 0.11),
                  "time_iteration": str(t + validation.get(i, 0.0)),
                  **({"validation_score": "1.0"} if i in validation else {})} for i, t in enumerate(train))
    return Watched(command=("metarl",), wall_s=row_seconds[-1] + 1, row_seconds=tuple(row_seconds), rss=(),
                   peak_rss_mib=0.0, rows=rows,
                   config=config or {"trainer": {"validate_every": 10, "checkpoint_every": 10}}, stderr="")


def test_train_iteration_window_holds_one_validation_period_and_leaves_the_last_iteration_out():
    from benchmarks.train_iteration import summarize

    train = [2.0] + [1.0] * 8 + [1.5, 1.0, 1.0]
    validation = {9: 2.0, 11: 2.0}  # every 10th iteration and the last one validate
    # row i appears 5 s after the start plus the iterations so far, plus 0.5 s of checkpoint after row 9
    seconds, now = [], 5.0
    for i, t in enumerate(train):
        now += t + validation.get(i, 0.0) + (0.5 if i == 10 else 0.0)
        seconds.append(now)
    r = summarize(_watched(train, validation, seconds), warmup=1)
    assert r["window_iterations"] == 10 and r["window_validations"] == 1 and r["window_full_periods"] == 1
    assert abs(r["wall_per_iteration"] - (8 * 1.0 + 3.5 + 1.0 + 0.5) / 10) < 1e-9  # rows 1..10
    assert abs(r["logging_checkpoint_s"] - (1.3 - 12.5 / 10)) < 1e-9
    assert r["time_iteration"] == 1.0 and abs(r["time_other"] - 0.01) < 1e-9
    assert abs(r["validation_s"] - 2.0) < 1e-9  # not 2.25: row 9's slower train step is its own split
    assert r["time_sampling"] == 0.1 and abs(r["startup_s"] - 5.0) < 1e-9
    assert "trpo_backtracks" not in r and "env_steps_per_s" not in r


def test_train_iteration_short_run_says_its_window_has_no_whole_period():
    from benchmarks.train_iteration import summarize

    r = summarize(_watched([1.0, 1.0, 1.0, 1.0], {3: 1.0}, [6.0, 7.0, 8.0, 10.0]), warmup=1)
    assert (r["window_iterations"], r["window_validations"], r["window_full_periods"]) == (2, 0, 0)
    assert abs(r["wall_per_iteration"] - 1.0) < 1e-9


def test_memory_slope_and_flag_from_a_hand_made_rss_series():
    from benchmarks.memory import summarize

    flat = [(i, 300.0 + (0.5 if i % 10 == 0 else 0.0)) for i in range(1, 201)]
    leaking = [(i, 300.0 + i * 16 / 1024) for i in range(1, 201)]  # 16 KiB per iteration
    r = summarize(flat, 200, 310.0, threshold_kib=8.0)
    assert not r["grows"] and abs(r["slope_kib_per_iteration"]) < 1.0
    assert (r["rss_iter10_mib"], r["rss_iter100_mib"], r["rss_last_mib"]) == (300.5, 300.5, 300.5)
    r = summarize(leaking, 200, 310.0, threshold_kib=8.0)
    assert r["grows"] and abs(r["slope_kib_per_iteration"] - 16.0) < 1e-6
    assert abs(r["growth_mib"] - 190 * 16 / 1024) < 1e-9


def test_train_iteration_runs_metarl_train_and_prints_its_split(capsys):
    from benchmarks import train_iteration

    train_iteration.main(["--iterations", "3", "--threads", "1", "--runs",
                          "maml:navigation2d --meta-batch-size 2 --episodes-per-task 2 --validation-tasks 2",
                          "rl2:bandit --trials-per-iteration 8 --validation-tasks 4 --hidden-size 8"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["benchmark"] == "train_iteration" and result["threads"] == 1
    maml, rl2 = result["runs"]["maml_navigation2d"], result["runs"]["rl2_bandit"]
    common = {"time_sampling", "time_iteration", "time_other", "validation_s", "wall_per_iteration",
              "logging_checkpoint_s", "startup_s", "wall_s", "window_iterations"}
    assert common | {"time_adaptation", "time_outer", "trpo_backtracks"} <= set(maml)
    assert common | {"time_update", "env_steps_per_s", "env_steps_per_s_wall"} <= set(rl2)
    assert maml["window_iterations"] == 1 and maml["wall_per_iteration"] > 0 and maml["validation_s"] is not None


def test_memory_runs_metarl_train_and_reports_rss(capsys):
    from benchmarks import memory

    memory.main(["--iterations", "3", "--threads", "1", "--set", "maml=--meta-batch-size 2 --episodes-per-task 2",
                 "--set", "rl2=--trials-per-iteration 8 --hidden-size 8", "--set", "pearl=--initial-steps 20"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["benchmark"] == "memory" and result["iterations"] == 3
    for name in ("maml", "rl2", "pearl"):
        r = result[name]
        assert {"rss_iter10_mib", "rss_iter100_mib", "rss_last_mib", "slope_kib_per_iteration", "peak_rss_mib",
                "grows"} <= set(r)
        assert r["rss_last_mib"] > 50 and r["peak_rss_mib"] >= r["rss_last_mib"] and r["rss_iter10_mib"] is None


def test_mountaincar_hills_times_reproduce_the_modules_figures(capsys):
    """The slowest direct attempts at the lowest power, as the family's docstring quotes them."""
    from benchmarks import mountaincar_hills_times

    assert mountaincar_hills_times.main(["--powers", "0.0014", "--tasks", "20"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["powers"]["0.0014"] == {"right": 72, "left": 69}
    assert result["remember"][1] > result["remember"][0] + 30


def test_pretrain_budget_script_prints_one_line_per_budget(capsys):
    from benchmarks import maml_pretrain_budget

    assert maml_pretrain_budget.main(["--env", "navigation2d", "--tasks", "2", "--check", "1", "2"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["iterations"] for x in lines] == [1, 2] and all(len(x["return_by_step"]) == 4 for x in lines)


def test_varibad_throughput_times_both_learners_at_the_same_frames(capsys):
    from benchmarks import varibad_throughput

    varibad_throughput.main(["--iterations", "1"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["benchmark"] == "varibad_throughput" and result["trials"] == 16
    for name, parts in varibad_throughput.PARTS.items():
        assert result[name]["frames_per_s"] > 0 and all(result[name][p] >= 0 for p in parts)
    assert result["varibad_vs_rl2"] == result["varibad"]["frames_per_s"] / result["rl2"]["frames_per_s"]


def test_pearl_update_reference_is_the_same_step(capsys):
    """Oyster's per-task step and ours, on the same networks, batches and noise: the same losses."""
    from benchmarks import pearl_update

    pearl_update.main(["--steps", "1"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ours, theirs = result["first_step_ours"], result["first_step_oyster"]
    for key in ("qf_loss", "vf_loss", "policy_loss", "kl"):
        assert abs(ours[key] - theirs[key]) <= 1e-4 * max(1.0, abs(theirs[key])), key
    assert result["ratio"] > 0


def test_pearl_pipeline_times_both_loops(capsys):
    from benchmarks import pearl_pipeline

    pearl_pipeline.main(["--quick", "--no-ray", "--env", "navigation2d-sparse"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    local = result["local"]
    assert result["env"] == "navigation2d-sparse" and local["ratio"] == local["serial"]["seconds"] / local[
        "pipelined"]["seconds"]
    assert local["pipelined"]["waiting"] >= 0 and local["serial"]["waiting"] == 0
