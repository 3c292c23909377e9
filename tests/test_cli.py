import json

import pytest

from metarl.cli import main


def test_envs_lists_every_family_with_task_parameters(capsys):
    assert main(["envs", "--json"]) == 0
    rows = {r["env"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"bandit", "tabular-mdp", "navigation2d", "pendulum"} <= set(rows)
    assert set(rows["pendulum"]["task_parameters"]) == {"mass", "length", "gravity"}


def test_evaluate_of_a_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "is not a metarl run" in err and "Traceback" not in err


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == 2


def test_maml_evaluate_trains_its_pretrained_baseline_once_and_rl2_refuses_the_flag(tmp_path, capsys):
    from metarl import api

    maml_run = api.train("maml", env="navigation2d", out=tmp_path / "maml", seed=0, iterations=1, quiet=True,
                         hidden_sizes=(8,), meta_batch_size=2, episodes_per_task=2, max_episode_steps=5,
                         validation_tasks=2, eval_episodes=2)
    args = ["evaluate", str(maml_run), "--tasks", "2", "--steps", "1", "--pretrain-iterations", "2", "--episodes", "3",
            "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["baselines"]["pretrained"]["pretrain_iterations"] == 2
    assert result["episodes_per_step"] == 3 and len(result["gain_by_step"]) == 2
    assert (maml_run / "baseline_pretrained_seed0.pt").is_file()
    written = sorted(p.name for p in maml_run.glob("evaluation*.json"))
    assert written == ["evaluation_seed0_steps1_episodes3_pretrain_iterations2.json"], written  # options in the name
    rl2_run = api.train("rl2", env="bandit", out=tmp_path / "rl2", seed=0, iterations=1, quiet=True,
                        trials_per_iteration=8, validation_tasks=4)
    assert main(["evaluate", str(rl2_run), "--tasks", "4", "--pretrain-iterations", "2"]) == 2
    err = capsys.readouterr().err
    assert "Unrecognized options: --pretrain-iterations" in err and "Traceback" not in err
    assert main(["evaluate", str(rl2_run), "--tasks", "4", "--episodes", "2"]) == 2
    assert "Unrecognized options: --episodes" in capsys.readouterr().err
    assert main(["evaluate", str(maml_run), "--tasks", "2", "--episodes", "0"]) == 2
    assert "episodes" in capsys.readouterr().err


def test_resume_applies_more_iterations_and_refuses_other_changes_naming_them(tmp_path, capsys):
    run = tmp_path / "run"
    base = ["train", "rl2", "--env", "bandit", "--trials-per-iteration", "8", "--validation-tasks", "4",
            "--hidden-size", "8", "--minibatches", "2", "--quiet"]
    assert main([*base, "--out", str(run), "--iterations", "2"]) == 0
    assert main(["train", "rl2", "--resume", str(run), "--lr", "0.1", "--gamma", "0.5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "lr (stored 0.003, given 0.1)" in err and "gamma (stored 1.0, given 0.5)" in err
    assert "Flags allowed with --resume: --iterations" in err
    assert main(["train", "rl2", "--resume", str(run), "--iterations", "4", "--quiet"]) == 0
    record = json.loads((run / "config.json").read_text())
    assert record["algorithm_config"]["iterations"] == 4
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["iteration"] == 3
    assert main(["train", "rl2", "--resume", str(run), "--hidden-size", "8", "--quiet"]) == 0  # unchanged value


def test_evaluating_a_ray_run_samples_locally_and_starts_no_ray(tmp_path, capsys):
    ray = pytest.importorskip("ray")
    from metarl import api

    run = api.train("rl2", env="bandit", out=tmp_path / "ray", iterations=1, quiet=True, trials_per_iteration=8,
                    validation_tasks=4, hidden_size=8, minibatches=2, backend="ray", workers=2)
    ray.shutdown()
    assert main(["evaluate", str(run), "--tasks", "4", "--json"]) == 0
    assert not ray.is_initialized()


def test_maml_task_options_reach_the_env(tmp_path):
    """arms=10 used to reach the task distribution only, so the 5-arm env refused the first collect."""
    from metarl.algorithms import maml

    learner = maml.build_learner(maml.make_config("bandit", task_options=("arms=10",), inner_lr=0.1,
                                                  meta_batch_size=2, episodes_per_task=2, iterations=1,
                                                  validation_tasks=2, hidden_sizes=(8,)))
    assert learner.env.single_action_space.n == 10
    assert learner.train_iteration(0)["return_post"] >= 0


def test_maml_evaluate_says_it_trains_the_pretrained_baseline_with_budget_progress_and_cache(tmp_path, capsys):
    from metarl import api

    run = api.train("maml", env="navigation2d", out=tmp_path / "maml", seed=0, iterations=1, quiet=True,
                    hidden_sizes=(8,), meta_batch_size=2, episodes_per_task=2, max_episode_steps=5,
                    validation_tasks=2, eval_episodes=2)
    assert main(["evaluate", str(run), "--tasks", "2", "--steps", "1", "--pretrain-iterations", "10", "--json"]) == 0
    err = capsys.readouterr().err
    assert "training the pretrained baseline" in err and "for 10 iterations" in err
    assert str(run / "baseline_pretrained_seed0.pt") in err
    assert "pretrained baseline: iter 10/10" in err  # a progress line on a pipe
    assert main(["evaluate", str(run), "--tasks", "2", "--steps", "1", "--pretrain-iterations", "10", "--json"]) == 0
    assert "training the pretrained baseline" not in capsys.readouterr().err  # cached: nothing to train


def test_threads_flag_sets_torchs_threads_and_refuses_negative(tmp_path, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        run = str(tmp_path / "r")
        assert main(["train", "rl2", "--env", "bandit", "--out", run, "--dry-run", "--threads", "1"]) == 0
        assert torch.get_num_threads() == 1
        assert main(["train", "rl2", "--env", "bandit", "--out", str(tmp_path / "r"), "--dry-run",
                     "--threads", "-2"]) == 2
        assert "--threads must be >= 1 (0: torch's default), got -2" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)


def test_a_reader_that_goes_away_is_no_stack_trace(tmp_path):
    """``metarl train ... --dry-run | head -1``: the pipe closes before the config is printed."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "metarl", "train", "rl2", "--env", "bandit", "--out",
                             str(tmp_path / "r"), "--dry-run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 141
