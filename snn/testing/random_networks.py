"""Random small networks for conformance tests (simulator vs reference core vs RTL).

``random_network(seed, stdp=...)`` returns a valid :class:`snn.Network` that fits the
default :class:`snn.CoreSpec` structurally (<= 256 inputs, <= 256 neurons, one weight per
pair, at most one STDP rule per matrix, delay 1 unless ``max_delay`` is larger). The
networks vary everything the core's arithmetic touches: 1-3 LIF groups with per-neuron
parameters (refractory periods from 0 to several steps, biases, equal and unequal
synaptic/membrane time constants), Poisson and explicit spike sources, all_to_all /
fixed_probability / one_to_one / sparse projections, excitatory and inhibitory, weights
at the extremes of the weight range, strong drive (so that ``v`` and the currents
saturate in some networks) and PairSTDP (additive/multiplicative, all/nearest) or
WindowSTDP.

Weights are drawn as whole multiples of a weight LSB ``2^(s - frac_bits)`` mV with a
per-network target shift ``s``; ``random_case`` quantizes with that shift, so weights of
exactly -128 and +127 LSB occur (the default ``quantize`` picks the shift from the largest
magnitude and so never produces -128).
"""

from __future__ import annotations

import numpy as np

import snn
from snn.core_spec import CoreSpec
from snn.quantize import QuantizedNetwork, fit_problems, quantize

DTS = (0.1, 0.25, 0.5, 1.0)


def target_shift(seed: int) -> int:
    """The weight shift that ``random_network(seed, ...)`` draws its weights for."""
    return _plan(seed)["shift"]


def _plan(seed: int) -> dict:
    rng = np.random.default_rng([seed, 7919])
    strong = seed % 3 == 0  # every third network is driven hard enough to saturate
    shift = int(rng.integers(8, 11)) if strong else int(rng.integers(3, 9))
    return {"strong": strong, "shift": shift}


def random_network(
    seed: int,
    *,
    stdp: bool,
    max_inputs: int = 48,
    max_neurons: int = 48,
    max_delay: int = 1,
    n_steps: int = 150,
    full: bool = False,
) -> snn.Network:
    """A random valid network of at most ``max_inputs`` sources and ``max_neurons`` neurons.

    ``full``: exactly ``max_inputs`` sources and ``max_neurons`` neurons.
    """
    rng = np.random.default_rng([seed, 104729])
    plan = _plan(seed)
    strong, shift = plan["strong"], plan["shift"]
    lsb = 2.0 ** (shift - CoreSpec().frac_bits)  # mV per weight LSB
    dt = float(rng.choice(DTS))
    net = snn.Network(dt=dt, duration=n_steps * dt, seed=seed)

    # -- LIF groups ------------------------------------------------------------------------
    n_groups = int(rng.integers(1, 4))
    n_total = max_neurons if full else int(rng.integers(max(2, max_neurons // 2), max_neurons + 1))
    sizes = _split(rng, max(n_groups, n_total), n_groups)
    groups = []
    for g, n in enumerate(sizes):
        groups.append(net.lif(f"g{g}", n, **_lif_params(rng, n, dt, strong)))

    # -- sources ---------------------------------------------------------------------------
    n_in = max_inputs if full else int(rng.integers(max(2, max_inputs // 2), max_inputs + 1))
    n_poisson = int(rng.integers(1, n_in)) if n_in > 1 else 1
    sources = []
    rate_hi = 400.0 if strong else 150.0
    rate = rng.uniform(20.0, rate_hi, n_poisson)
    rate = np.minimum(rate, 0.5 * 1000.0 / dt)
    sources.append(net.poisson("poisson", n_poisson, rate=rate))
    n_explicit = n_in - n_poisson
    if n_explicit > 0:
        n_ev = int(rng.integers(n_explicit, 4 * n_explicit * max(1, n_steps // 50) + 2))
        keys = np.unique(rng.integers(0, n_explicit * n_steps, n_ev))
        ids, steps = keys % n_explicit, keys // n_explicit
        # a burst: every explicit source fires in one step (many simultaneous spikes)
        burst = int(rng.integers(0, n_steps))
        extra = np.arange(n_explicit)
        keys = np.unique(np.concatenate([steps * n_explicit + ids, burst * n_explicit + extra]))
        sources.append(net.spikes("explicit", n_explicit, ids=keys % n_explicit, steps=keys // n_explicit))

    # -- projections -------------------------------------------------------------------------
    plastic = {"recurrent": None, "feed-forward": None}
    if stdp:
        plastic = {"recurrent": rng.random() < 0.7, "feed-forward": rng.random() < 0.8}
        if not any(plastic.values()):
            plastic["feed-forward"] = True
    pairs = [(s, g, "feed-forward") for s in sources for g in groups]
    pairs += [(a, b, "recurrent") for a in groups for b in groups]
    rng.shuffle(pairs)
    made = 0
    for pre, post, matrix in pairs:
        if made and rng.random() < 0.3:
            continue  # leave some pairs of populations unconnected
        rule = None
        if plastic[matrix]:
            plastic[matrix] = False  # one plastic projection (one rule) per matrix
            rule = True
        _project(net, rng, f"p{made}", pre, post, lsb, strong, dt, max_delay, rule, matrix)
        made += 1

    net.record_spikes()
    spec = CoreSpec(max_delay=max(1, max_delay))
    problems = fit_problems(net, spec)
    assert problems == [], f"random_network({seed}) does not fit: {problems}"
    return net


def random_case(seed: int, *, stdp: bool, max_delay: int = 1, **kw) -> tuple[snn.Network, QuantizedNetwork]:
    """``random_network`` and its quantization with the network's target weight shift."""
    net = random_network(seed, stdp=stdp, max_delay=max_delay, **kw)
    spec = CoreSpec(max_delay=max(1, max_delay))
    return net, quantize(net, spec, weight_shift=target_shift(seed), require_fit=False)


# -- pieces -------------------------------------------------------------------------------
def _split(rng: np.random.Generator, total: int, parts: int) -> list[int]:
    cuts = np.sort(rng.choice(np.arange(1, total), size=parts - 1, replace=False)) if parts > 1 else []
    edges = [0, *[int(c) for c in cuts], total]
    return [b - a for a, b in zip(edges[:-1], edges[1:])]


def _lif_params(rng: np.random.Generator, n: int, dt: float, strong: bool) -> dict:
    tau_m = rng.uniform(2.0, 40.0, n)
    tau_e = rng.uniform(0.5, 20.0, n)
    tau_i = rng.uniform(0.5, 20.0, n)
    same = rng.random(n) < 0.2  # tau_syn == tau_m: the propagator's limit case
    tau_e[same] = tau_m[same]
    same_i = rng.random(n) < 0.1
    tau_i[same_i] = tau_m[same_i]
    v_rest = rng.uniform(-70.0, -55.0, n)
    i_bias = np.where(rng.random(n) < 0.4, rng.uniform(-5.0, 25.0, n), 0.0)
    v_thresh = rng.uniform(-55.0, -40.0, n)
    v_reset = rng.uniform(-75.0, -60.0, n)
    # refractory periods from 0 to ~8 steps, on the grid and between grid points
    t_ref = rng.integers(0, 9, n) * dt + np.where(rng.random(n) < 0.3, 0.3 * dt, 0.0)
    v_init = rng.uniform(-75.0, -40.0, n)
    if strong:
        # some neurons with a high resting level and an out-of-reach threshold: strong
        # excitation pushes v into the positive rail; strong inhibition into the negative one
        hot = rng.random(n) < 0.3
        i_bias[hot] = rng.uniform(60.0, 100.0, hot.sum())
        v_thresh[hot] = 127.99
        tau_m[hot] = rng.uniform(1.0, 4.0, hot.sum())
    return dict(
        tau_m=tau_m,
        tau_syn_e=tau_e,
        tau_syn_i=tau_i,
        v_rest=v_rest,
        i_bias=i_bias,
        v_thresh=v_thresh,
        v_reset=v_reset,
        t_ref=t_ref,
        v_init=v_init,
    )


def _connectivity(rng: np.random.Generator, n_pre: int, n_post: int):
    kinds = ["all_to_all", "fixed_probability", "sparse"]
    if n_pre == n_post:
        kinds.append("one_to_one")
    kind = str(rng.choice(kinds))
    if kind == "all_to_all":
        return snn.AllToAll(), n_pre * n_post
    if kind == "one_to_one":
        return snn.OneToOne(), n_pre
    if kind == "sparse":
        m = int(rng.integers(1, n_pre * n_post + 1))
        flat = rng.choice(n_pre * n_post, size=min(m, max(1, n_pre * n_post // 2)), replace=False)
        return snn.Sparse(flat // n_post, flat % n_post), flat.size
    return snn.FixedProbability(float(rng.uniform(0.05, 0.6))), None


def _project(net, rng, name, pre, post, lsb, strong, dt, max_delay, rule, matrix) -> None:
    conn, n_syn = _connectivity(rng, pre.n, post.n)
    if rule:
        # the core enables STDP per row and column: a plastic projection fills its block
        conn, n_syn = snn.AllToAll(), pre.n * post.n
    target = "inh" if rng.random() < 0.35 else "exc"
    sign = 1.0 if target == "exc" else -1.0
    extreme = 127 if target == "exc" else 128
    # strong networks use the full range, others mostly small weights
    hi = extreme if strong else int(rng.integers(8, extreme + 1))
    stdp_rule = _rule(rng, target, lsb, dt) if rule else None
    lo_lsb, hi_lsb = 0, hi
    if stdp_rule is not None:
        lo_lsb = int(round(abs(stdp_rule.w_min if target == "exc" else stdp_rule.w_max) / lsb))
        hi_lsb = int(round(abs(stdp_rule.w_max if target == "exc" else stdp_rule.w_min) / lsb))
    if n_syn is None:
        weight = snn.Uniform(0.0, hi_lsb * lsb) if target == "exc" else snn.Uniform(-hi_lsb * lsb, 0.0)
        if stdp_rule is not None:
            a, b = sorted((stdp_rule.w_min, stdp_rule.w_max))
            weight = snn.Uniform(a, b)
    else:
        k = rng.integers(lo_lsb, hi_lsb + 1, n_syn)
        k[rng.random(n_syn) < 0.1] = hi_lsb  # the extreme of the range
        if rng.random() < 0.5:
            k[rng.random(n_syn) < 0.1] = lo_lsb
        weight = sign * k * lsb
    delay = 1
    if max_delay > 1:
        if n_syn is not None and rng.random() < 0.5:
            delay = rng.integers(1, max_delay + 1, n_syn)
        else:
            delay = int(rng.integers(1, max_delay + 1))
    net.connect(name, pre, post, conn, weight=weight, delay=delay, target=target, stdp=stdp_rule)


def _rule(rng: np.random.Generator, target: str, lsb: float, dt: float):
    span = int(rng.integers(10, 129))
    if target == "exc":
        w_min, w_max = 0.0, min(span, 127) * lsb
    else:
        w_min, w_max = -min(span, 128) * lsb, 0.0
    if rng.random() < 0.25:
        return snn.WindowSTDP(
            dw_plus=int(rng.integers(0, 12)) * lsb,
            dw_minus=int(rng.integers(0, 12)) * lsb,
            window_pre=int(rng.integers(1, 25)),
            window_post=int(rng.integers(1, 25)),
            w_min=w_min,
            w_max=w_max,
        )
    mode = str(rng.choice(["additive", "multiplicative"]))
    if mode == "additive":
        a_plus, a_minus = rng.uniform(0.2, 12.0, 2) * lsb
    else:
        a_plus, a_minus = rng.uniform(0.02, 0.6, 2) * (w_max - w_min)
    return snn.PairSTDP(
        a_plus=float(a_plus),
        a_minus=float(a_minus),
        tau_plus=float(rng.uniform(2.0, 40.0)),
        tau_minus=float(rng.uniform(2.0, 40.0)),
        w_min=w_min,
        w_max=w_max,
        mode=mode,
        pairing=str(rng.choice(["all", "nearest"])),
    )
