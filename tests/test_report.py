import json

from metarl.report import read_metrics, write_report
from metarl.runs import RunDirectory


def _fake_run(path, algorithm, curve_key, curve):
    run = RunDirectory(path=path, config={"algorithm": algorithm})
    for it in range(5):
        run.log_metrics(it, {"return_pre": -40.0 + it, "return_post": -30.0 + 3 * it})
    run.close()
    (path / "evaluation_seed0.json").write_text(json.dumps({
        "algorithm": algorithm, "env": "navigation2d", curve_key: curve, "ci95_by_step": [1.0] * len(curve),
        "baselines": {"pretrained": {curve_key: [c - 5 for c in curve]}},
    }))


def test_report_has_plots_and_the_numbers(tmp_path):
    _fake_run(tmp_path / "a", "maml", "mean_return_by_step", [-40.0, -12.5, -6.25])
    _fake_run(tmp_path / "b", "maml", "mean_return_by_step", [-41.0, -20.0])
    path = write_report([tmp_path / "a", tmp_path / "b"], tmp_path / "rep")
    text = path.read_text()
    assert "![meta-training curves](training.png)" in text and "![adaptation](adaptation.png)" in text
    assert "-12.50" in text and "baseline: pretrained" in text
    for png in ("training.png", "adaptation.png"):
        assert (tmp_path / "rep" / png).read_bytes()[:4] == b"\x89PNG"


def test_tensorboard_only_runs_are_read(tmp_path):
    _fake_run(tmp_path / "a", "maml", "mean_return_by_step", [-40.0])
    (tmp_path / "a" / "metrics.csv").unlink()
    series = read_metrics(tmp_path / "a")
    assert [v for _, v in series["return_post"]] == [-30.0, -27.0, -24.0, -21.0, -18.0]
