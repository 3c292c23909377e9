"""``metarl train varibad`` and its evaluation through the CLI: per episode and per step of episode
1, the grid world's classic baselines and an RL² run beside it, the belief strip beside the result
and in the report."""

from __future__ import annotations

import json

import pytest

from metarl.cli import main

VARIBAD = ["--trials-per-iteration", "4", "--encoder-hidden-size", "8", "--vae-buffer-size", "20",
           "--vae-batch-trials", "3", "--precollect-frames", "0", "--validation-tasks", "4", "--minibatches", "2"]
RL2 = ["--trials-per-iteration", "4", "--hidden-size", "8", "--validation-tasks", "4", "--minibatches", "2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from metarl.algorithms.registry import register_algorithm
    from metarl.algorithms.varibad import ALGORITHM

    register_algorithm(ALGORITHM)
    root = tmp_path_factory.mktemp("runs")
    for name, flags in (("varibad", VARIBAD), ("rl2", RL2)):
        assert main(["train", name, "--env", "gridworld", "--out", str(root / name), "--iterations", "2", "--quiet",
                     *flags]) == 0
    return root


def test_evaluation_over_the_bamdp_horizon_beside_baselines_and_rl2(runs, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(runs / "varibad"), "--tasks", "6", "--json", "--baseline",
                 f"rl2={runs / 'rl2'}", "--belief-task", "2"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["algorithm"] == "varibad" and result["axis"] == "episode" and result["x"] == [1, 2, 3, 4]
    assert len(result["curve"]["mean"]) == len(result["curve"]["ci95"]) == 4
    assert set(result["baselines"]) == {"random", "oracle", "bayes-optimal", "rl2"}
    assert result["baselines"]["bayes-optimal"]["exact_per_episode"][0] == pytest.approx(4.0)
    steps = result["within_episode"]
    assert steps["x"] == list(range(1, 16)) and set(steps["baselines"]) == {"rl2"}
    assert sum(steps["curve"]["mean"]) == pytest.approx(result["curve"]["mean"][0])
    assert "minus rl2" in result["paired"]
    strip = result["belief_strip"]
    assert strip["task"] == 2 and len(strip["belief"]) == 61 and len(strip["belief"][0]) == 25
    assert sum(strip["belief"][30]) == pytest.approx(1.0, abs=1e-3) and strip["episode_ends"] == [15, 30, 45, 60]
    assert (runs / "varibad" / "evaluation_seed0_belief_task2_belief.png").stat().st_size > 1000  # options in the name


def test_report_shows_the_belief(runs, tmp_path):
    assert main(["evaluate", str(runs / "varibad"), "--tasks", "3", "--json", "--no-classic"]) == 0
    assert main(["report", str(runs / "varibad"), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "belief over the goal cells" in text
    assert list(tmp_path.glob("varibad*_belief.png"))  # varibad_belief.png, or one per file beside other evaluations


def test_a_maml_run_is_no_baseline(runs, tmp_path, capsys):
    run = tmp_path / "maml"
    assert main(["train", "maml", "--env", "gridworld", "--out", str(run), "--iterations", "1", "--quiet",
                 "--meta-batch-size", "2", "--episodes-per-task", "2", "--validation-tasks", "2", "--inner-lr", "0.1",
                 "--eval-episodes", "2", "--hidden-sizes",
                 "8"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(runs / "varibad"), "--tasks", "3", "--baseline", str(run)]) == 2
    assert "it must be a varibad or rl2 run" in capsys.readouterr().err


def test_adapt_plays_the_trial_the_sampler_plays_and_saves_the_belief(runs, capsys):
    """The adapted agent advances its belief over each step as the sampler does: episode by
    episode it earns what the learner's own trial on that task earns; ``metarl adapt`` writes it,
    and the reloaded agent acts as the adapted one."""
    import numpy as np

    from metarl import api
    from metarl.adapting import play_episode

    learner = api.load(runs / "varibad")
    inner = learner.learner
    task = inner.tasks.test_tasks(1)
    trial = inner.play(task, seed=0, deterministic=True).episode_returns()[0].tolist()
    agent = learner.spec.make_agent(inner, task, seed=0, adapted=False)
    env = inner.env_factory(tasks=task)
    env.reset(seed=0)
    assert [play_episode(agent, env).total for _ in range(4)] == pytest.approx(trial)

    assert main(["adapt", str(runs / "varibad"), "--task", "goals=2,3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    loaded, fresh = api.load_agent(summary["agent"]), learner.adapt({"goals": [2.0, 3.0]}, seed=0)
    probe = np.array([[0, 0], [1, 2], [4, 4]], dtype=np.float32)
    assert [int(loaded.act(o)) for o in probe] == [int(fresh.act(o)) for o in probe]
