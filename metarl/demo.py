"""``make demo``: the main job.

Until the meta-learners land, it prints the classic-baselines tables that adaptive agents are
judged by (RL² paper, Tables 1 and 2), reproduced on this machine.
"""

from __future__ import annotations

import argparse
import sys

from metarl.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metarl.demo")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    common = ["--tasks", str(args.tasks), "--seed", str(args.seed)]
    print("== Bernoulli bandits, 5 arms, 10 pulls (RL² paper Table 1) ==", flush=True)
    rc = cli_main(["baselines", "bandit", "--arms", "5", "--episodes", "10", *common])
    print("\n== Random tabular MDPs, 10 episodes (RL² paper Table 2) ==", flush=True)
    rc = rc or cli_main(["baselines", "mdp", "--episodes", "10", "--tasks", str(min(args.tasks, 500)),
                          "--seed", str(args.seed)])
    return rc


if __name__ == "__main__":
    sys.exit(main())
