"""Tier 1: each engine alone in the Amaranth simulator against a transcription of the doc."""

from __future__ import annotations

import numpy as np
import pytest
from engine_bench import Bench, run

from hdl.memories import acc_layout, param_layout, state_layout
from hdl.neuron_engine import NeuronEngine
from hdl.synapse_engine import SynapseEngine
from hdl.timing import learn_cycles, two_lane_cycles
from hdl.weight_memory import banked
from snn import CoreSpec
from snn.testing.reference_core import rnd, sat, trunc

SPEC = CoreSpec(max_inputs=8, max_neurons=8)


def pack(layout, records: list[dict]) -> list[int]:
    """Integer memory words of ``records`` laid out by a LaneLayout/StructLayout."""
    words = []
    for rec in records:
        word = 0
        for name, field in layout:
            word |= (int(rec.get(name, 0)) & ((1 << field.width) - 1)) << field.offset
        words.append(word)
    return words


def unpack(layout, words: list[int]) -> list[dict]:
    out = []
    for word in words:
        rec = {}
        for name, field in layout:
            value = (word >> field.offset) & ((1 << field.width) - 1)
            if field.shape.signed and value >> (field.width - 1):
                value -= 1 << field.width
            rec[name] = value
        out.append(rec)
    return out


def neuron_reference(spec, params, state, acc, shift):
    """Phases 1 and 2 of docs/core-arithmetic.md for one neuron (returns new state, spike)."""
    C = spec.coef_bits
    i_e = sat(state["i_e"] + (acc["e"] << shift), spec.i_bits)
    i_i = sat(state["i_i"] + (acc["i"] << shift), spec.i_bits)
    ref, v = state["ref"], state["v"]
    if ref > 0:
        ref -= 1
    frozen = ref > 0
    if not frozen:
        v = sat(
            v + rnd((params["v_inf"] - v) * params["k_m"] + i_e * params["p_e"] + i_i * params["p_i"], C),
            spec.v_bits,
        )
    new = {"v": v, "i_e": trunc(i_e * params["a_e"], C), "i_i": trunc(i_i * params["a_i"], C), "ref": ref}
    spike = not frozen and v >= params["v_thresh"]
    if spike:
        new["v"], new["ref"] = params["v_reset"], params["ref_steps"]
    return new, spike


def random_neurons(rng, spec, n):
    vmax = 1 << (spec.v_bits - 1)
    imax = 1 << (spec.i_bits - 1)
    cmax = 1 << spec.coef_bits
    amax = 1 << (spec.acc_bits - 1)
    params = [
        {
            "v_inf": int(rng.integers(-vmax, vmax)),
            "v_thresh": int(rng.integers(-vmax // 4, vmax // 4)),
            "v_reset": int(rng.integers(-vmax, vmax)),
            "v_init": int(rng.integers(-vmax, vmax)),
            "ref_steps": int(rng.integers(0, 4)),
            **{k: int(rng.integers(1, cmax)) for k in ("k_m", "a_e", "a_i", "p_e", "p_i")},
        }
        for _ in range(n)
    ]
    state = [
        {
            "v": int(rng.integers(-vmax, vmax)),
            "i_e": int(rng.integers(-imax, imax)),
            "i_i": int(rng.integers(-imax, imax)),
            "ref": int(rng.integers(0, 3)),
        }
        for _ in range(n)
    ]
    acc = [{"e": int(rng.integers(0, amax)), "i": int(rng.integers(-amax, 1))} for _ in range(n)]
    return params, state, acc


def neuron_bench(spec, params, state, acc):
    n = spec.max_neurons
    p, s, a = param_layout(spec), state_layout(spec), acc_layout(spec)
    return Bench(
        NeuronEngine(spec),
        {
            "param": (n, p.size, p.lanes, pack(p, params)),
            "state": (n, s.size, s.lanes, pack(s, state)),
            "acc": (n, a.size, 1, pack(a, acc)),
            "spike": (n, 3, 1, []),
        },
    )


def test_neuron_engine_matches_the_document():
    rng = np.random.default_rng(1)
    spec, n = SPEC, 7  # one neuron of the memory unused
    for shift in (0, 3, spec.max_weight_shift):
        params, state, acc = random_neurons(rng, spec, spec.max_neurons)
        out = run(neuron_bench(spec, params, state, acc), {"n_neurons": n, "weight_shift": shift})
        got = unpack(state_layout(spec), out["memories"]["state"])
        spikes = []
        for j in range(n):
            want, spike = neuron_reference(spec, params[j], state[j], acc[j], shift)
            assert got[j] == want, f"neuron {j}, shift {shift}"
            if spike:
                spikes.append(j)
        assert got[n] == state[n]  # neurons beyond n_neurons are left alone
        assert out["memories"]["spike"][: len(spikes)] == spikes
        assert all(word == 0 for word in out["memories"]["acc"][:n])  # consumed
        assert out["cycles"] == 6 * n + 2


def test_neuron_engine_reset_pass():
    rng = np.random.default_rng(2)
    params, state, acc = random_neurons(rng, SPEC, SPEC.max_neurons)
    out = run(neuron_bench(SPEC, params, state, acc), {"n_neurons": SPEC.max_neurons}, reset=True)
    got = unpack(state_layout(SPEC), out["memories"]["state"])
    assert got == [{"v": p["v_init"], "i_e": 0, "i_i": 0, "ref": 0} for p in params]
    assert all(word == 0 for word in out["memories"]["acc"])


def test_synapse_engine_accumulates_rows():
    rng = np.random.default_rng(3)
    spec = SPEC
    n_max, k_max, n = spec.max_neurons, spec.max_inputs, 6
    lo, hi = spec.weight_range
    ff = rng.integers(lo, hi + 1, (k_max, n_max))
    rec = rng.integers(lo, hi + 1, (n_max, n_max))
    ff[0, :3] = 0  # zero weights add nothing
    a = acc_layout(spec)
    acc = [{"e": int(rng.integers(0, 100)), "i": int(rng.integers(-100, 1))} for _ in range(n_max)]
    spikes = [1, 4, 5]
    bank, inputs = 1, [0, 7, 3, 2]
    input_list = [0] * k_max + inputs + [0] * (k_max - len(inputs))
    mask = lambda w, bits: [int(x) & ((1 << bits) - 1) for x in np.ravel(w)]  # noqa: E731
    bench = Bench(
        SynapseEngine(spec),
        {
            "spikes": (n_max, 3, 1, spikes),
            "inputs": (2 * k_max, 3, 1, input_list),
            "ff": (k_max * n_max, 8, 1, mask(ff, 8)),
            "rec": (n_max * n_max, 8, 1, mask(rec, 8)),
            "acc": (n_max, a.size, 1, pack(a, acc)),
        },
    )
    setup = {"n_neurons": n, "spike_count": len(spikes), "input_count": len(inputs), "input_bank": bank}
    out = run(bench, setup)
    want = [dict(x) for x in acc]
    for row in [rec[k] for k in spikes] + [ff[k] for k in inputs]:
        for j in range(n):
            w = int(row[j])
            want[j]["e" if w > 0 else "i"] += w if w else 0
    assert unpack(a, out["memories"]["acc"]) == want
    assert out["cycles"] == (len(spikes) + len(inputs)) * (n + 2) + 4


def stdp_reference(spec, rule, w, x, y, rows_on, cols_on, pre_spikes, post_spikes, n_rows, n_cols):
    """Phase 5 of docs/core-arithmetic.md on one dense matrix (lists changed in place)."""
    C, k = spec.coef_bits, spec.stdp_frac_bits + spec.trace_frac_bits
    if not rule["flags"] & 1:  # rule off: nothing changes
        return
    window, mult, nearest = rule["flags"] & 2, rule["flags"] & 4, rule["flags"] & 8
    for traces, count, decay in ((x, n_rows, rule["decay_pre"]), (y, n_cols, rule["decay_post"])):
        for e in range(count):
            traces[e] = max(traces[e] - 1, 0) if window else (traces[e] * decay) >> C

    def change(old, trace, amp, dist):
        if window:
            return amp if trace > 0 else None
        return rnd(amp * trace * dist, k) if mult else rnd(amp * trace, k)

    for r in pre_spikes:
        if rows_on[r]:
            for c in range(n_cols):
                if cols_on[c]:
                    d = change(w[r][c], y[c], rule["amp_minus"], w[r][c] - rule["w_min"])
                    if d is not None:
                        w[r][c] = max(w[r][c] - d, rule["w_min"])
    for c in post_spikes:
        if cols_on[c]:
            for r in range(n_rows):
                if rows_on[r]:
                    d = change(w[r][c], x[r], rule["amp_plus"], rule["w_max"] - w[r][c])
                    if d is not None:
                        w[r][c] = min(w[r][c] + d, rule["w_max"])
    for traces, spikes, bump in ((x, pre_spikes, rule["bump_pre"]), (y, post_spikes, rule["bump_post"])):
        for e in spikes:
            traces[e] = bump if (window or nearest) else min(traces[e] + bump, spec.trace_max)


@pytest.mark.parametrize("flags", [0b0001, 0b0101, 0b1001, 0b1011])  # additive, mult., nearest, window
def test_learning_engine_matches_the_document(flags):
    check_learning_engine((flags, flags), seed=flags)


@pytest.mark.parametrize("flags", [(0b0001, 0b0000), (0b0000, 0b0101), (0b1011, 0b0000)])
def test_learning_engine_leaves_a_rule_that_is_off(flags):
    """A matrix whose rule is off keeps its weights and traces (its decay is skipped)."""
    check_learning_engine(flags, seed=sum(flags) + 100)


def check_learning_engine(flags, *, seed, bench=None, strong=False, spec=SPEC, pairs_of=None, sizes=(7, 6)):
    """Run the learning engine once (``flags`` per matrix) and compare with the document.

    ``bench`` builds the test bench from ``(engine, mems)`` (default: :class:`Bench`);
    ``strong``: amplitudes and traces up to their full range, so that weight steps pass the
    bounds by far and bumps saturate; ``pairs_of``: a two-lane engine of that matrix alone,
    walking two synapses a cycle (its weights in two checkerboard banks, copies of its trace
    and enable memories); ``sizes``: ``(n_neurons, n_inputs)``.
    """
    from hdl.learning_engine import LearningEngine
    from hdl.memories import enable_layout, rule_layout

    rng = np.random.default_rng(seed)
    n_max, k_max, (n, n_in) = spec.max_neurons, spec.max_inputs, sizes
    amp_max, window_amp, bump, trace_top = (
        (65536, (300, 255), 30000, 65536) if strong else (3000, (5, 7), 64, 200)
    )
    rules = []
    for mat in range(2):
        flags_m = flags[mat]
        w_min = int(rng.integers(-60, 0))
        rules.append(
            {
                "flags": flags_m,
                "decay_pre": int(rng.integers(30000, 65535)),
                "decay_post": int(rng.integers(30000, 65535)),
                "amp_plus": int(rng.integers(0, amp_max)) if not flags_m & 2 else window_amp[0],
                "amp_minus": int(rng.integers(0, amp_max)) if not flags_m & 2 else window_amp[1],
                "w_min": w_min,
                "w_max": int(rng.integers(1, 100)),
                "bump_pre": bump if not flags_m & 2 else 9,
                "bump_post": bump if not flags_m & 2 else 12,
            }
        )
    # weights inside each rule's bounds, as the network's validation guarantees
    w = {
        name: rng.integers(rule["w_min"], rule["w_max"] + 1, (rows, n_max)).tolist()
        for name, rule, rows in (("ff", rules[0], k_max), ("rec", rules[1], n_max))
    }
    depth = {"ff_pre": k_max, "ff_post": n_max, "rec_pre": n_max, "rec_post": n_max}
    trace = {name: rng.integers(0, trace_top, d).tolist() for name, d in depth.items()}
    enable = {name: rng.integers(0, 2, d).tolist() for name, d in depth.items()}
    in_spikes, spikes = [5, 0, 2], [6, 1, 3]
    mems = {
        "spikes": (n_max, 3, 1, spikes),
        "inputs": (2 * k_max, 3, 1, in_spikes + [0] * (2 * k_max - 3)),
        "ff": (k_max * n_max, 8, 1, [v & 255 for row in w["ff"] for v in row]),
        "rec": (n_max * n_max, 8, 1, [v & 255 for row in w["rec"] for v in row]),
    }
    for name, d in depth.items():
        mems[name] = (d, spec.trace_bits, 1, trace[name])
    en = enable_layout()
    lines = max(k_max, n_max)  # one word of enable bits per row / column index
    padded = {name: bits + [0] * (lines - len(bits)) for name, bits in enable.items()}
    words = [dict(zip(padded, bits, strict=True)) for bits in zip(*padded.values(), strict=True)]
    mems["enable"] = (lines, en.size, en.lanes, pack(en, words))
    rule_word = 0
    for m, rule in enumerate(rules):
        rule_word |= pack(rule_layout(spec), [rule])[0] << (m * rule_layout(spec).size)
    setup = {
        "rules": rule_word,
        "n_inputs": n_in,
        "n_neurons": n,
        "spike_count": len(spikes),
        "input_count": len(in_spikes),
        "input_bank": 0,
    }
    if pairs_of is None:
        mats = (0, 1)
        out = run((bench or Bench)(LearningEngine(spec), mems), setup)
    else:
        mats, name = (pairs_of,), ("ff", "rec")[pairs_of]
        flat = mems.pop(name)[3]
        del mems[("rec", "ff")[pairs_of]]
        L = n_max.bit_length() - 1
        # word i of bank b: weight 2i + x, x = b ^ bit L of that weight (bit L - 1 of i)
        place = [[2 * i + (b ^ (i >> (L - 1) & 1)) for i in range(len(flat) // 2)] for b in range(2)]
        for b in range(2):
            mems[f"{name}{b}"] = (len(flat) // 2, 8, 1, [flat[a] for a in place[b]])
        mirrors = {f"{name}_{side}_odd": f"{name}_{side}" for side in ("pre", "post")}
        for copy, original in mirrors.items():
            mems[copy] = mems[original]
        mems["enable_odd"] = mems["enable"]
        out = run(Bench(LearningEngine(spec, mats, pairs=True), mems, mirrors=mirrors), setup)
        got = [0] * len(flat)
        for b in range(2):
            for i, a in enumerate(place[b]):
                got[a] = out["memories"][f"{name}{b}"][i]
        out["memories"][name] = got
    walks = {
        "ltd_ff_rows": sum(enable["ff_pre"][r] for r in in_spikes),
        "ltd_rec_rows": sum(enable["rec_pre"][j] for j in spikes),
        "ltp_ff_cols": sum(enable["ff_post"][j] for j in spikes),
        "ltp_rec_cols": sum(enable["rec_post"][j] for j in spikes),
    }
    want = learn_cycles(
        n_in,
        n,
        len(spikes),
        len(in_spikes),
        **walks,
        ff_rule=flags[0] & 1,
        rec_rule=flags[1] & 1,
        banked=banked(n_max),
    )
    if pairs_of is not None:
        want = two_lane_cycles(
            n_in, n, len(spikes), len(in_spikes), **walks, ff_rule=flags[0] & 1, rec_rule=flags[1] & 1
        )[pairs_of]
    assert out["cycles"] == want  # the learning engine's share of hdl.timing.step_cycles
    for m, name, rows in ((0, "ff", n_in), (1, "rec", n)):
        if m not in mats:
            continue
        pre, post = f"{name}_pre", f"{name}_post"
        stdp_reference(spec, rules[m], w[name], trace[pre], trace[post], enable[pre], enable[post],
                       in_spikes if m == 0 else spikes, spikes, rows, n)  # fmt: skip
        got = np.array(out["memories"][name]).reshape(len(w[name]), n_max)
        got = np.where(got > 127, got - 256, got)
        assert got.tolist() == w[name], name
        for tr in (pre, post):
            size = rows if tr == pre else n
            assert out["memories"][tr][:size] == trace[tr][:size], tr


@pytest.mark.parametrize("flags", [0b0001, 0b0101, 0b1011])  # additive, multiplicative, window
def test_learning_engine_steps_past_the_bounds(flags):
    """Weight steps far beyond the room to ``w_min`` / ``w_max`` (clipped), saturating bumps."""
    check_learning_engine((flags, flags), seed=flags + 300, strong=True)


@pytest.mark.parametrize("n_max", [8, 7])  # two checkerboard banks (a walk reads every cycle), one
@pytest.mark.parametrize("flags", [(0b0001, 0b0101), (0b1011, 0b1001)])
def test_learning_engine_on_single_port_weights(flags, n_max):
    """The weights as single-port banks (iCE40 SPRAM): a read of the bank written in its cycle is lost."""
    spec = CoreSpec(max_inputs=8, max_neurons=n_max)
    check_learning_engine(
        flags,
        seed=sum(flags) + 200,
        bench=lambda e, m: Bench(e, m, single_port=("ff", "rec"), stride=n_max),
        spec=spec,
    )


@pytest.mark.parametrize("sizes", [(7, 5), (8, 8), (3, 1)])  # odd walk lengths, full, a single input
@pytest.mark.parametrize("mat", [0, 1])
def test_learning_engine_two_synapses_a_cycle(mat, sizes):
    """Two lanes: an FF or REC engine of its own walking two synapses a cycle (both banks read
    and written in a cycle), odd walk lengths included; cycles as ``hdl.timing``."""
    flags = (0b0101, 0b0001) if mat == 0 else (0b0001, 0b1011)
    check_learning_engine(flags, seed=400 + 10 * mat + sizes[0], pairs_of=mat, sizes=sizes)
    check_learning_engine((0b1001, 0b0101), seed=500 + mat, pairs_of=mat, sizes=sizes, strong=True)
