"""Sinusoid regression (MAML paper, section 5.1): the adaptation machinery on supervised tasks.

A task is ``y = A sin(x - phase)`` with ``A ~ U[0.1, 5]``, ``phase ~ U[0, pi]``, ``x ~ U[-5, 5]``;
the model is an MLP 1-40-40-1 (ReLU) adapted by gradient steps on K examples of MSE, with the same
``adapt`` as the RL learner (per-task parameters, one batched call), meta-trained with Adam.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from metarl.algorithms.maml.adaptation import adapt, check_step_sizes
from metarl.policies.mlp import MLP, expand_params, named_params
from metarl.tasks import check_count


@dataclasses.dataclass(frozen=True, kw_only=True)
class SinusoidBatch:
    """``amplitude``, ``phase``: ``[tasks]``; draws points on demand."""

    amplitude: torch.Tensor
    phase: torch.Tensor

    @classmethod
    def sample(cls, n: int, generator: torch.Generator) -> SinusoidBatch:
        n = check_count("n", n)
        dev = generator.device
        amplitude = 0.1 + 4.9 * torch.rand(n, generator=generator, device=dev)
        return cls(amplitude=amplitude, phase=math.pi * torch.rand(n, generator=generator, device=dev))

    def points(self, k: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` each ``[tasks, k, 1]``, x ~ U[-5, 5]."""
        x = -5.0 + 10.0 * torch.rand(len(self.amplitude), check_count("k", k), 1, generator=generator,
                                    device=self.amplitude.device)
        return x, self.amplitude.view(-1, 1, 1) * torch.sin(x - self.phase.view(-1, 1, 1))


def make_model() -> MLP:
    return MLP(in_dim=1, out_dim=1, hidden_sizes=(40, 40), activation="relu")


def task_mse(model: MLP, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-task mean squared error ``[tasks]`` with per-task ``params``."""
    return ((model(x, params) - y) ** 2).mean((1, 2))


def adapted_params(model: MLP, x: torch.Tensor, y: torch.Tensor, *, step_sizes: list[float],
                   first_order: bool = False, create_graph: bool = True) -> list[dict[str, torch.Tensor]]:
    """Parameters before and after each step of adaptation on ``(x, y)`` (every task at once)."""
    params = expand_params(named_params(model), x.shape[0])
    losses = [lambda p: task_mse(model, p, x, y)] * len(step_sizes)
    return adapt(params, losses, step_sizes, first_order=first_order, create_graph=create_graph)


def meta_train(*, iterations: int, meta_batch: int = 25, k_shot: int = 10, inner_lr: float = 0.01,
               inner_steps: int = 1, outer_lr: float = 1e-3, first_order: bool = False, seed: int = 0,
               joint: bool = False) -> MLP:
    """MAML with Adam on the post-adaptation query MSE; ``joint`` instead regresses all tasks with
    one model (the paper's "pretrained" baseline)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=outer_lr)
    lrs = check_step_sizes([inner_lr] * check_count("inner_steps", inner_steps))
    for _ in range(check_count("iterations", iterations)):
        tasks = SinusoidBatch.sample(meta_batch, generator)
        x_s, y_s = tasks.points(k_shot, generator)
        x_q, y_q = tasks.points(k_shot, generator)
        if joint:
            params = expand_params(named_params(model), meta_batch)
        else:
            params = adapted_params(model, x_s, y_s, step_sizes=lrs, first_order=first_order)[-1]
        loss = task_mse(model, params, x_q, y_q).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def evaluate_mse(model: MLP, *, num_tasks: int = 100, k_shot: int = 5, steps: int = 10, inner_lr: float = 0.01,
                 queries: int = 100, seed: int = 1) -> list[float]:
    """Mean query MSE over held-out tasks before adaptation and after 1..steps steps on k_shot
    examples (``steps + 1`` numbers)."""
    generator = torch.Generator().manual_seed(10_000 + seed)
    tasks = SinusoidBatch.sample(num_tasks, generator)
    x_s, y_s = tasks.points(k_shot, generator)
    x_q, y_q = tasks.points(queries, generator)
    trace = adapted_params(model, x_s, y_s, step_sizes=[inner_lr] * steps, create_graph=False)
    with torch.no_grad():
        return [float(task_mse(model, p, x_q, y_q).mean()) for p in trace]
