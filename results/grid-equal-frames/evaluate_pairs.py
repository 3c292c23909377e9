"""Evaluate VariBAD and RL² `gridworld` checkpoints taken at equal frames, on the same held-out tasks.

Usage (from the repository root, with the two runs in runs/ and their numbered checkpoints copied
to runs/saved-vb and runs/saved-rl2 while they trained, since a run keeps only its newest three):

    python results/grid-equal-frames/evaluate_pairs.py 1041:259 2083:519 ...

Each argument is VARIBAD_ITERATION:RL2_ITERATION; VariBAD trains 960 frames an iteration and RL²
3840, so iteration i of VariBAD and j of RL² are equal frames when i + 1 = 4 (j + 1). Each pair
becomes two one-checkpoint run directories and one `metarl evaluate ... --baseline rl2=...` on 1000
tasks of seed 12345; the results go to runs/eq_frames.json.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path


def one_checkpoint_run(name: str, run: str, iteration: int) -> Path:
    target = Path(f"runs/eq-{name}-{iteration}")
    (target / "checkpoints").mkdir(parents=True, exist_ok=True)
    shutil.copy(f"{run}/config.json", target / "config.json")
    source = Path(f"runs/saved-{name}/ckpt_{iteration:06d}.pt")
    shutil.copy(source, target / "checkpoints" / source.name)
    pointer = {"file": source.name, "iteration": iteration}
    (target / "checkpoints" / "latest.json").write_text(json.dumps(pointer))
    return target


def main() -> None:
    results = {}
    for pair in sys.argv[1:]:
        vb, rl = map(int, pair.split(":"))
        varibad = one_checkpoint_run("vb", "runs/varibad-grid", vb)
        rl2 = one_checkpoint_run("rl2", "runs/rl2-grid", rl)
        command = ["metarl", "evaluate", str(varibad), "--checkpoint", "latest", "--tasks", "1000", "--seed",
                   "12345", "--baseline", f"rl2={rl2}", "--json", "--threads", "1"]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[pair] = json.loads(done.stdout)
        print(pair, "done", flush=True)
    Path("runs/eq_frames.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
