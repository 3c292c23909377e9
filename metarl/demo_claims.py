"""The demo's claims: each one picture and one sentence that states its paired number honestly.

A claim holds when the lower end of its paired 95% interval is above zero. When it does not, the
sentence says so in plain words ("not shown at this budget"), so that a plot that looks like
success is never the only thing a reader sees.
"""

from __future__ import annotations

from pathlib import Path

from metarl.report import Lead
from metarl.results import Curve, EvaluationResult, save_figure


def paired_sentence(*, diff: Curve, index: int, claim: str, number: str, tasks: int) -> tuple[str, bool]:
    """``(sentence, holds)`` for the paired difference ``diff`` at point ``index``.

    ``claim``: what holding means ("MAML beats the pretrained policy after 3 steps"); ``number``:
    what the difference is ("MAML minus pretrained, after 3 steps").
    """
    mean = diff.mean[index]
    half = diff.ci95[index] if diff.ci95 else float("nan")
    low, high = mean - half, mean + half
    figures = f"{number}: {mean:+.2f} (95% interval {low:+.2f} to {high:+.2f}, paired over {tasks} held-out tasks)"
    if low > 0:
        return f"{claim}. {figures}.", True
    why = "is below zero" if high < 0 else "includes zero"
    return (f"**Not shown at this budget:** the claim \"{claim}\" does not hold here. {figures}; the interval "
            f"{why}. A longer run (the demo's budget flags) is needed before this picture means adaptation."), False


def maml_lead(result: EvaluationResult, out: Path) -> tuple[Lead, bool]:
    """MAML's return against adaptation steps, with the pretrained and random-init baselines."""
    image = "claim_maml.png"
    result.plot(out / image)
    last = len(result.x) - 1
    sentences, holds = [], True
    for base in ("pretrained", "random_init"):
        key = f"minus {base}"
        if key not in result.paired:
            continue
        shown = base.replace("_", " ")
        text, ok = paired_sentence(
            diff=result.paired[key], index=last, tasks=result.num_tasks,
            claim=f"After {last} adaptation steps MAML's policy earns more than the {shown} policy fine-tuned the "
                  "same way", number=f"MAML minus {shown}, after {last} steps")
        sentences.append(text)
        holds &= ok
    lead = Lead(title=f"MAML adapts by gradient steps ({result.env})", image=image, sentence=" ".join(sentences))
    return lead, holds


def rl2_within_episode_lead(result: EvaluationResult, out: Path, *, memoryless: str, oracle: str) -> tuple[Lead, bool]:
    """RL²'s return per time step in episode 1 beside the memory-less policy and the oracle."""
    image = "claim_rl2_within_episode.png"
    _plot_steps(result, out / image, names=(memoryless, oracle))
    text, ok = paired_sentence(
        diff=result.paired[f"minus {memoryless}"], index=0, tasks=result.num_tasks,
        claim=f"Within the first episode RL² earns more than the {memoryless} policy (same PPO, same inputs, no "
              "memory): it infers the task from the dynamics as it acts",
        number=f"RL² minus {memoryless}, return of episode 1")
    return Lead(title=f"RL² adapts within an episode ({result.env})", image=image, sentence=text), ok


def rl2_across_episodes_lead(result: EvaluationResult, out: Path) -> tuple[Lead, bool]:
    """RL²'s return per episode of a trial, where the task is told only by reward."""
    image = "claim_rl2_across_episodes.png"
    result.plot(out / image)
    text, ok = paired_sentence(
        diff=result.paired["gain over episode 1"], index=1, tasks=result.num_tasks,
        claim="RL² earns more in episode 2 than in episode 1 of the same trial: what episode 1 found out is "
              "carried in its memory",
        number="episode 2 minus episode 1")
    reached = result.details.get("success_by_episode")
    if reached and len(reached) > 1:
        text += (f" The task's goal was reached in {100 * reached[0]:.0f}% of trials in episode 1 and "
                 f"{100 * reached[1]:.0f}% in episode 2.")
    return Lead(title=f"RL² adapts across episodes ({result.env})", image=image, sentence=text), ok


def _plot_steps(result: EvaluationResult, path: Path, *, names: tuple[str, ...]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metarl.results import StepCurves, draw_steps

    steps = result.within_episode
    if steps is None:
        raise ValueError(f"the {result.algorithm} evaluation has no within-episode curves to plot")
    shown = StepCurves(episode=steps.episode, x=steps.x, curve=steps.curve,
                       baselines={n: steps.baselines[n] for n in names if n in steps.baselines})
    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw_steps(ax, shown, label="RL²")
    ax.set_title(f"RL² within episode {steps.episode} on {result.env} ({result.num_tasks} held-out tasks)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)
