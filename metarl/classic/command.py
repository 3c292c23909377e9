"""``metarl baselines {bandit,mdp,navigation,gridworld}``: score the classic baselines on held-out tasks.

Tasks are the test split of ``--seed`` (``TaskSplit(...).test_tasks``), so the numbers line up
with an agent evaluated on the same seed. Prints a table, or with ``--json`` exactly one JSON
object ``{"<baseline>": {"mean": ..., "stderr": ..., "constant": ..., "exact": ..., "per_episode":
[...], "exact_per_episode": ...}}``; ``exact`` is the expected trial return where it is known exactly
(the bandit's Bayes-optimal policy, the grid world's baselines), else null, and ``exact_per_episode``
the same per episode where known. A baseline that cannot run at the asked size (Bayes-optimal on
long trials) is left out with a note on stderr, or refused when named in ``--only``.
"""

from __future__ import annotations

import argparse
import json
import sys

from metarl.classic.evaluate import BaselineResult, baseline_family, evaluate_baselines, unavailable_baselines
from metarl.envs.bandit import BanditDistribution
from metarl.envs.gridworld import GridworldDistribution
from metarl.envs.navigation import NavigationDistribution
from metarl.envs.tabular_mdp import TabularMDPDistribution
from metarl.errors import ConfigError
from metarl.tasks import TaskDistribution, TaskSplit

FAMILIES = ("bandit", "mdp", "navigation", "gridworld")
DEFAULT_EPISODES = {"gridworld": 4}  # VariBAD's trial; the others default to 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("family", choices=FAMILIES, help="task family")
    parser.add_argument("--arms", type=int, default=5, help="bandit arms k (bandit only; default 5)")
    parser.add_argument(
        "--episodes", type=int, default=None,
        help="episodes per trial n (a bandit episode is one pull; default 4 on gridworld, else 10)",
    )
    parser.add_argument("--tasks", type=int, default=1000, help="number of test tasks (>= 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the task split and the runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these baselines")


def _distribution(args: argparse.Namespace) -> TaskDistribution:
    if args.family == "bandit":
        return BanditDistribution(arms=args.arms)
    if args.family == "gridworld":
        return GridworldDistribution()
    return TabularMDPDistribution() if args.family == "mdp" else NavigationDistribution()


def _validate(args: argparse.Namespace) -> None:
    if args.family not in FAMILIES:
        raise ConfigError(f"family must be one of {', '.join(FAMILIES)}, got {args.family!r}")
    if args.arms < 2:
        raise ConfigError(f"--arms must be >= 2, got {args.arms}")
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {args.episodes}")
    if args.tasks < 2:
        raise ConfigError(f"--tasks must be >= 2 (a standard error needs two), got {args.tasks}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    names = baseline_family(args.family).names
    unknown = [n for n in args.only or [] if n not in names]
    if unknown:
        raise ConfigError(f"--only: unknown {args.family} baseline(s) {unknown}; allowed: {', '.join(names)}")


def format_table(results: dict[str, BaselineResult]) -> str:
    """Readable table: baseline, mean, stderr, the exact expected return (a column only when some
    baseline has one), constant used."""
    with_exact = any(r.exact is not None for r in results.values())
    rows = [("baseline", "mean", "stderr") + (("exact",) if with_exact else ()) + ("constant",)]
    for r in results.values():
        exact = (("" if r.exact is None else f"{r.exact:.4f}",) if with_exact else ())
        rows.append((r.name, f"{r.mean:.2f}", f"{r.stderr:.2f}", *exact, r.constant))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for name, *numbers, constant in rows:
        cells = [name.ljust(widths[0]), *(c.rjust(w) for c, w in zip(numbers, widths[1:], strict=True)), constant]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status (2 on bad arguments, message on stderr)."""
    if args.episodes is None:
        args.episodes = DEFAULT_EPISODES.get(args.family, 10)
    try:
        _validate(args)
        tasks = TaskSplit(distribution=_distribution(args), seed=args.seed).test_tasks(args.tasks)
        skipped = unavailable_baselines(args.family, tasks=tasks, episodes=args.episodes)
        named = [n for n in args.only or [] if n in skipped]
        if named:
            raise ConfigError(f"--only: {skipped[named[0]]}")
    except ValueError as err:
        print(f"metarl baselines: error: {err}", file=sys.stderr)
        return 2
    for why in skipped.values() if args.only is None else ():
        print(f"metarl baselines: note: left out {why}", file=sys.stderr)
    results = evaluate_baselines(
        args.family, tasks=tasks, episodes=args.episodes, seed=args.seed, names=args.only
    )
    if args.json:
        print(json.dumps({name: r.to_dict() for name, r in results.items()}))
    else:
        label = f", k={args.arms}" if args.family == "bandit" else ""
        print(f"{args.family}: n={args.episodes}{label}, {args.tasks} test tasks of seed {args.seed}")
        print(format_table(results))
        for r in results.values():
            if r.exact_per_episode is not None:
                print(f"{r.name} exact per episode: " + " ".join(f"{v:.4f}" for v in r.exact_per_episode))
    return 0
