"""The run report: Markdown with PNG plots, readable on GitHub.

``write_report([RUN, ...], out)`` draws (1) meta-training curves of every run on one plot (pre- and
post-adaptation return for MAML, trial return for RL²), (2) the adaptation curve of each run's
evaluations (return against adaptation steps for MAML, against the episode within the trial for RL²)
with 95% intervals and baselines, and writes a table of the numbers. A run directory without
``metrics.csv`` (say, one copied from elsewhere with only its TensorBoard events) is read from
``tb/`` instead.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from metarl.runs import atomic_write_bytes  # noqa: E402

CURVE_KEYS = ("return_pre", "return_post", "trial_return", "validation_score")
ADAPTATION_KEYS = {"mean_return_by_step": "adaptation steps", "mean_return_by_episode": "episode within trial"}


def read_metrics(run: Path) -> dict[str, list[tuple[int, float]]]:
    """Series name -> [(iteration, value)] from ``metrics.csv``, else from TensorBoard events."""
    csv_path = run / "metrics.csv"
    series: dict[str, list[tuple[int, float]]] = {}
    if csv_path.is_file():
        with csv_path.open(newline="") as f:
            for row in csv.DictReader(f):
                for key, value in row.items():
                    if key != "iteration" and value not in ("", None):
                        series.setdefault(key, []).append((int(row["iteration"]), float(value)))
        return series
    tb = run / "tb" if (run / "tb").is_dir() else run
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb))
    acc.Reload()
    for tag in acc.Tags().get("scalars", []):
        series[tag] = [(e.step, e.value) for e in acc.Scalars(tag)]
    return series


def read_evaluations(run: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(run.glob("evaluation*.json")):
        try:
            out.append({**json.loads(path.read_text()), "_file": path.name})
        except json.JSONDecodeError:
            continue
    return out


def _save(fig: plt.Figure, path: Path) -> None:
    from io import BytesIO

    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def plot_training(runs: dict[str, dict[str, list[tuple[int, float]]]], path: Path) -> bool:
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    for name, series in runs.items():
        for key in CURVE_KEYS:
            if key in series and key != "validation_score":
                xs, ys = zip(*series[key], strict=True)
                ax.plot(xs, ys, label=f"{name}: {key}", linestyle="--" if key == "return_pre" else "-")
                drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("mean return")
    ax.set_title("meta-training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def _curve(result: dict[str, Any]) -> tuple[str, list[float], list[float] | None] | None:
    for key, label in ADAPTATION_KEYS.items():
        if key in result:
            ci = result.get("ci95_by_step") or result.get("ci95_by_episode") or result.get("stderr_by_episode")
            return label, list(result[key]), list(ci) if ci else None
    return None


def _draw_adaptation(ax: plt.Axes, name: str, result: dict[str, Any]) -> None:
    _, ys, ci = _curve(result)
    start = 0 if "mean_return_by_step" in result else 1
    xs = list(range(start, start + len(ys)))
    ax.errorbar(xs, ys, yerr=ci, marker="o", capsize=3, label=f"{name} ({result.get('algorithm', '?')})")
    for base, value in (result.get("baselines") or {}).items():
        base_curve = _curve(value) if isinstance(value, dict) else None
        if base_curve is not None:
            ax.plot(xs[: len(base_curve[1])], base_curve[1], linestyle=":", marker=".", label=f"{name}: {base}")
        elif isinstance(value, dict) and isinstance(value.get("mean"), int | float):
            ax.axhline(value["mean"] / (len(ys) if "mean_return_by_episode" in result else 1),
                       linestyle=":", linewidth=1, label=f"{name}: {base}")


def plot_adaptation(evaluations: dict[str, dict[str, Any]], path: Path) -> bool:
    """Return against adaptation step (MAML) or episode within the trial (RL²) for each run, baselines
    dotted; one panel per kind of x-axis, so steps and episodes never share an axis."""
    panels: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, result in evaluations.items():
        curve = _curve(result)
        if curve is not None:
            panels.setdefault(curve[0], []).append((name, result))
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    for ax, (xlabel, items) in zip(axes[0], panels.items(), strict=True):
        for name, result in items:
            _draw_adaptation(ax, name, result)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("mean return on held-out tasks")
        ax.set_title(f"adaptation: return against {xlabel}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(fig, path)
    return True


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.2f}" if math.isfinite(x) else str(x)
    return str(x)


def _table(evaluations: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| run | algorithm | env | headline | by step / episode |", "|---|---|---|---|---|"]
    for name, r in evaluations.items():
        curve = _curve(r)
        series = ", ".join(_fmt(v) for v in curve[1]) if curve else ""
        headline = r.get("mean_trial_return", (curve[1][-1] if curve else ""))
        if "stderr" in r:
            headline = f"{_fmt(headline)} ± {_fmt(r['stderr'])}"
        lines.append(f"| {name} | {r.get('algorithm', '')} | {r.get('env', '')} | {_fmt(headline)} | {series} |")
        if r.get("gain_by_step"):
            lines.append(f"| {name} | gain over step 0, paired by task | | | "
                         f"{_paired(r['gain_by_step'], r.get('gain_ci95_by_step'))} |")
        for base, value in (r.get("baselines") or {}).items():
            if isinstance(value, dict):
                base_curve = _curve(value)
                shown = ", ".join(_fmt(v) for v in base_curve[1]) if base_curve else _fmt(value.get("mean", ""))
                lead, lead_ci = value.get("maml_minus_baseline_by_step"), value.get("maml_minus_baseline_ci95_by_step")
                if lead:
                    shown += f" (MAML minus this, paired: {_paired(lead, lead_ci)})"
            else:
                shown = _fmt(value)
            lines.append(f"| {name} | baseline: {base} | | | {shown} |")
    return lines


def _paired(means: list[float], ci95: list[float] | None) -> str:
    ci95 = ci95 or [float("nan")] * len(means)
    return ", ".join(f"{m:+.2f} ± {c:.2f}" for m, c in zip(means, ci95, strict=True))


def write_report(runs: Sequence[Path | str], out: Path | str | None = None) -> Path:
    """Write ``report.md`` and its PNGs into ``out`` (default: the first run); returns the path."""
    runs = [Path(r) for r in runs]
    for run in runs:
        if not run.is_dir():
            raise FileNotFoundError(f"no run directory at {run}")
    out = Path(out) if out is not None else runs[0]
    out.mkdir(parents=True, exist_ok=True)
    names = [r.name or str(r) for r in runs]
    metrics = {n: read_metrics(r) for n, r in zip(names, runs, strict=True)}
    evaluations = {}
    for n, r in zip(names, runs, strict=True):
        found = read_evaluations(r)
        for ev in found:
            evaluations[n if len(found) == 1 else f"{n}/{ev['_file']}"] = ev
    lines = [f"# metarl report: {', '.join(names)}", ""]
    if plot_training(metrics, out / "training.png"):
        lines += ["## Meta-training", "", "![meta-training curves](training.png)", ""]
    if plot_adaptation(evaluations, out / "adaptation.png"):
        lines += ["## Adaptation on held-out tasks", "", "![adaptation](adaptation.png)", ""]
    if evaluations:
        lines += ["## Numbers", "", *_table(evaluations), ""]
    for n, series in metrics.items():
        final = {k: v[-1][1] for k, v in series.items() if k in CURVE_KEYS and v}
        if final:
            lines.append(f"- {n}: last iteration " + ", ".join(f"{k} = {_fmt(v)}" for k, v in final.items()))
    path = out / "report.md"
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path
