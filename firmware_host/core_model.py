"""A core that knows only its memory: the regions of memory_map.py as arrays, and a
timestep computed from them per docs/core-arithmetic.md (dense FF and REC matrices).

This is what the simulated board executes behind the protocol. It reads nothing of the
network description: everything comes from the words the host wrote, as in the
gateware. Plastic synapses are those whose row and column are STDP-enabled, and there
is one synaptic delay (1 timestep): the memory map has no delay region.
"""

from __future__ import annotations

import numpy as np

from snn.core_spec import CoreSpec

from .memory_map import (
    CONFIG_REGIONS,
    FLAG_ENABLED,
    FLAG_MULTIPLICATIVE,
    FLAG_NEAREST,
    FLAG_WINDOW,
    PARAM_STRIDE,
    RULE_STRIDE,
    STATE_STRIDE,
    Control,
    Matrix,
    NeuronParam,
    NeuronState,
    Region,
    RuleField,
    TraceKind,
    region_size,
)


def _sat(x: np.ndarray, bits: int) -> np.ndarray:
    return np.clip(x, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def _rnd(x: np.ndarray, k: int) -> np.ndarray:
    return (x + (1 << (k - 1))) >> k


def _trunc(x: np.ndarray, k: int) -> np.ndarray:
    return np.where(x >= 0, x >> k, -((-x) >> k))


class CoreModel:
    """Memory regions (int64 arrays) and the timestep of a core built from ``spec``."""

    def __init__(self, spec: CoreSpec | None = None) -> None:
        self.spec = spec or CoreSpec()
        self.mem = {region: np.zeros(region_size(self.spec, region), np.int64) for region in Region}
        self.acc_e = np.zeros(self.spec.max_neurons, np.int64)  # due at the next step (delay 1)
        self.acc_i = np.zeros(self.spec.max_neurons, np.int64)
        self.timestep = 0

    # -- views of the memory --------------------------------------------------------------
    def _matrix(self, m: Matrix) -> np.ndarray:
        spec = self.spec
        if m is Matrix.FF:
            return self.mem[Region.FF_WEIGHT].reshape(spec.max_inputs, spec.max_neurons)
        return self.mem[Region.REC_WEIGHT].reshape(spec.max_neurons, spec.max_neurons)

    def _rows(self) -> int:
        return max(self.spec.max_inputs, self.spec.max_neurons)

    def register(self, reg: Control) -> int:
        """A CONTROL register."""
        return int(self.mem[Region.CONTROL][reg])

    # -- commands -------------------------------------------------------------------------
    def clear_config(self) -> None:
        """CLEAR_CONFIG: every configuration word to 0 (state and traces are kept)."""
        for region in CONFIG_REGIONS:
            self.mem[region][:] = 0
        self.mem[Region.CONTROL][Control.STEP_COUNT] = self.timestep

    def reset_state(self) -> None:
        """RESET_STATE: for the neurons in use (below N_NEURONS) v = V_INIT, currents,
        refractory counters and accumulators 0; every trace 0; the timestep 0.

        Neurons at and above N_NEURONS keep their state and accumulators, as in the
        gateware, whose reset pass is its neuron pass (docs/protocol.md, "Reset")."""
        spec = self.spec
        n = min(self.register(Control.N_NEURONS), spec.max_neurons)
        params = self.mem[Region.NEURON_PARAM].reshape(spec.max_neurons, PARAM_STRIDE)[:n]
        state = self.mem[Region.NEURON_STATE].reshape(spec.max_neurons, STATE_STRIDE)[:n]
        state[:] = 0
        state[:, NeuronState.V] = params[:, NeuronParam.V_INIT]
        self.mem[Region.TRACE][:] = 0
        self.acc_e[:n] = 0
        self.acc_i[:n] = 0
        self.timestep = 0
        self.mem[Region.CONTROL][Control.STEP_COUNT] = 0

    def step(self, inputs: np.ndarray) -> np.ndarray:
        """Run one timestep with the given input spikes (source indices); return the
        neurons that spiked, ascending."""
        spec = self.spec
        n = min(self.register(Control.N_NEURONS), spec.max_neurons)
        m = min(self.register(Control.N_INPUTS), spec.max_inputs)
        s = self.register(Control.WEIGHT_SHIFT)
        inputs = np.unique(np.asarray(inputs, np.int64))
        inputs = inputs[inputs < m]
        spikes = self._neurons(n, s)
        # 4. propagation (delay 1), routed by the sign of the weight
        ff, rec = self._matrix(Matrix.FF), self._matrix(Matrix.REC)
        rows = np.concatenate([ff[inputs, :n], rec[spikes, :n]])
        self.acc_e[:n] = np.where(rows > 0, rows, 0).sum(axis=0)
        self.acc_i[:n] = np.where(rows < 0, rows, 0).sum(axis=0)
        # 5. plasticity, one rule slot per matrix
        self._plasticity(Matrix.FF, inputs, spikes, m, n)
        self._plasticity(Matrix.REC, spikes, spikes, n, n)
        self.timestep += 1
        self.mem[Region.CONTROL][Control.STEP_COUNT] = self.timestep & 0xFFFFFFFF
        return spikes

    # -- phases ---------------------------------------------------------------------------
    def _neurons(self, n: int, s: int) -> np.ndarray:
        """Phases 1 and 2 for neurons ``0..n-1``; returns the spiking ones."""
        spec = self.spec
        c = spec.coef_bits
        p = self.mem[Region.NEURON_PARAM].reshape(spec.max_neurons, PARAM_STRIDE)[:n]
        state = self.mem[Region.NEURON_STATE].reshape(spec.max_neurons, STATE_STRIDE)[:n]
        v, ref = state[:, NeuronState.V], state[:, NeuronState.REF]
        i_e = _sat(state[:, NeuronState.I_E] + (self.acc_e[:n] << s), spec.i_bits)
        i_i = _sat(state[:, NeuronState.I_I] + (self.acc_i[:n] << s), spec.i_bits)
        self.acc_e[:n] = 0  # the inputs due now are consumed (those of neurons not in use wait)
        self.acc_i[:n] = 0
        ref = np.where(ref > 0, ref - 1, ref)
        frozen = ref > 0
        dv = _rnd(
            (p[:, NeuronParam.V_INF] - v) * p[:, NeuronParam.K_M]
            + i_e * p[:, NeuronParam.P_E]
            + i_i * p[:, NeuronParam.P_I],
            c,
        )
        v = np.where(frozen, v, _sat(v + dv, spec.v_bits))
        spike = ~frozen & (v >= p[:, NeuronParam.V_THRESH])
        state[:, NeuronState.V] = np.where(spike, p[:, NeuronParam.V_RESET], v)
        state[:, NeuronState.REF] = np.where(spike, p[:, NeuronParam.REF_STEPS], ref)
        state[:, NeuronState.I_E] = _trunc(i_e * p[:, NeuronParam.A_E], c)
        state[:, NeuronState.I_I] = _trunc(i_i * p[:, NeuronParam.A_I], c)
        return np.flatnonzero(spike)

    def _plasticity(self, m: Matrix, pre: np.ndarray, post: np.ndarray, n_rows: int, n_cols: int) -> None:
        """Phase 5 for the rule slot of matrix ``m``: decay, depression, potentiation, bump."""
        spec = self.spec
        rule = self.mem[Region.STDP_RULE].reshape(len(Matrix), RULE_STRIDE)[m]
        flags = int(rule[RuleField.FLAGS])
        if not flags & FLAG_ENABLED:
            return
        traces = self.mem[Region.TRACE].reshape(len(TraceKind), self._rows())
        x = traces[TraceKind.FF_PRE if m is Matrix.FF else TraceKind.REC_PRE][:n_rows]
        y = traces[TraceKind.FF_POST if m is Matrix.FF else TraceKind.REC_POST][:n_cols]
        window = bool(flags & FLAG_WINDOW)
        mult = bool(flags & FLAG_MULTIPLICATIVE)
        c, shift = spec.coef_bits, spec.stdp_frac_bits + spec.trace_frac_bits
        w_min, w_max = int(rule[RuleField.W_MIN]), int(rule[RuleField.W_MAX])
        a_plus, a_minus = int(rule[RuleField.AMP_PLUS]), int(rule[RuleField.AMP_MINUS])
        # a. decay
        if window:
            np.maximum(x - 1, 0, out=x)
            np.maximum(y - 1, 0, out=y)
        else:  # traces are unsigned: trunc is a shift
            x[:] = (x * int(rule[RuleField.DECAY_PRE])) >> c
            y[:] = (y * int(rule[RuleField.DECAY_POST])) >> c
        w = self._matrix(m)
        rows_on = self.mem[Region.STDP_ROW_ENABLE][m * self._rows() :][:n_rows] != 0
        cols_on = self.mem[Region.STDP_COL_ENABLE][m * spec.max_neurons :][:n_cols] != 0
        # b. depression at the rows of the presynaptic spikes
        rows = pre[rows_on[pre]]
        cols = np.flatnonzero(cols_on)
        if rows.size and cols.size:
            sub = w[np.ix_(rows, cols)]
            yv = y[cols][None, :]
            if window:
                new = np.where(yv > 0, np.maximum(sub - a_minus, w_min), sub)
            elif mult:
                new = np.maximum(sub - _rnd(a_minus * yv * (sub - w_min), shift), w_min)
            else:
                new = np.maximum(sub - _rnd(a_minus * yv, shift), w_min)
            w[np.ix_(rows, cols)] = new
        # c. potentiation at the columns of the neurons that spiked
        rows = np.flatnonzero(rows_on)
        cols = post[cols_on[post]]
        if rows.size and cols.size:
            sub = w[np.ix_(rows, cols)]
            xv = x[rows][:, None]
            if window:
                new = np.where(xv > 0, np.minimum(sub + a_plus, w_max), sub)
            elif mult:
                new = np.minimum(sub + _rnd(a_plus * xv * (w_max - sub), shift), w_max)
            else:
                new = np.minimum(sub + _rnd(a_plus * xv, shift), w_max)
            w[np.ix_(rows, cols)] = new
        # d. bump the traces of the elements that spiked
        for trace, spiked, bump in ((x, pre, RuleField.BUMP_PRE), (y, post, RuleField.BUMP_POST)):
            b = int(rule[bump])
            trace[spiked] = b if flags & FLAG_NEAREST else np.minimum(trace[spiked] + b, spec.trace_max)
