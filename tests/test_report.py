import json

from metarl.report import read_metrics, write_report
from metarl.results import Curve, EvaluationResult
from metarl.runs import RunDirectory


def _fake_run(path, algorithm, curve, *, paired=None, axis="adaptation step"):
    run = RunDirectory(path=path, config={"algorithm": algorithm})
    for it in range(5):
        run.log_metrics(it, {"return_pre": -40.0 + it, "return_post": -30.0 + 3 * it})
    run.close()
    x = list(range(len(curve))) if axis == "adaptation step" else list(range(1, len(curve) + 1))
    result = EvaluationResult(
        algorithm=algorithm, env="navigation2d", num_tasks=3, seed=0, axis=axis, x=x,
        curve=Curve(mean=curve, ci95=[1.0] * len(curve)),
        baselines={"pretrained": Curve(mean=[c - 5 for c in curve], ci95=[])}, paired=paired or {})
    (path / "evaluation_seed0.json").write_text(json.dumps(result.to_json()))


def test_report_has_plots_and_the_numbers(tmp_path):
    _fake_run(tmp_path / "a", "maml", [-40.0, -12.5, -6.25])
    _fake_run(tmp_path / "b", "rl2", [-41.0, -20.0], axis="episode")
    path = write_report([tmp_path / "a", tmp_path / "b"], tmp_path / "rep")
    text = path.read_text()
    assert "![meta-training curves](training.png)" in text and "![adaptation](adaptation.png)" in text
    assert "-12.50" in text and "baseline: pretrained" in text
    assert "maml, adaptation step 0..2" in text and "rl2, episode 1..2" in text
    for png in ("training.png", "adaptation.png"):
        assert (tmp_path / "rep" / png).read_bytes()[:4] == b"\x89PNG"


def test_report_shows_the_paired_gain(tmp_path):
    _fake_run(tmp_path / "a", "maml", [-40.0, -30.0],
              paired={"gain over step 0": Curve(mean=[0.0, 10.0], ci95=[0.0, 2.5]),
                      "minus pretrained": Curve(mean=[5.0, 5.0], ci95=[1.0, 1.5])})
    text = write_report([tmp_path / "a"]).read_text()
    assert "| a | gain over step 0, paired by task | | | +0.00 ± 0.00, +10.00 ± 2.50 |" in text
    assert "| a | minus pretrained, paired by task | | | +5.00 ± 1.00, +5.00 ± 1.50 |" in text


def test_a_result_round_trips_through_json():
    result = EvaluationResult(algorithm="x", env="e", num_tasks=2, seed=1, axis="episode", x=[1, 2],
                              curve=Curve.from_samples([[1.0, 3.0], [2.0, 2.0]]),
                              baselines={"b": Curve(mean=[0.5], ci95=[])}, details={"k": 1},
                              baseline_details={"b": {"note": "flat"}})
    data = json.loads(json.dumps(result.to_json()))
    assert data["k"] == 1 and data["baselines"]["b"]["note"] == "flat" and result["curve"]["mean"] == [2.0, 2.0]
    assert EvaluationResult.from_json(data) == result


def test_tensorboard_only_runs_are_read(tmp_path):
    _fake_run(tmp_path / "a", "maml", [-40.0])
    (tmp_path / "a" / "metrics.csv").unlink()
    series = read_metrics(tmp_path / "a")
    assert [v for _, v in series["return_post"]] == [-30.0, -27.0, -24.0, -21.0, -18.0]


def test_report_tables_success_by_class_against_adaptation(tmp_path):
    run = tmp_path / "mw"
    RunDirectory(path=run, config={"algorithm": "rl2"}).close()
    details = {"success_by_episode": [0.25, 0.75], "success_ci95_by_episode": [0.1, 0.2],
               "success_by_class_by_episode": {"reach-v3": [0.5, 1.0], "push-v3": [0.0, 0.5]}}
    result = EvaluationResult(algorithm="rl2", env="metaworld-ml10", num_tasks=4, seed=0, axis="episode", x=[1, 2],
                              curve=Curve(mean=[1.0, 2.0], ci95=[0.1, 0.1]), baselines={}, paired={},
                              details=details)
    (run / "evaluation_seed0.json").write_text(json.dumps(result.to_json()))
    text = write_report([run]).read_text()
    assert "## Success by task class" in text and "| class | episode 1 | episode 2 |" in text
    assert "| reach-v3 | 0.50 | 1.00 |" in text and "| push-v3 | 0.00 | 0.50 |" in text
    assert "| all (± 95%) | 0.25 ± 0.10 | 0.75 ± 0.20 |" in text
