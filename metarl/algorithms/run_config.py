"""The fields every built-in algorithm's config carries, declared once.

``metarl.building`` reads them to build the environment, the task set and the sampler
(``registry.RunnableConfig`` is that contract; a plugin may inherit this dataclass or carry the
same fields itself). An algorithm's config inherits ``RunConfig`` and re-declares a field only to
change its default or its help (``iterations``' meaning differs per algorithm); a re-declared field
keeps its place in the order, so every algorithm's ``--help`` and JSON start the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Where and how a run happens: the task family, seeds, length, device and sampling backend."""

    env: str = field(metadata=_help("task family (see `metarl envs`)"))
    seed: int = field(default=0, metadata=_help("seed of tasks, environments and weights"))
    iterations: int = field(default=500, metadata=_help("meta-iterations"))
    device: str = field(default="cpu", metadata=_help("torch device"))
    backend: str = field(default="local", metadata=_help("sampling backend: local, or ray (metarl[distributed])"))
    workers: int = field(default=1, metadata=_help("sampling slices / Ray workers (results depend on this)"))
    ray_address: str = field(default="", metadata=_help("existing Ray cluster; empty starts a local instance"))
    task_options: tuple[str, ...] = field(default=(), metadata=_help(
        "task distribution options as name=value (the bandit's arms=10)"))
    max_episode_steps: int = field(default=0, metadata=_help("episode time limit; 0 = the env's default"))
