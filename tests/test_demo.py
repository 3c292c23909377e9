"""`make demo` end to end with the smallest budgets: every run, evaluation, claim, animation and one report."""

import json

import imageio.v3 as iio

from metarl import demo
from metarl.demo_claims import paired_sentence
from metarl.results import Curve


def test_demo_trains_evaluates_and_reports_without_losing_a_previous_demo(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "keep.txt").write_text("an earlier demo")
    args = ["--out", str(out), "--maml-iterations", "1", "--rl2-iterations", "1", "--hills-iterations", "1",
            "--eval-tasks", "2", "--rl2-eval-tasks", "4", "--quiet"]
    assert demo.main(args) == 0
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.md'}" in printed
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("demo.")]
    assert len(kept) == 1 and (kept[0] / "keep.txt").read_text() == "an earlier demo"
    for run in ("maml", "rl2", "rl2-memoryless", "rl2-oracle", "rl2-hills"):
        assert (out / run / "config.json").is_file()
    rl2 = json.loads((out / "rl2" / "evaluation_seed1.json").read_text())
    assert rl2["num_tasks"] == 4 and {"oracle", "memory-less"} <= set(rl2["baselines"])
    assert "memory-less" in rl2["within_episode"]["baselines"]
    maml = json.loads((out / "maml" / "evaluation_seed1.json").read_text())
    assert maml["num_tasks"] == 2 and set(maml["baselines"]) >= {"pretrained", "random_init"}
    report = (out / "report.md").read_text()
    for image in ("claim_maml.png", "claim_rl2_within_episode.png", "claim_rl2_across_episodes.png",
                  "maml_adapts.gif", "rl2_hills_adapts.gif"):
        assert f"]({image})" in report and (out / image).is_file(), image
    # at one iteration nothing is learned: each claim must say so rather than look like success
    assert report.count("Not shown at this budget") >= 2
    frames = iio.imread(out / "rl2_hills_adapts.gif", index=None)
    assert frames.ndim == 4 and frames.shape[0] > 2


def test_a_claim_holds_only_when_its_interval_is_above_zero():
    text, holds = paired_sentence(diff=Curve(mean=[2.0], ci95=[1.0]), index=0, claim="X beats Y",
                                  number="X minus Y", tasks=10)
    assert holds and text.startswith("X beats Y.") and "+1.00 to +3.00" in text
    text, holds = paired_sentence(diff=Curve(mean=[0.5], ci95=[1.0]), index=0, claim="X beats Y",
                                  number="X minus Y", tasks=10)
    assert not holds and "Not shown at this budget" in text and "includes zero" in text
    text, holds = paired_sentence(diff=Curve(mean=[-3.0], ci95=[1.0]), index=0, claim="X beats Y",
                                  number="X minus Y", tasks=10)
    assert not holds and "below zero" in text
