"""Classic (non-meta-learned) baselines that adaptive agents are judged against.

``evaluate_baselines(family, tasks=..., episodes=n, seed=...)`` plays one trial of n episodes
per task with each baseline of the family and returns mean, standard error and the per-episode
curve: bandits (random, greedy, epsilon-greedy, UCB1, Thompson, Gittins, exact Bayes-optimal),
tabular MDPs (random, greedy, PSRL), 2D navigation (random, stay, straight-line oracle) and the grid
world (random, oracle, exact Bayes-optimal).
"""

from metarl.classic.evaluate import evaluate_baselines, has_baselines
from metarl.classic.trials import BaselineResult, TrialPolicy, run_trials

__all__ = ["BaselineResult", "TrialPolicy", "evaluate_baselines", "has_baselines", "run_trials"]
