"""``torch.compile`` as an opt-in, with an eager fallback that cannot take a run down.

Compilation needs a working C++ toolchain on CPU (Triton on CUDA), does not support everything
(double backward, recurrent modules) and can fail on a machine the code was never tried on. A
failed compile must cost a warning, not a training run: ``CompiledOrEager`` tries the compiled
function, and on its first failure warns once, names the function and the error, and calls the
eager function from then on. The results are the same either way; only the speed differs.

Measured on 2 CPU cores: sampling 1024 pendulum episodes is 1.2x faster compiled
(benchmarks/sampler_throughput.py prints the ratio), but at MAML's batch of 20 tasks x 50 rows one
forward is slower compiled (about 240 vs 210 us: guards and graph breaks around the distribution
cost more than the fused small matmuls save), and neither MAML's outer step (double backward) nor
``nn.GRU`` can be compiled. So compilation is an option, off by default.

Note: the first compilation in a process makes Dynamo switch off ``torch.distributions`` argument
validation for the whole process. metarl does not rely on it: a NaN that reaches the policy still
stops training as a numerical fault, reported through the NaN loss instead of the distribution's
ValueError.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch


class CompiledOrEager:
    """``fn`` through ``torch.compile`` (``dynamic=False``), or ``fn`` itself once that fails.

    ``enabled=False`` skips compilation altogether, so callers can hold one object either way.
    ``compiled`` tells whether the last call went through the compiled function.
    """

    def __init__(self, fn: Callable[..., Any], *, name: str, enabled: bool = True) -> None:
        self.fn, self.name, self.enabled = fn, name, enabled
        self._compiled: Callable[..., Any] | None = None
        self.failure: str | None = None
        self.compiled = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.enabled or self.failure is not None:
            self.compiled = False
            return self.fn(*args, **kwargs)
        try:
            if self._compiled is None:
                self._compiled = torch.compile(self.fn, dynamic=False)
            out = self._compiled(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - any compiler failure means: run eagerly
            self.failure = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            warnings.warn(f"torch.compile of {self.name} failed ({self.failure}); running it eagerly from now on",
                          RuntimeWarning, stacklevel=2)
            self.compiled = False
            return self.fn(*args, **kwargs)
        self.compiled = True
        return out
