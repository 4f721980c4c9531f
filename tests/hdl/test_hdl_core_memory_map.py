"""The command path reaches every word of the memory map: random words written to every
field of the neuron records (stored by width, hdl.memories.neuron_groups), the STDP rules,
traces, enable bits, weights and control registers read back as written (sign-extended
when signed), and a reserved word reads 0; on a core of one lane and on a wide core (four
lanes: weights in four skewed banks, every one of them written; traces and enable bits four
elements a memory word, each written and read by itself through its lane)."""

from __future__ import annotations

import random

import pytest
from pysim import run_core

from firmware_host.memory_map import (
    PARAM_STRIDE,
    RULE_STRIDE,
    STATE_STRIDE,
    Control,
    NeuronParam,
    NeuronState,
    Region,
    RuleField,
    TraceKind,
    region_size,
    word_bits,
)
from hdl.memories import neuron_groups, param_layout, state_layout
from snn import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=4)
WIDE = CoreSpec(max_inputs=8, max_neurons=8, lanes=4)
SPECS = pytest.mark.parametrize("spec", [SPEC, WIDE], ids=["lanes1", "lanes4"])


def test_neuron_groups_hold_every_field_once():
    spec = CoreSpec()
    groups = neuron_groups(spec)
    stored = [key for fields in groups.values() for key in fields]
    want = [("param", f) for f in param_layout(spec).names] + [("state", f) for f in state_layout(spec).names]
    assert sorted(stored) == sorted(want)
    assert {w: len(f) for w, f in groups.items()} == {18: 7, 16: 5, 8: 2}
    # 256 x 16 EBRs at 256 neurons: 8 + 5 + 1 (the lane layouts took 12 + 5)
    assert sum(-(-w * len(f) // 16) for w, f in groups.items()) == 14


def random_word(rng, spec, region, index):
    word = word_bits(spec, region, index)
    if word.signed:
        return rng.randrange(-(1 << (word.bits - 1)), 1 << (word.bits - 1))
    return rng.randrange(1 << word.bits)


@SPECS
def test_every_region_reads_back_what_was_written(spec):
    rng = random.Random(5)
    rows = max(spec.max_inputs, spec.max_neurons)
    words = {}
    for neuron in range(spec.max_neurons):
        for f in NeuronParam:
            words[Region.NEURON_PARAM, neuron * PARAM_STRIDE + f] = None
        for f in NeuronState:
            words[Region.NEURON_STATE, neuron * STATE_STRIDE + f] = None
    for mat in range(2):
        for f in RuleField:
            words[Region.STDP_RULE, mat * RULE_STRIDE + f] = None
        for r in range(spec.max_inputs if mat == 0 else spec.max_neurons):
            words[Region.STDP_ROW_ENABLE, mat * rows + r] = None
        for c in range(spec.max_neurons):
            words[Region.STDP_COL_ENABLE, mat * spec.max_neurons + c] = None
    for kind in TraceKind:
        depth = spec.max_inputs if kind == TraceKind.FF_PRE else spec.max_neurons
        for e in range(depth):
            words[Region.TRACE, kind * rows + e] = None
    for region in (Region.FF_WEIGHT, Region.REC_WEIGHT):
        size = region_size(spec, region)
        # a wide core: every weight (each of its banks, every word); one lane: eight
        for i in range(size) if spec.lanes > 2 else rng.sample(range(size), 8):
            words[region, i] = None
    for key in words:
        words[key] = random_word(rng, spec, *key)
    words[Region.CONTROL, Control.WEIGHT_SHIFT] = 3
    words[Region.CONTROL, Control.N_INPUTS] = 5
    words[Region.CONTROL, Control.N_NEURONS] = 2
    order = list(words)
    rng.shuffle(order)

    async def body(session, ctx):
        for region, index in order:
            await session.write(region, index, [words[region, index]])
        got = {}
        for region, index in order:
            (got[region, index],) = await session.read(region, index)
        reserved = await session.read(Region.NEURON_PARAM, PARAM_STRIDE + len(NeuronParam))
        return {"got": got, "reserved": reserved}

    out = run_core(spec, body)
    for key, value in words.items():
        assert out["got"][key] == value, key
    assert out["reserved"] == [0]


@pytest.mark.parametrize(
    "spec", [SPEC, CoreSpec(max_inputs=8, max_neurons=4, lanes=4)], ids=["lanes1", "lanes4"]
)
def test_input_and_neuron_counts_clamp_to_the_core_size(spec):
    # 8 inputs, 4 neurons
    writes = [9, 8, 1 << 9, 1 << 31, 0xFFFF_FFFF, 3]

    async def body(session, ctx):
        got = []
        for value in writes:
            for reg in (Control.N_INPUTS, Control.N_NEURONS):
                await session.write(Region.CONTROL, reg, [value])
                (word,) = await session.read(Region.CONTROL, reg)
                got.append(word)
        return {"got": got}

    out = run_core(spec, body)
    want = []
    for value in writes:
        want += [min(value, spec.max_inputs), min(value, spec.max_neurons)]
    assert out["got"] == want


def test_wide_core_elements_of_a_word_are_read_and_written_one_at_a_time():
    """A wide core keeps traces and enable bits ``P`` elements a memory word: distinct values
    written to the elements of one word one at a time (forwards, then one rewritten) read back
    each its own, and the word before stays 0."""
    spec, P = WIDE, WIDE.lanes
    rows = max(spec.max_inputs, spec.max_neurons)
    groups = []  # (region, index of a word's first element, the values to write)
    for kind in TraceKind:
        groups.append((Region.TRACE, kind * rows + P, [0x1111 * (k + 1) + kind for k in range(P)]))
    for mat in range(2):
        groups.append((Region.STDP_ROW_ENABLE, mat * rows + P, [1, 0, 1, 1] if mat else [0, 1, 1, 0]))
        groups.append(
            (Region.STDP_COL_ENABLE, mat * spec.max_neurons + P, [1, 1, 0, 1] if mat else [1, 0, 0, 1])
        )
    rewritten = 2  # the element written again after the others

    def new_value(region, value):
        return 1 - value if region is not Region.TRACE else 0xBEEF

    async def body(session, ctx):
        got = []
        for region, first, values in groups:
            for k, value in enumerate(values):
                await session.write(region, first + k, [value])
            after_all = await session.read(region, first, P)
            await session.write(region, first + rewritten, [new_value(region, values[rewritten])])
            after_one = await session.read(region, first, P)
            around = await session.read(region, first - P, P)  # the word before: elements 0 .. P - 1
            got.append((after_all, after_one, around))
        return {"got": got}

    out = run_core(spec, body)
    for (region, first, values), (after_all, after_one, around) in zip(groups, out["got"], strict=True):
        assert after_all == values, (region, first)
        want = list(values)
        want[rewritten] = new_value(region, values[rewritten])
        assert after_one == want, (region, first)
        assert around == [0] * P, (region, first)
