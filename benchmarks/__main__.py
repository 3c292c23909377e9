"""``python -m benchmarks`` (also ``metarl bench``): every speed and memory benchmark in one run.

Each benchmark runs as its own process (so that memory figures are not mixed up) and ends with a
JSON line; this runner prints their tables as they come and, as its own last line, one JSON object
holding every figure under the benchmark's name.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("env_throughput", "sampler_throughput", "mujoco_sampling", "train_iteration", "maml_iteration",
              "rl2_throughput", "varibad_throughput", "pearl_update", "pearl_pipeline",
              "memory")


def run_one(name: str, quick: bool) -> dict | None:
    script = HERE / f"{name}.py"
    if not script.is_file():
        print(f"-- {name}: not present, skipped", flush=True)
        return None
    cmd = [sys.executable, str(script), *(["--quick"] if quick else [])]
    print(f"-- {name}: {' '.join(cmd[1:])}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1]:
        print("   " + line, flush=True)
    if proc.returncode != 0 or not lines:
        print(f"   failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}", flush=True)
        return {"error": proc.stderr.strip()[-300:]}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"last line is not JSON: {lines[-1][:200]}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repetitions (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    results = {}
    for name in args.only or BENCHMARKS:
        result = run_one(name, args.quick)
        if result is not None:
            results[name] = result
    print(json.dumps(results))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
