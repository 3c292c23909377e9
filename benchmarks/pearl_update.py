"""PEARL's full gradient step (encoder, critics, value, actor) at oyster's sizes: gradient steps
per second of ours, batched over the meta-batch, beside the same step written as oyster writes it,
in the same run, with the ratio.

Oyster (``PEARLSoftActorCritic._take_step`` and ``PEARLAgent``) runs the networks on the flattened
meta-batch but goes one task at a time wherever a task has something of its own: the product of
Gaussians of each task's factors, each task's posterior as a ``Normal`` and its ``rsample``, each
task's KL to the prior, each task's z repeated over its rows; it steps five Adams (Q1, Q2, V, policy,
encoder) and moves the target V parameter by parameter. The reference here is that step on the same
networks (a copy), the same batches and the same noise, so both compute the same update; the first
step's losses are printed side by side as the check.

Sizes are oyster's defaults (``configs/default.py``): 16 tasks per step, 256 RL transitions and 64
context transitions per task, 3x300 networks, 3x200 encoder, latent 5, with the half-cheetah's
dimensions (obs 20, action 6); the data is random (the cost does not depend on it).

    python benchmarks/pearl_update.py [--steps 30] [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from torch.distributions import Normal, kl_divergence

from metarl.algorithms.pearl.config import LossConfig
from metarl.algorithms.pearl.networks import ContextEncoder, QNetwork, TanhGaussianPolicy, VNetwork
from metarl.algorithms.pearl.sac import Batch, Noise, PearlNetworks, PearlUpdate

SIZES = dict(meta_batch=16, batch=256, context=64, hidden=(300, 300, 300), encoder=(200, 200, 200), latent=5,
             obs=20, act=6)


def networks(seed: int = 0) -> PearlNetworks:
    torch.manual_seed(seed)
    s = SIZES
    return PearlNetworks(
        encoder=ContextEncoder(context_dim=s["obs"] + s["act"] + 1, latent_size=s["latent"], hidden_sizes=s["encoder"]),
        policy=TanhGaussianPolicy(obs_dim=s["obs"], act_dim=s["act"], latent_dim=s["latent"], hidden_sizes=s["hidden"],
                                  action_low=-torch.ones(s["act"]), action_high=torch.ones(s["act"])),
        qf1=QNetwork(obs_dim=s["obs"], act_dim=s["act"], latent_dim=s["latent"], hidden_sizes=s["hidden"]),
        qf2=QNetwork(obs_dim=s["obs"], act_dim=s["act"], latent_dim=s["latent"], hidden_sizes=s["hidden"]),
        vf=VNetwork(obs_dim=s["obs"], latent_dim=s["latent"], hidden_sizes=s["hidden"]))


def data(generator: torch.Generator) -> tuple[Batch, torch.Tensor, Noise]:
    s, m, b = SIZES, SIZES["meta_batch"], SIZES["batch"]
    batch = Batch(obs=torch.randn(m, b, s["obs"], generator=generator),
                  actions=torch.rand(m, b, s["act"], generator=generator) * 2 - 1,
                  rewards=torch.randn(m, b, generator=generator),
                  next_obs=torch.randn(m, b, s["obs"], generator=generator),
                  terminated=(torch.rand(m, b, generator=generator) < 0.05).float())
    context = torch.randn(m, s["context"], s["obs"] + s["act"] + 1, generator=generator)
    noise = Noise(latent=torch.randn(m, s["latent"], generator=generator),
                  action=torch.randn(m, b, s["act"], generator=generator))
    return batch, context, noise


class OysterStep:
    """The reference: oyster's ``_take_step`` on flattened tensors, per-task loops where it has them."""

    def __init__(self, nets: PearlNetworks, loss: LossConfig, lr: float) -> None:
        self.nets, self.loss = nets, loss
        self.opt = {name: torch.optim.Adam(getattr(nets, name).parameters(), lr=lr)
                    for name in ("qf1", "qf2", "vf", "policy", "encoder")}

    def step(self, batch: Batch, context: torch.Tensor, noise: Noise) -> dict[str, float]:
        nets, loss, opt = self.nets, self.loss, self.opt
        m, b = batch.obs.shape[:2]
        mu, var = nets.encoder(context)
        posteriors = []
        for mean_i, var_i in zip(torch.unbind(mu), torch.unbind(var), strict=True):  # _product_of_gaussians
            var_i = torch.clamp(var_i, min=1e-7)
            post_var = 1.0 / torch.sum(torch.reciprocal(var_i), dim=0)
            posteriors.append((post_var * torch.sum(mean_i / var_i, dim=0), post_var))
        dists = [Normal(mean_i, torch.sqrt(var_i)) for mean_i, var_i in posteriors]
        z = torch.stack([d.loc + d.scale * noise.latent[i] for i, d in enumerate(dists)])  # rsample, same noise
        prior = Normal(torch.zeros(SIZES["latent"]), torch.ones(SIZES["latent"]))
        kl = torch.sum(torch.stack([kl_divergence(d, prior).sum() for d in dists]))
        task_z = torch.cat([z_i.repeat(b, 1) for z_i in z])  # [M * B, L], one task at a time
        obs, actions = batch.obs.reshape(m * b, -1), batch.actions.reshape(m * b, -1)
        sample = nets.policy.sample(obs, task_z.detach(), noise.action.reshape(m * b, -1))
        q1, q2 = nets.qf1(obs, actions, task_z), nets.qf2(obs, actions, task_z)
        v_pred = nets.vf(obs, task_z.detach())
        with torch.no_grad():
            target_v = nets.target_vf(batch.next_obs.reshape(m * b, -1), task_z)
        opt["encoder"].zero_grad()
        (loss.kl_weight * kl).backward(retain_graph=True)
        opt["qf1"].zero_grad()
        opt["qf2"].zero_grad()
        q_target = batch.rewards.reshape(-1) * loss.reward_scale + (1.0 - batch.terminated.reshape(-1)) * \
            loss.gamma * target_v
        qf_loss = torch.mean((q1 - q_target) ** 2) + torch.mean((q2 - q_target) ** 2)
        qf_loss.backward()
        for name in ("qf1", "qf2", "encoder"):
            opt[name].step()
        z_const = task_z.detach()  # _min_q detaches z
        min_q = torch.min(nets.qf1(obs, sample.action, z_const), nets.qf2(obs, sample.action, z_const))
        vf_loss = torch.mean((v_pred - (min_q - sample.log_prob).detach()) ** 2)
        opt["vf"].zero_grad()
        vf_loss.backward()
        opt["vf"].step()
        with torch.no_grad():  # ptu.soft_update_from_to, parameter by parameter
            for target, source in zip(nets.target_vf.parameters(), nets.vf.parameters(), strict=True):
                target.copy_(target * (1.0 - loss.tau) + source * loss.tau)
        policy_loss = (sample.log_prob - min_q).mean() + loss.policy_mean_reg * (sample.mean ** 2).mean() + \
            loss.policy_std_reg * (sample.log_std ** 2).mean()
        opt["policy"].zero_grad()
        policy_loss.backward()
        opt["policy"].step()
        return {"qf_loss": float(qf_loss), "vf_loss": float(vf_loss), "policy_loss": float(policy_loss),
                "kl": float(kl) / m}


def steps_per_second(step, inputs, steps: int) -> list[float]:
    step(*inputs[0])
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(steps):
            step(*inputs[i % len(inputs)])
        rates.append(steps / (time.perf_counter() - start))
    return rates


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 steps per repetition")
    parser.add_argument("--steps", type=int, default=None, help="gradient steps per repetition (default 30)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps = args.steps or (3 if args.quick else 30)
    loss, lr = LossConfig(), 3e-4
    ours_nets = networks()
    theirs_nets = copy.deepcopy(ours_nets)
    ours, theirs = PearlUpdate(nets=ours_nets, loss=loss, lr=lr), OysterStep(theirs_nets, loss, lr)
    generator = torch.Generator().manual_seed(1)
    inputs = [data(generator) for _ in range(4)]
    batch, context, noise = inputs[0]
    first_ours = {k: float(v) for k, v in ours.step(batch, context=context, fixed_z=None, noise=noise).items()}
    first_theirs = theirs.step(batch, context, noise)
    rate_ours = steps_per_second(lambda b, c, n: ours.step(b, context=c, fixed_z=None, noise=n), inputs, steps)
    rate_theirs = steps_per_second(theirs.step, inputs, steps)
    out = {"ours_steps_per_s": statistics.median(rate_ours), "ours_spread": (max(rate_ours) - min(rate_ours)) / 2,
           "oyster_steps_per_s": statistics.median(rate_theirs),
           "oyster_spread": (max(rate_theirs) - min(rate_theirs)) / 2}
    out["ratio"] = out["ours_steps_per_s"] / out["oyster_steps_per_s"]
    print(f"PEARL gradient step at oyster's sizes ({SIZES['meta_batch']} tasks x {SIZES['batch']} transitions, "
          f"context {SIZES['context']}, 3x300), {torch.get_num_threads()} thread(s), median of 3 x {steps} steps")
    print("first step's losses, ours / oyster's: " + ", ".join(
        f"{k} {first_ours[k]:.5g} / {first_theirs[k]:.5g}" for k in ("qf_loss", "vf_loss", "policy_loss", "kl")))
    print(f"metarl (batched over tasks)   {out['ours_steps_per_s']:8.1f} steps/s  ± {out['ours_spread']:.1f}")
    print(f"oyster's step (task loops)    {out['oyster_steps_per_s']:8.1f} steps/s  ± {out['oyster_spread']:.1f}")
    print(f"ratio {out['ratio']:.2f}x")
    print(json.dumps({"benchmark": "pearl_update", "steps": steps, "threads": torch.get_num_threads(), **out,
                      "first_step_ours": first_ours, "first_step_oyster": first_theirs}))
    return out


if __name__ == "__main__":
    main()
