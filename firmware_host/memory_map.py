"""The core's memory map: where every weight, parameter, state variable and STDP constant
of a :class:`snn.quantize.QuantizedNetwork` lives, as (region, index) -> integer word.

This is the contract between the host driver (``firmware_host``) and the gateware
(``hdl``), which imports it; it is pure Python and imports no amaranth. A word is a
signed or unsigned integer of the width given by :func:`word_bits`; on the wire it
travels little-endian in ``ceil(bits / 8)`` bytes (see docs/protocol.md).

Core structure (docs/core-arithmetic.md): ``max_inputs`` spike sources feed a
feed-forward (FF) matrix ``max_inputs x max_neurons``; the neurons feed a recurrent
(REC) matrix ``max_neurons x max_neurons``. Each matrix has one STDP rule slot, enabled
per row (presynaptic) and per column (postsynaptic).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from snn.core_spec import CoreSpec


class Region(IntEnum):
    """Address regions (the high byte of an address)."""

    CONTROL = 0  # Control registers
    FF_WEIGHT = 1  # index = input * max_neurons + neuron
    REC_WEIGHT = 2  # index = pre * max_neurons + post
    NEURON_PARAM = 3  # index = neuron * PARAM_STRIDE + NeuronParam
    NEURON_STATE = 4  # index = neuron * STATE_STRIDE + NeuronState
    STDP_RULE = 5  # index = Matrix * RULE_STRIDE + RuleField
    STDP_ROW_ENABLE = 6  # index = Matrix * max(max_inputs, max_neurons) + row; 1 bit
    STDP_COL_ENABLE = 7  # index = Matrix * max_neurons + column; 1 bit
    TRACE = 8  # index = TraceKind * max(max_inputs, max_neurons) + element


# What CLEAR_CONFIG zeroes: the configuration, not the state, traces or STEP_COUNT
CONFIG_REGIONS = (
    Region.CONTROL,
    Region.FF_WEIGHT,
    Region.REC_WEIGHT,
    Region.NEURON_PARAM,
    Region.STDP_RULE,
    Region.STDP_ROW_ENABLE,
    Region.STDP_COL_ENABLE,
)


class Control(IntEnum):
    """Registers of the CONTROL region."""

    WEIGHT_SHIFT = 0  # left shift of accumulated weights into the currents
    N_INPUTS = 1  # inputs in use (the rest are ignored)
    N_NEURONS = 2  # neurons in use
    STEP_COUNT = 3  # timesteps run since RESET_STATE (read only, 32 bits)


class NeuronParam(IntEnum):
    """Fields of one neuron's parameter record."""

    V_INF = 0
    V_THRESH = 1
    V_RESET = 2
    V_INIT = 3
    REF_STEPS = 4
    K_M = 5
    A_E = 6
    A_I = 7
    P_E = 8
    P_I = 9


class NeuronState(IntEnum):
    """Fields of one neuron's state record."""

    V = 0
    I_E = 1
    I_I = 2
    REF = 3


class Matrix(IntEnum):
    """The two weight matrices, each with one STDP rule slot."""

    FF = 0
    REC = 1


class RuleField(IntEnum):
    """Fields of an STDP rule slot (see snn.quantize.QuantizedRule)."""

    FLAGS = 0  # bit 0 enabled, bit 1 window rule, bit 2 multiplicative, bit 3 nearest
    DECAY_PRE = 1
    DECAY_POST = 2
    AMP_PLUS = 3
    AMP_MINUS = 4
    W_MIN = 5
    W_MAX = 6
    BUMP_PRE = 7
    BUMP_POST = 8


class TraceKind(IntEnum):
    """Traces: presynaptic per matrix (inputs for FF, neurons for REC), postsynaptic per matrix."""

    FF_PRE = 0
    FF_POST = 1
    REC_PRE = 2
    REC_POST = 3


PARAM_STRIDE = 16
STATE_STRIDE = 4
RULE_STRIDE = 16
FLAG_ENABLED, FLAG_WINDOW, FLAG_MULTIPLICATIVE, FLAG_NEAREST = 1, 2, 4, 8


@dataclass(frozen=True)
class Word:
    """Width and signedness of the words of one region or field."""

    bits: int
    signed: bool


# The padding words of a record (fields past the last one, up to the stride): they read
# as 0 and the host writes 0; one byte on the wire.
RESERVED = Word(8, False)


def word_bits(spec: CoreSpec, region: Region, index: int = 0) -> Word:
    """Width and signedness of the word at ``(region, index)``."""
    if region in (Region.FF_WEIGHT, Region.REC_WEIGHT):
        return Word(spec.weight_bits, True)
    if region is Region.NEURON_PARAM:
        if index % PARAM_STRIDE >= len(NeuronParam):
            return RESERVED
        field = NeuronParam(index % PARAM_STRIDE)
        if field <= NeuronParam.V_INIT:
            return Word(spec.v_bits, True)
        if field is NeuronParam.REF_STEPS:
            return Word(spec.refrac_bits, False)
        return Word(spec.coef_bits, False)
    if region is Region.NEURON_STATE:
        field = NeuronState(index % STATE_STRIDE)
        widths = {NeuronState.V: spec.v_bits, NeuronState.I_E: spec.i_bits, NeuronState.I_I: spec.i_bits}
        return Word(widths[field], True) if field in widths else Word(spec.refrac_bits, False)
    if region is Region.STDP_RULE:
        if index % RULE_STRIDE >= len(RuleField):
            return RESERVED
        field = RuleField(index % RULE_STRIDE)
        if field in (RuleField.W_MIN, RuleField.W_MAX):
            return Word(spec.weight_bits, True)
        if field in (RuleField.DECAY_PRE, RuleField.DECAY_POST):
            return Word(spec.coef_bits, False)
        if field in (RuleField.AMP_PLUS, RuleField.AMP_MINUS):
            return Word(spec.stdp_amp_bits, False)
        if field in (RuleField.BUMP_PRE, RuleField.BUMP_POST):
            return Word(spec.trace_bits, False)
        return Word(4, False)
    if region in (Region.STDP_ROW_ENABLE, Region.STDP_COL_ENABLE):
        return Word(1, False)
    if region is Region.TRACE:
        return Word(spec.trace_bits, False)
    if index == Control.STEP_COUNT:
        return Word(32, False)
    return Word(16, False)


def region_size(spec: CoreSpec, region: Region) -> int:
    """Number of words in a region."""
    rows = max(spec.max_inputs, spec.max_neurons)
    return {
        Region.CONTROL: len(Control),
        Region.FF_WEIGHT: spec.max_inputs * spec.max_neurons,
        Region.REC_WEIGHT: spec.max_neurons * spec.max_neurons,
        Region.NEURON_PARAM: spec.max_neurons * PARAM_STRIDE,
        Region.NEURON_STATE: spec.max_neurons * STATE_STRIDE,
        Region.STDP_RULE: len(Matrix) * RULE_STRIDE,
        Region.STDP_ROW_ENABLE: len(Matrix) * rows,
        Region.STDP_COL_ENABLE: len(Matrix) * spec.max_neurons,
        Region.TRACE: len(TraceKind) * rows,
    }[region]


@dataclass
class CoreImage:
    """Everything the host writes to configure a core for one network.

    ``ff`` and ``rec`` are dense weight matrices (int64, absent synapses 0); ``params``
    is ``(n_neurons, len(NeuronParam))``; ``rules[m]`` holds the RuleField words of matrix
    ``m`` (all zero when the matrix has no rule); ``row_enable[m]`` / ``col_enable[m]`` are
    0/1 arrays.
    """

    spec: CoreSpec
    n_inputs: int
    n_neurons: int
    weight_shift: int
    ff: np.ndarray
    rec: np.ndarray
    params: np.ndarray
    rules: np.ndarray
    row_enable: np.ndarray
    col_enable: np.ndarray

    def writes(self) -> list[tuple[Region, int, np.ndarray]]:
        """Burst writes ``(region, first index, words)`` that load this image.

        Weight rows are written whole (``max_neurons`` words), so that a row of the core
        never keeps a weight of an earlier network.
        """
        spec = self.spec
        out: list[tuple[Region, int, np.ndarray]] = [
            (Region.CONTROL, 0, np.array([self.weight_shift, self.n_inputs, self.n_neurons]))
        ]
        for region, matrix in ((Region.FF_WEIGHT, self.ff), (Region.REC_WEIGHT, self.rec)):
            for row in range(matrix.shape[0]):
                out.append((region, row * spec.max_neurons, matrix[row]))
        params = np.zeros((self.n_neurons, PARAM_STRIDE), np.int64)
        params[:, : self.params.shape[1]] = self.params
        out.append((Region.NEURON_PARAM, 0, params.ravel()))
        rules = np.zeros((len(Matrix), RULE_STRIDE), np.int64)
        rules[:, : self.rules.shape[1]] = self.rules
        out.append((Region.STDP_RULE, 0, rules.ravel()))
        rows = max(spec.max_inputs, spec.max_neurons)
        for m in Matrix:
            out.append((Region.STDP_ROW_ENABLE, m * rows, self.row_enable[m]))
            out.append((Region.STDP_COL_ENABLE, m * spec.max_neurons, self.col_enable[m]))
        return out


def core_image(quantized) -> CoreImage:
    """Lay a :class:`snn.quantize.QuantizedNetwork` out in the core's memory map.

    The network must fit (``snn.quantize.fit_problems``): sources become inputs
    ``0..n_sources-1``, LIF neurons become neurons ``0..n_neurons-1``, in declaration order.
    """
    from snn.quantize import fit_problems

    spec = quantized.spec
    built = quantized.built
    problems = fit_problems(built, spec)
    if problems:
        from snn.errors import FitError

        raise FitError(f"network does not fit the core: {problems[0]}")
    n, s = built.n_neurons, built.n_sources
    ff = np.zeros((s, spec.max_neurons), np.int64)
    rec = np.zeros((n, spec.max_neurons), np.int64)
    pre = np.repeat(np.arange(built.syn_ptr.size - 1), np.diff(built.syn_ptr))
    is_rec = pre < n
    rec[pre[is_rec], built.syn_post[is_rec]] = quantized.weight[is_rec]
    ff[pre[~is_rec] - n, built.syn_post[~is_rec]] = quantized.weight[~is_rec]
    params = np.stack(
        [
            quantized.v_inf,
            quantized.v_thresh,
            quantized.v_reset,
            quantized.v_init,
            quantized.ref_steps,
            quantized.k_m,
            quantized.a_e,
            quantized.a_i,
            quantized.p_e,
            quantized.p_i,
        ],
        axis=1,
    ).astype(np.int64)
    rows = max(spec.max_inputs, spec.max_neurons)
    rules = np.zeros((len(Matrix), len(RuleField)), np.int64)
    row_enable = np.zeros((len(Matrix), rows), np.int64)
    col_enable = np.zeros((len(Matrix), spec.max_neurons), np.int64)
    for matrix, mask, offset in ((Matrix.FF, ~is_rec, n), (Matrix.REC, is_rec, 0)):
        plastic = mask & (built.syn_rule >= 0)
        if not plastic.any():
            continue
        rule = quantized.rules[int(built.syn_rule[plastic][0])]
        flags = FLAG_ENABLED
        flags |= FLAG_WINDOW if rule.kind == "window" else 0
        flags |= FLAG_MULTIPLICATIVE if rule.multiplicative else 0
        flags |= FLAG_NEAREST if rule.nearest else 0
        rules[matrix] = [
            flags,
            rule.decay_pre,
            rule.decay_post,
            rule.amp_plus,
            rule.amp_minus,
            rule.w_min,
            rule.w_max,
            rule.bump_pre,
            rule.bump_post,
        ]
        row_enable[matrix, np.unique(pre[plastic]) - offset] = 1
        col_enable[matrix, np.unique(built.syn_post[plastic])] = 1
    return CoreImage(spec, s, n, quantized.weight_shift, ff, rec, params, rules, row_enable, col_enable)
