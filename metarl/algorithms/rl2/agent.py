"""RL²'s adapted agent: the recurrent policy with the memory of a trial on one task
(``metarl.rl.memory_agent``, shared with VariBAD)."""

from metarl.rl.memory_agent import MemoryAgent, make_agent

__all__ = ["MemoryAgent", "make_agent"]
