"""Collecting experience: typed episode batches and the batched sampler."""

from metarl.rollout.sampler import Sampler
from metarl.rollout.trajectories import Trajectories, TrialSequence

__all__ = ["Sampler", "Trajectories", "TrialSequence"]
