import json

from metarl.report import read_metrics, write_report
from metarl.runs import RunDirectory


def _fake_run(path, algorithm, curve_key, curve, **extra):
    run = RunDirectory(path=path, config={"algorithm": algorithm})
    for it in range(5):
        run.log_metrics(it, {"return_pre": -40.0 + it, "return_post": -30.0 + 3 * it})
    run.close()
    (path / "evaluation_seed0.json").write_text(json.dumps({
        "algorithm": algorithm, "env": "navigation2d", curve_key: curve, "ci95_by_step": [1.0] * len(curve),
        "baselines": {"pretrained": {curve_key: [c - 5 for c in curve]}}, **extra,
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


def test_report_shows_the_paired_gain(tmp_path):
    _fake_run(tmp_path / "a", "maml", "mean_return_by_step", [-40.0, -30.0],
              gain_by_step=[0.0, 10.0], gain_ci95_by_step=[0.0, 2.5])
    evaluation = tmp_path / "a" / "evaluation_seed0.json"
    result = json.loads(evaluation.read_text())
    result["baselines"]["pretrained"].update(maml_minus_baseline_by_step=[5.0, 5.0],
                                             maml_minus_baseline_ci95_by_step=[1.0, 1.5])
    evaluation.write_text(json.dumps(result))
    text = write_report([tmp_path / "a"]).read_text()
    assert "| a | gain over step 0, paired by task | | | +0.00 ± 0.00, +10.00 ± 2.50 |" in text
    assert "(MAML minus this, paired: +5.00 ± 1.00, +5.00 ± 1.50)" in text


def test_tensorboard_only_runs_are_read(tmp_path):
    _fake_run(tmp_path / "a", "maml", "mean_return_by_step", [-40.0])
    (tmp_path / "a" / "metrics.csv").unlink()
    series = read_metrics(tmp_path / "a")
    assert [v for _, v in series["return_post"]] == [-30.0, -27.0, -24.0, -21.0, -18.0]
