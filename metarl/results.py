"""The evaluation result every algorithm returns: one typed record, one JSON form, one plot.

Where the meaning is shared, the field is shared: ``curve`` is the agent's mean return on held-out
tasks against the adaptation axis (``axis``: "adaptation step" for gradient methods, 0 = before
adapting; "episode" for memory methods, 1 = the first episode of a trial), with a 95% interval over
tasks. ``baselines`` holds other agents' curves on the same tasks, and ``paired`` the paired
differences (each task's own difference, so how much tasks differ from one another drops out; the
interval answers "is this difference real?"). ``within_episode``, optional, holds the same three
per time step inside one episode (how fast a memory method adapts within its first episode). What
only one algorithm means goes in ``details``, which the JSON form spreads at the top level beside
the shared fields.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

Axis = Literal["adaptation step", "episode"]
SHARED = ("algorithm", "env", "num_tasks", "seed", "axis", "x", "curve", "baselines", "paired")
OPTIONAL = ("within_episode",)  # shared fields that older results lack (they still load)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Curve:
    """Mean and 95% half-interval at each point of the adaptation axis: ``mean [points]``."""

    mean: list[float]
    ci95: list[float]

    @classmethod
    def from_samples(cls, values: Any) -> Curve:
        """``values [points, tasks]`` (a tensor or array) -> mean and normal-approximation 95%
        half-interval over tasks per point (0 with a single task)."""
        arr = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        n = arr.shape[1]
        std = arr.std(1, ddof=1) if n > 1 else np.zeros(arr.shape[0])
        return cls(mean=arr.mean(1).tolist(), ci95=(1.96 * std / math.sqrt(n)).tolist())

    def to_json(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "ci95": list(self.ci95)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Curve:
        return cls(mean=[float(x) for x in data["mean"]], ci95=[float(x) for x in data.get("ci95") or []])


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepCurves:
    """Return per time step within one episode (``episode``, 1-based), on the same tasks as the
    result's curves: ``x [steps]`` (1 = the episode's first step), ``curve`` the agent's mean reward
    at each step with its 95% interval, ``baselines`` other agents' (played from the same seeds),
    ``paired`` the per-task differences ``"minus NAME"``. An episode that ended earlier counts
    reward 0 at the later steps, so each curve sums to that episode's mean return."""

    episode: int
    x: list[int]
    curve: Curve
    baselines: dict[str, Curve] = dataclasses.field(default_factory=dict)
    paired: dict[str, Curve] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"episode": self.episode, "x": list(self.x), "curve": self.curve.to_json(),
                "baselines": {k: v.to_json() for k, v in self.baselines.items()},
                "paired": {k: v.to_json() for k, v in self.paired.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepCurves:
        return cls(episode=int(data["episode"]), x=[int(v) for v in data["x"]], curve=Curve.from_json(data["curve"]),
                   baselines={k: Curve.from_json(v) for k, v in data.get("baselines", {}).items()},
                   paired={k: Curve.from_json(v) for k, v in data.get("paired", {}).items()})


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationResult:
    """An evaluation on ``num_tasks`` held-out tasks (see the module docstring).

    ``x [points]`` labels the points of every curve (``[0, 1, 2, 3]`` steps; ``[1, 2]`` episodes).
    ``within_episode`` (None where the algorithm has none): return per time step within one
    episode, the agent's and its baselines' (``StepCurves``).
    Read-only item access (``result["mean_return_by_step"]``) reads the JSON form.
    """

    algorithm: str
    env: str
    num_tasks: int
    seed: int
    axis: Axis
    x: list[int]
    curve: Curve
    baselines: dict[str, Curve] = dataclasses.field(default_factory=dict)
    paired: dict[str, Curve] = dataclasses.field(default_factory=dict)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    baseline_details: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    within_episode: StepCurves | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: the shared fields, then ``details`` spread beside them. Each baseline is
        its ``baseline_details`` entry with its curve under ``"curve"``."""
        out: dict[str, Any] = {k: v for k, v in self.details.items() if k not in SHARED + OPTIONAL}
        baselines = {k: {**self.baseline_details.get(k, {}), "curve": v.to_json()} for k, v in self.baselines.items()}
        out.update(algorithm=self.algorithm, env=self.env, num_tasks=self.num_tasks, seed=self.seed,
                   axis=self.axis, x=list(self.x), curve=self.curve.to_json(), baselines=baselines,
                   paired={k: v.to_json() for k, v in self.paired.items()})
        if self.within_episode is not None:
            out["within_episode"] = self.within_episode.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvaluationResult:
        """Rebuild a result from ``to_json``'s output (a written ``evaluation_seed*.json``)."""
        missing = [k for k in SHARED if k not in data]
        if missing:
            raise ValueError(f"not a metarl evaluation result: missing {missing}")
        return cls(
            algorithm=str(data["algorithm"]), env=str(data["env"]), num_tasks=int(data["num_tasks"]),
            seed=int(data["seed"]), axis=data["axis"], x=[int(v) for v in data["x"]],
            curve=Curve.from_json(data["curve"]),
            baselines={k: Curve.from_json(v["curve"]) for k, v in data["baselines"].items()},
            paired={k: Curve.from_json(v) for k, v in data["paired"].items()},
            details={k: v for k, v in data.items() if k not in SHARED + OPTIONAL},
            baseline_details={k: {n: x for n, x in v.items() if n != "curve"} for k, v in data["baselines"].items()},
            within_episode=StepCurves.from_json(data["within_episode"]) if data.get("within_episode") else None,
        )

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_json().get(key, default)

    @property
    def final(self) -> float:
        """The curve's last point: the return after the whole adaptation budget."""
        return self.curve.mean[-1]

    def plot(self, path: str | Path) -> Path:
        """PNG of the curve with its interval, every baseline beside it (and, where the result has
        them, the curves within an episode in a second panel); returns the path."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = 1 if self.within_episode is None else 2
        fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4), squeeze=False)
        draw(axes[0, 0], self, label=self.algorithm)
        axes[0, 0].set_title(f"{self.algorithm} on {self.env} ({self.num_tasks} held-out tasks)")
        if self.within_episode is not None:
            draw_steps(axes[0, 1], self.within_episode, label=self.algorithm)
            axes[0, 1].set_title(f"within episode {self.within_episode.episode}")
        for ax in axes[0]:
            ax.legend(fontsize=7)
        fig.tight_layout()
        save_figure(fig, Path(path))
        return Path(path)


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` as a PNG atomically (rendered in memory, then temporary file and rename: a
    killed process never leaves half a picture) and close it."""
    import io

    import matplotlib.pyplot as plt

    from metarl.runs import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def draw(ax: Any, result: EvaluationResult, *, label: str) -> None:
    """The result's curve (error bars) and its baselines (dotted) on ``ax``."""
    ax.errorbar(result.x, result.curve.mean, yerr=result.curve.ci95 or None, marker="o", capsize=3, label=label)
    for name, base in result.baselines.items():
        xs = result.x[: len(base.mean)] if len(base.mean) > 1 else result.x
        ys = base.mean if len(base.mean) > 1 else base.mean * len(result.x)
        ax.plot(xs, ys, linestyle=":", marker=".", label=f"{label}: {name}")
    ax.set_xticks(result.x)
    ax.set_xlabel(result.axis if result.axis == "episode" else "adaptation steps")
    ax.set_ylabel("mean return on held-out tasks")


def draw_steps(ax: Any, steps: StepCurves, *, label: str) -> None:
    """Return per time step within the episode: the agent's mean with a shaded 95% band, each
    baseline's likewise, on ``ax``."""
    x = np.asarray(steps.x)
    for name, curve in {label: steps.curve, **{f"{label}: {k}": v for k, v in steps.baselines.items()}}.items():
        mean = np.asarray(curve.mean)
        line = ax.plot(x[: len(mean)], mean, linewidth=1.2, label=name)[0]
        if curve.ci95:
            ci = np.asarray(curve.ci95)
            ax.fill_between(x[: len(mean)], mean - ci, mean + ci, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel(f"time step within episode {steps.episode}")
    ax.set_ylabel("mean reward per step on held-out tasks")


def result_stem(kind: str, *, seed: int, checkpoint: str = "best", **choices: Any) -> str:
    """The file name (without suffix) of a written result: ``evaluation_seed0``, and after the seed each
    choice that changes the numbers (a checkpoint other than ``best``; every other choice whose value
    is not ``None``/``False``), so that evaluating under another protocol never overwrites an earlier
    result: ``success_seed0_latest_feedback``, ``success_seed0_tasks10``."""
    parts = [f"{kind}_seed{seed}"] + ([] if checkpoint == "best" else [checkpoint])
    for name, value in choices.items():
        if value is True:
            parts.append(name)
        elif value is not None and value is not False:
            text = "-".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            parts.append(f"{name}{text}")
    return "_".join(parts)
