"""A core that knows only its memory: the regions of memory_map.py as arrays, and a
timestep computed from them per docs/core-arithmetic.md (dense FF and REC matrices).

This is what the simulated board executes behind the protocol. It reads nothing of the
network description: everything comes from the words the host wrote, as in the
gateware. Plastic synapses are those whose row and column are STDP-enabled, and there
is one synaptic delay (1 timestep): the memory map has no delay region.

The arithmetic is :mod:`snn.fixed_point`'s, the one the reference core of the tests runs
(phases 1-2 per neuron, phase 5 per trace and synapse, on Python ints): this module hands
it the words of the memory (an STDP rule slot as a :class:`~snn.quantize.QuantizedRule`)
and writes the results back. Propagation (phase 4) is an exact integer sum over the
dense matrices. Python ints cost speed: a full 256-neuron core steps about four times
slower than with the numpy arithmetic this replaced (about 0.5 ms a step).
"""

from __future__ import annotations

import numpy as np

from snn.core_spec import CoreSpec
from snn.fixed_point import Neurons, bumped, decay_trace, depressed, neuron_phase, potentiated
from snn.quantize import QuantizedRule

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
        p = self.mem[Region.NEURON_PARAM].reshape(spec.max_neurons, PARAM_STRIDE)[:n].T.tolist()
        state = self.mem[Region.NEURON_STATE].reshape(spec.max_neurons, STATE_STRIDE)[:n]
        cols = state.T.tolist()
        nr = Neurons(
            v=cols[NeuronState.V],
            i_e=cols[NeuronState.I_E],
            i_i=cols[NeuronState.I_I],
            ref=cols[NeuronState.REF],
            v_inf=p[NeuronParam.V_INF],
            v_thresh=p[NeuronParam.V_THRESH],
            v_reset=p[NeuronParam.V_RESET],
            ref_steps=p[NeuronParam.REF_STEPS],
            k_m=p[NeuronParam.K_M],
            a_e=p[NeuronParam.A_E],
            a_i=p[NeuronParam.A_I],
            p_e=p[NeuronParam.P_E],
            p_i=p[NeuronParam.P_I],
        )
        spikes = neuron_phase(nr, self.acc_e[:n].tolist(), self.acc_i[:n].tolist(), shift=s, spec=spec)
        state[:] = np.array(cols, np.int64).T
        self.acc_e[:n] = 0  # the inputs due now are consumed (those of neurons not in use wait)
        self.acc_i[:n] = 0
        return np.array(spikes, np.int64)

    def _rule(self, m: Matrix) -> QuantizedRule | None:
        """The STDP rule slot of matrix ``m`` as a :class:`QuantizedRule`; None if disabled."""
        words = self.mem[Region.STDP_RULE].reshape(len(Matrix), RULE_STRIDE)[m].tolist()
        flags = words[RuleField.FLAGS]
        if not flags & FLAG_ENABLED:
            return None
        return QuantizedRule(
            kind="window" if flags & FLAG_WINDOW else "pair",
            multiplicative=bool(flags & FLAG_MULTIPLICATIVE),
            nearest=bool(flags & FLAG_NEAREST),
            decay_pre=words[RuleField.DECAY_PRE],
            decay_post=words[RuleField.DECAY_POST],
            bump_pre=words[RuleField.BUMP_PRE],
            bump_post=words[RuleField.BUMP_POST],
            amp_plus=words[RuleField.AMP_PLUS],
            amp_minus=words[RuleField.AMP_MINUS],
            w_min=words[RuleField.W_MIN],
            w_max=words[RuleField.W_MAX],
        )

    def _plasticity(self, m: Matrix, pre: np.ndarray, post: np.ndarray, n_rows: int, n_cols: int) -> None:
        """Phase 5 for the rule slot of matrix ``m``: decay, depression, potentiation, bump,
        on the synapses whose row and column are enabled."""
        spec = self.spec
        rule = self._rule(m)
        if rule is None:
            return
        traces = self.mem[Region.TRACE].reshape(len(TraceKind), self._rows())
        x_words = traces[TraceKind.FF_PRE if m is Matrix.FF else TraceKind.REC_PRE][:n_rows]
        y_words = traces[TraceKind.FF_POST if m is Matrix.FF else TraceKind.REC_POST][:n_cols]
        x, y = x_words.tolist(), y_words.tolist()
        # a. decay
        decay_trace(x, rule.decay_pre, rule, spec)
        decay_trace(y, rule.decay_post, rule, spec)
        w = self._matrix(m)
        rows_on = self.mem[Region.STDP_ROW_ENABLE][m * self._rows() :][:n_rows] != 0
        cols_on = self.mem[Region.STDP_COL_ENABLE][m * spec.max_neurons :][:n_cols] != 0
        # b. depression at the rows of the presynaptic spikes
        rows, cols = pre[rows_on[pre]], np.flatnonzero(cols_on)
        if rows.size and cols.size:
            block = w[np.ix_(rows, cols)].tolist()
            yc = [y[j] for j in cols.tolist()]
            w[np.ix_(rows, cols)] = [
                [depressed(wv, yv, rule, spec) for wv, yv in zip(row, yc)] for row in block
            ]
        # c. potentiation at the columns of the neurons that spiked
        rows, cols = np.flatnonzero(rows_on), post[cols_on[post]]
        if rows.size and cols.size:
            block = w[np.ix_(rows, cols)].tolist()
            xr = [x[k] for k in rows.tolist()]
            w[np.ix_(rows, cols)] = [
                [potentiated(wv, xv, rule, spec) for wv in row] for row, xv in zip(block, xr)
            ]
        # d. bump the traces of the elements that spiked
        for k in pre.tolist():
            x[k] = bumped(x[k], rule.bump_pre, rule, spec)
        for j in post.tolist():
            y[j] = bumped(y[j], rule.bump_post, rule, spec)
        x_words[:] = x
        y_words[:] = y
