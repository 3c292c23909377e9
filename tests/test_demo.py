"""`make demo` end to end with the smallest budgets: three runs, evaluations and one report."""

import json

from metarl import demo


def test_demo_trains_evaluates_and_reports_without_losing_a_previous_demo(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "keep.txt").write_text("an earlier demo")
    args = ["--out", str(out), "--maml-iterations", "1", "--rl2-iterations", "1", "--eval-tasks", "2",
            "--rl2-eval-tasks", "4", "--quiet"]
    assert demo.main(args) == 0
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.md'}" in printed
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("demo.")]
    assert len(kept) == 1 and (kept[0] / "keep.txt").read_text() == "an earlier demo"
    for run in ("maml", "rl2", "rl2-oracle"):
        assert (out / run / "config.json").is_file()
    rl2 = json.loads((out / "rl2" / "evaluation_seed1.json").read_text())
    assert rl2["num_tasks"] == 4 and "oracle" in rl2["baselines"]
    maml = json.loads((out / "maml" / "evaluation_seed1.json").read_text())
    assert maml["num_tasks"] == 2 and set(maml["baselines"]) >= {"pretrained", "random_init"}
    report = (out / "report.md").read_text()
    assert "maml" in report and "rl2" in report
    assert (out / "training.png").is_file() and (out / "adaptation.png").is_file()
