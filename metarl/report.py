"""The run report: Markdown with PNG plots, readable on GitHub.

``write_report([RUN, ...], out)`` draws (1) meta-training curves of every run on one plot (the
headline metrics its algorithm declares, and the validation score), (2) the adaptation curve of each
run's evaluations (an ``EvaluationResult``: return against its adaptation axis, steps or episodes)
with 95% intervals and baselines, one panel per kind of axis, (3) the pictures an algorithm draws
of its own evaluations (``AlgorithmSpec.evaluation_figures``), and writes a table of the numbers
with the paired differences. Nothing here names an algorithm. A run directory without
``metrics.csv`` (say, one copied from elsewhere with only its TensorBoard events) is read from
``tb/`` instead.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from metarl.errors import RunNotFoundError  # noqa: E402
from metarl.results import EvaluationResult, draw, save_figure  # noqa: E402
from metarl.runs import atomic_write_bytes  # noqa: E402


def headline_metrics(run: Path) -> tuple[str, ...]:
    """The metrics the run's algorithm declares worth plotting (nothing for an unknown algorithm)."""
    from metarl.algorithms.registry import algorithm
    from metarl.errors import ConfigError

    try:
        name = json.loads((run / "config.json").read_text()).get("algorithm", "")
        return tuple(algorithm(name).headline_metrics)
    except (OSError, ValueError, ConfigError):
        return ()


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


def read_evaluations(run: Path) -> dict[str, EvaluationResult]:
    """The run's ``evaluation*.json`` results by file name (files that are not results are skipped)."""
    out = {}
    for path in sorted(run.glob("evaluation*.json")):
        try:
            out[path.name] = EvaluationResult.from_json(json.loads(path.read_text()))
        except (json.JSONDecodeError, ValueError, KeyError, TypeError):
            continue
    return out


def plot_training(runs: dict[str, dict[str, list[tuple[int, float]]]], keys: dict[str, tuple[str, ...]],
                  path: Path) -> bool:
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    for name, series in runs.items():
        for i, key in enumerate(keys.get(name, ())):
            if key in series:
                xs, ys = zip(*series[key], strict=True)
                ax.plot(xs, ys, label=f"{name}: {key}", linestyle="-" if i == len(keys[name]) - 1 else "--")
                drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("mean return")
    ax.set_title("meta-training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)
    return True


def plot_adaptation(evaluations: dict[str, EvaluationResult], path: Path) -> bool:
    """Each result's curve with its baselines; one panel per kind of axis, so steps and episodes
    never share one."""
    panels: dict[str, list[tuple[str, EvaluationResult]]] = {}
    for name, result in evaluations.items():
        panels.setdefault(result.axis, []).append((name, result))
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    for ax, (axis, items) in zip(axes[0], panels.items(), strict=True):
        for name, result in items:
            draw(ax, result, label=f"{name} ({result.algorithm})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"adaptation: return against {axis}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)
    return True


def figure_hook(name: str) -> Any:
    """The evaluation figures an algorithm draws (``AlgorithmSpec.evaluation_figures``), or None."""
    from metarl.algorithms.registry import algorithm
    from metarl.errors import ConfigError

    try:
        return algorithm(name).evaluation_figures
    except ConfigError:
        return None


def evaluation_figures(evaluations: dict[str, EvaluationResult], out: Path) -> list[str]:
    """Markdown of the pictures each result's algorithm draws of it (written into ``out``)."""
    lines: list[str] = []
    for name, result in evaluations.items():
        hook = figure_hook(result.algorithm)
        if hook is None:
            continue
        for caption, path in hook(result, out / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)):
            lines += [f"### {name}: {caption}", "", f"![{caption}]({Path(path).name})", ""]
    return lines


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.2f}" if math.isfinite(x) else str(x)
    return str(x)


def _table(evaluations: dict[str, EvaluationResult]) -> list[str]:
    lines = ["| run | what | env | final | by step / episode |", "|---|---|---|---|---|"]
    for name, r in evaluations.items():
        series = ", ".join(_fmt(v) for v in r.curve.mean)
        final = f"{_fmt(r.final)} ± {_fmt(r.curve.ci95[-1])}" if r.curve.ci95 else _fmt(r.final)
        lines.append(f"| {name} | {r.algorithm}, {r.axis} {r.x[0]}..{r.x[-1]} | {r.env} | {final} | {series} |")
        for what, diff in r.paired.items():
            lines.append(f"| {name} | {what}, paired by task | | | {_paired(diff.mean, diff.ci95)} |")
        for base, curve in r.baselines.items():
            lines.append(f"| {name} | baseline: {base} | | {_fmt(curve.mean[-1])} | "
                         f"{', '.join(_fmt(v) for v in curve.mean)} |")
    return lines


def _class_success(evaluations: dict[str, EvaluationResult]) -> list[str]:
    """Success rate against adaptation (episodes of a trial, gradient steps) per test task class, for
    results whose tasks have classes (Meta-World): which classes adapt and which do not."""
    lines: list[str] = []
    for name, r in evaluations.items():
        for key, by_class in r.details.items():
            match = re.fullmatch(r"success_by_class_by_(\w+)", key)
            if not match or not isinstance(by_class, dict) or not by_class:
                continue
            per, points = match.group(1), len(next(iter(by_class.values())))
            overall = r.details.get(f"success_by_{per}", [])
            ci95 = r.details.get(f"success_ci95_by_{per}", [float("nan")] * len(overall))
            header = " | ".join(f"{per} {x}" for x in r.x[:points])
            lines += [f"### {name} ({r.algorithm}): success rate by {per}, per class", "",
                      f"| class | {header} |", "|---" * (points + 1) + "|"]
            lines += [f"| {cls} | " + " | ".join(f"{v:.2f}" for v in rates) + " |" for cls, rates in by_class.items()]
            if overall:
                lines.append("| all (± 95%) | " + " | ".join(f"{m:.2f} ± {c:.2f}" for m, c in zip(overall, ci95,
                                                                                            strict=True)) + " |")
            lines.append("")
    return lines


def _paired(means: list[float], ci95: list[float] | None) -> str:
    ci95 = ci95 or [float("nan")] * len(means)
    return ", ".join(f"{m:+.2f} ± {c:.2f}" for m, c in zip(means, ci95, strict=True))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lead:
    """A section the report opens with: one picture (a file in the report's folder, PNG or GIF)
    and the sentence that says what it shows."""

    title: str
    image: str
    sentence: str


def write_report(runs: Sequence[Path | str], out: Path | str | None = None, *, lead: Sequence[Lead] = (),
                 title: str | None = None) -> Path:
    """Write ``report.md`` and its PNGs into ``out`` (default: the first run); returns the path.

    ``lead``: sections shown first, before the training curves and the tables (the demo's claims)."""
    runs = [Path(r) for r in runs]
    for run in runs:
        if not run.is_dir():
            raise RunNotFoundError(f"no run directory at {run}")
    out = Path(out) if out is not None else runs[0]
    out.mkdir(parents=True, exist_ok=True)
    names = [r.name or str(r) for r in runs]
    metrics = {n: read_metrics(r) for n, r in zip(names, runs, strict=True)}
    keys = {n: (*headline_metrics(r), "validation_score") for n, r in zip(names, runs, strict=True)}
    evaluations = {}
    for n, r in zip(names, runs, strict=True):
        found = read_evaluations(r)
        for file, ev in found.items():
            evaluations[n if len(found) == 1 else f"{n}/{file}"] = ev
    lines = [f"# {title}" if title else f"# metarl report: {', '.join(names)}", ""]
    for section in lead:
        lines += [f"## {section.title}", "", f"![{section.title}]({section.image})", "", section.sentence, ""]
    if plot_training(metrics, keys, out / "training.png"):
        lines += ["## Meta-training", "", "![meta-training curves](training.png)", ""]
    if plot_adaptation(evaluations, out / "adaptation.png"):
        lines += ["## Adaptation on held-out tasks", "", "![adaptation](adaptation.png)", ""]
    figures = evaluation_figures(evaluations, out)
    if figures:
        lines += ["## Inside the evaluations", "", *figures]
    if evaluations:
        lines += ["## Numbers", "", *_table(evaluations), ""]
        by_class = _class_success(evaluations)
        if by_class:
            lines += ["## Success by task class", "", *by_class]
    for n, series in metrics.items():
        final = {k: v[-1][1] for k, v in series.items() if k in keys[n] and v}
        if final:
            lines.append(f"- {n}: last iteration " + ", ".join(f"{k} = {_fmt(v)}" for k, v in final.items()))
    path = out / "report.md"
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path
