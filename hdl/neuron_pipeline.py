"""The wide core's neuron engine: phases 1-2 of docs/core-arithmetic.md, one neuron a cycle.

The same arithmetic as :class:`hdl.neuron_engine.NeuronEngine` (its helpers ``deliver``,
``refractory``, ``integrate``, ``settle``), in a pipeline with five multipliers side by
side. Neuron ``j`` enters at cycle ``j`` of the pass and goes through four stages:

- S0 READ: the reads of neuron ``j`` are issued: its state and parameters at address ``j``
  (``param_rd`` and ``state_rd`` always at one address: in the core they are lanes of the
  same width-grouped memories), its accumulator word ``j // P``.
- S1 DELIVER: from the read data, the accumulators of lane ``j % P``; the delivered
  currents ``sat(i + (acc << s))``, ``v_inf - v`` and the refractory step, registered with
  the parameters the later stages use. The accumulator word is cleared here (one write,
  lanes ``0 .. j % P``) after its last neuron in use, ``j % P == P - 1`` or
  ``j == n_neurons - 1``.
- S2 MULTIPLY: the five products ``(v_inf - v)*k_m``, ``i_e*p_e``, ``i_i*p_i``,
  ``i_e*a_e``, ``i_i*a_i``, registered.
- S3 UPDATE: their sum, rounding, saturation, threshold and spike; the state is written
  (``v`` only when not frozen), the spike appended to the list.

Memory hazards: in the core the neuron memories are ``BlockMemory(exclusive=False)``,
whose read may not meet a write of its own word. S3 writes neuron ``j - 3`` while S0 reads
neuron ``j``; S1 clears word ``w`` only after its last read, when S0 reads word ``w + 1``
or nothing (no read is issued for ``j >= n_neurons``: ``en`` low). Neurons at and beyond
``n_neurons`` are left alone, their accumulator lanes included.

A reset pass (``reset`` high at ``start``) runs the same pipeline: the currents delivered
as 0 (so the decays write 0), ``v = v_init`` and ``ref = 0`` written with every lane, the
accumulators of neurons below ``n_neurons`` cleared; no spikes, ``spike_count`` kept.

Cycles from ``start`` to ``done``: ``n_neurons + 4`` (:func:`pipelined_neuron_cycles`),
``n_neurons = 0`` included: the start cycle, then one read a neuron, then the three
stages after the last read (``done`` rises with the last write).

Size at 256 x 256 (Yosys ``synth_ecp5 -noflatten``, the engine alone): 5 MULT18X18D;
1,231 LUT4 and 530 flip-flops with 16 lanes, 930 and 514 with 8, 827 and 502 with 4
(NeuronEngine: 1 DSP, 505 LUT4, 62 flip-flops). With its memories, nextpnr-ecp5 on an LFE5U-45F speed 6: 54-57 MHz, the critical
path S3's sum, rounding and saturation into the state memory's write data.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring

from snn.core_spec import CoreSpec

from .arith import trunc
from .memories import acc_layout, param_layout, state_layout
from .neuron_engine import deliver, integrate, neuron_ports, refractory, settle

#: cycles from ``start`` to ``done`` beyond one a neuron
PIPELINE_CYCLES = 4


def pipelined_neuron_cycles(n_neurons: int) -> int:
    """Cycles of one pass (update or reset) of :class:`PipelinedNeuronEngine`, ``start`` to ``done``."""
    return n_neurons + PIPELINE_CYCLES


class PipelinedNeuronEngine(wiring.Component):
    """Delivers the accumulated inputs and updates every neuron in use, one a cycle.

    The interface of :class:`hdl.neuron_engine.NeuronEngine` but for the accumulators:
    ``P = spec.lanes`` neurons a word, neuron ``j`` in lane ``j % P`` (lane 0 in the low
    bits) of word ``j // P``, one write enable a lane. A one-cycle ``start`` pulse runs one
    pass over neurons ``0..n_neurons-1``; with ``reset`` high at ``start`` the pass writes the
    initial state instead. ``done`` pulses when the pass ends; ``spike_count`` neurons
    spiked, their indices are in the spike list in ascending order.
    """

    def __init__(self, spec: CoreSpec):
        self.spec = spec
        P = spec.lanes
        if P & (P - 1):
            raise ValueError(f"the pipelined neuron engine needs a power-of-two lane count, got {P}")
        self.params = param_layout(spec)
        self.state = state_layout(spec)
        self.acc = acc_layout(spec)
        super().__init__(neuron_ports(spec, P))

    def elaborate(self, platform):
        spec = self.spec
        m = Module()
        n, P, C = spec.max_neurons, spec.lanes, spec.coef_bits
        L = P.bit_length() - 1  # lane bits of a neuron index
        par = self.params(self.param_rd.data)
        st = self.state(self.state_rd.data)

        resetting = Signal()  # the pass is a reset pass
        # -- S0: issue the reads of neuron j0 ---------------------------------------------------
        running = Signal()
        j0 = Signal(range(n + 1))
        issue = Signal()
        m.d.comb += issue.eq(running & (j0 != self.n_neurons))
        m.d.comb += [
            self.state_rd.addr.eq(j0),
            self.param_rd.addr.eq(j0),
            self.acc_rd.addr.eq(j0[L:]),
            self.state_rd.en.eq(issue),
            self.param_rd.en.eq(issue),
            self.acc_rd.en.eq(issue),
        ]
        with m.If(issue):
            m.d.sync += j0.eq(j0 + 1)
        # the lanes of j0's word to clear after j0: 0 .. j0 % P if j0 is its word's last in use
        last = (j0[:L] == P - 1) | (j0 + 1 == self.n_neurons) if L else Const(1)
        clear0 = Signal(P)
        for lane in range(P):
            m.d.comb += clear0[lane].eq(last & (j0[:L] >= lane) if L else last)
        # the pass's end, moving down the pipeline behind its last neuron: done with its write
        end = Signal(2)
        m.d.sync += [end.eq(Cat(running & ~issue, end[0])), self.done.eq(end[1])]
        with m.If(running & ~issue):
            m.d.sync += running.eq(0)

        # -- S1: deliver ------------------------------------------------------------------------
        valid1, j1, clear1 = Signal(), Signal.like(j0), Signal(P)
        m.d.sync += [valid1.eq(issue), j1.eq(j0), clear1.eq(Const(0, P))]
        with m.If(issue):
            m.d.sync += clear1.eq(clear0)
        # lane j1 % P of the word. Eight lanes and more: an AND-OR with a one-hot select
        # (registered from S0), the fewest ECP5 LUT4s of the forms measured (16 lanes, Yosys
        # synth_ecp5: the engine 1,231 LUT4 against 1,337 as a word_select, 1,361 as an Array;
        # 8 lanes: 930 against 1,022); fewer lanes: a multiplexer
        words = [self.acc_rd.data.word_select(lane, self.acc.size) for lane in range(P)]
        if P >= 8:
            one_hot = Signal(P)
            m.d.sync += one_hot.eq(Const(1, P) << j0[:L])
            lane_data = 0
            for lane, word in enumerate(words):
                lane_data |= word & one_hot[lane].replicate(self.acc.size)
        else:
            lane_data = Array(words)[j1[:L]] if L else words[0]
        # a signal, not the expression: each field's use would copy the whole select
        lane_acc = Signal(self.acc.size)
        m.d.comb += lane_acc.eq(lane_data)
        acc = self.acc(lane_acc)
        m.d.comb += [
            self.acc_wr.addr.eq(j1[L:]),
            self.acc_wr.data.eq(0),
            self.acc_wr.en.eq(clear1),
        ]
        s = self.weight_shift
        ref_dec, frozen = refractory(st.ref)
        valid2, j2 = Signal(), Signal.like(j0)
        i_e2, i_i2 = Signal(signed(spec.i_bits)), Signal(signed(spec.i_bits))
        dv2 = Signal(signed(spec.v_bits + 1))  # v_inf - v
        v2, ref2, frozen2 = Signal(signed(spec.v_bits)), Signal(spec.refrac_bits), Signal()
        coef2 = {
            name: Signal(spec.coef_bits, name=f"{name}2") for name in ("k_m", "p_e", "p_i", "a_e", "a_i")
        }
        # v_thresh; v_reset, or v_init in a reset pass (the value a spike or a reset writes)
        thresh2, v_set2 = Signal(signed(spec.v_bits)), Signal(signed(spec.v_bits))
        ref_steps2 = Signal(spec.refrac_bits)
        m.d.sync += [
            valid2.eq(valid1),
            j2.eq(j1),
            # a reset pass delivers 0: the decays write 0 currents
            i_e2.eq(Mux(resetting, 0, deliver(spec, st.i_e, acc.e, s))),
            i_i2.eq(Mux(resetting, 0, deliver(spec, st.i_i, acc.i, s))),
            dv2.eq(par.v_inf - st.v),
            v2.eq(st.v),
            ref2.eq(ref_dec),
            frozen2.eq(frozen & ~resetting),
            *(reg.eq(getattr(par, name)) for name, reg in coef2.items()),
            thresh2.eq(par.v_thresh),
            v_set2.eq(Mux(resetting, par.v_init, par.v_reset)),
            ref_steps2.eq(par.ref_steps),
        ]

        # -- S2: the five products ----------------------------------------------------------------
        products = {
            "m": dv2 * coef2["k_m"],
            "p_e": i_e2 * coef2["p_e"],
            "p_i": i_i2 * coef2["p_i"],
            "a_e": i_e2 * coef2["a_e"],
            "a_i": i_i2 * coef2["a_i"],
        }
        prod3 = {name: Signal(x.shape(), name=f"prod_{name}3") for name, x in products.items()}
        valid3, j3 = Signal(), Signal.like(j0)
        v3, ref3, frozen3 = Signal.like(v2), Signal.like(ref2), Signal()
        thresh3, v_set3, ref_steps3 = Signal.like(thresh2), Signal.like(v_set2), Signal.like(ref_steps2)
        m.d.sync += [
            *(prod3[name].eq(x) for name, x in products.items()),
            valid3.eq(valid2),
            j3.eq(j2),
            v3.eq(v2),
            ref3.eq(ref2),
            frozen3.eq(frozen2),
            thresh3.eq(thresh2),
            v_set3.eq(v_set2),
            ref_steps3.eq(ref_steps2),
        ]

        # -- S3: sum, round, saturate, threshold; write ---------------------------------------------
        total = prod3["m"] + prod3["p_e"] + prod3["p_i"] + (1 << (C - 1))
        v_int, fires = integrate(spec, v3, total, frozen3, thresh3)
        spike = Signal()
        m.d.comb += spike.eq(fires & ~resetting)
        new_v, new_ref = settle(v_int, spike, resetting, v_set3, v_set3, ref_steps3, ref3)
        wr = self.state(self.state_wr.data)
        everything = (1 << self.state.lanes) - 1
        not_v = everything & ~(1 << self.state.names.index("v"))
        m.d.comb += [
            self.state_wr.addr.eq(j3),
            wr.v.eq(new_v),
            wr.i_e.eq(trunc(prod3["a_e"], C, spec.i_bits)),
            wr.i_i.eq(trunc(prod3["a_i"], C, spec.i_bits)),
            wr.ref.eq(new_ref),
        ]
        with m.If(valid3):
            # v is left as it is while frozen
            m.d.comb += self.state_wr.en.eq(Mux(frozen3, not_v, everything))
            with m.If(spike):
                m.d.comb += [
                    self.spike_wr.addr.eq(self.spike_count),
                    self.spike_wr.data.eq(j3),
                    self.spike_wr.en.eq(1),
                ]
                m.d.sync += self.spike_count.eq(self.spike_count + 1)

        with m.If(self.start):
            m.d.sync += [running.eq(1), j0.eq(0), resetting.eq(self.reset)]
            with m.If(~self.reset):
                m.d.sync += self.spike_count.eq(0)
        return m
