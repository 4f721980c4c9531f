"""The neuron engine: phases 1 (delivery) and 2 (neuron update) of docs/core-arithmetic.md.

Time-multiplexed over the neurons with one multiplier: the five products of a neuron
update (``(v_inf - v)*k_m``, ``i_e*p_e``, ``i_i*p_i``, ``i_e*a_e``, ``i_i*a_i``) take one
cycle each, so one neuron takes 7 cycles (the reads of neuron ``j+1`` overlap the products
of ``j``): ``7 * n_neurons + 2`` cycles per timestep.

Parameters, state and accumulators are read at one address (the core keeps parameter and
state fields of one width in one memory), and never in a cycle that writes the state: the
core's neuron memories are simple dual-port RAMs whose read port is off while they are
written, so block RAM needs no bypass logic.
"""

from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .arith import rnd, sat, trunc
from .memories import acc_layout, addr_width, param_layout, read_port, state_layout, write_port


class NeuronEngine(wiring.Component):
    """Delivers the accumulated inputs and updates every neuron in use, in index order.

    A one-cycle ``start`` pulse runs one pass over neurons ``0..n_neurons-1``; with
    ``reset`` high at ``start`` the pass instead writes the initial state (``v_init``,
    zero currents, counter and accumulators). ``done`` pulses when the pass ends;
    ``spike_count`` neurons spiked, their indices are in the spike list in ascending order.
    """

    def __init__(self, spec: CoreSpec):
        self.spec = spec
        n = spec.max_neurons
        self.params = param_layout(spec)
        self.state = state_layout(spec)
        self.acc = acc_layout(spec)
        super().__init__(
            {
                "start": In(1),
                "reset": In(1),
                "done": Out(1),
                "n_neurons": In(range(n + 1)),
                "weight_shift": In(range(spec.max_weight_shift + 1)),
                "spike_count": Out(range(n + 1)),
                "state_rd": read_port(n, self.state.size),
                "state_wr": write_port(n, self.state.size, self.state.lanes),
                "param_rd": read_port(n, self.params.size),
                "acc_rd": read_port(n, self.acc.size),
                "acc_wr": write_port(n, self.acc.size),
                "spike_wr": write_port(n, addr_width(n)),
            }
        )

    def elaborate(self, platform):
        spec = self.spec
        m = Module()
        C = spec.coef_bits
        j = Signal(range(spec.max_neurons + 1))
        resetting = Signal()
        rd_addr = Signal.like(j)
        for port in (self.state_rd, self.param_rd, self.acc_rd):
            m.d.comb += port.addr.eq(rd_addr)

        par = self.params(self.param_rd.data)
        st = self.state(self.state_rd.data)
        acc = self.acc(self.acc_rd.data)

        # registers of the neuron being updated
        p = Signal(self.params)
        v = Signal(signed(spec.v_bits))
        i_e = Signal(signed(spec.i_bits))
        i_i = Signal(signed(spec.i_bits))
        ref = Signal(unsigned(spec.refrac_bits))
        frozen = Signal()
        i_e_next = Signal.like(i_e)
        i_i_next = Signal.like(i_i)
        step = Signal(range(5))

        # the one multiplier, its operands chosen by the step
        a = Array([p.v_inf - v, i_e, i_i, i_e, i_i])[step]
        b = Array([p.k_m, p.p_e, p.p_i, p.a_e, p.a_i])[step]
        product = Signal(signed(max(spec.v_bits + 1, spec.i_bits) + C + 1))
        m.d.comb += product.eq(a * b)
        total = Signal(signed(product.shape().width + 2))  # sum of three products

        v_int = Signal(signed(spec.v_bits))
        m.d.comb += v_int.eq(Mux(frozen, v, sat(v + rnd(total, C), spec.v_bits)))
        spike = Signal()
        m.d.comb += spike.eq(~frozen & (v_int >= p.v_thresh))

        # one delivery (shift and saturating add) for both currents: i_e in LOAD, i_i in the
        # first MUL cycle (the reads of the neuron are repeated in LOAD so their data stays)
        loading = Signal()
        delivered = Signal(signed(spec.i_bits))
        m.d.comb += delivered.eq(
            sat(Mux(loading, st.i_e, st.i_i) + (Mux(loading, acc.e, acc.i) << self.weight_shift), spec.i_bits)
        )

        m.d.sync += self.done.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [j.eq(0), resetting.eq(self.reset)]
                    with m.If(~self.reset):
                        m.d.sync += self.spike_count.eq(0)
                    m.next = "READ"
            with m.State("READ"):
                # issue the reads of neuron j (data next cycle)
                m.d.comb += rd_addr.eq(j)
                with m.If(j == self.n_neurons):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
                with m.Elif(resetting):
                    m.next = "RESET"
                with m.Else():
                    m.next = "LOAD"
            with m.State("RESET"):
                m.d.comb += [
                    self.state_wr.addr.eq(j),
                    self.state_wr.en.eq(-1),
                ]
                wr = self.state(self.state_wr.data)
                m.d.comb += [wr.v.eq(par.v_init), self.acc_wr.addr.eq(j), self.acc_wr.en.eq(1)]
                m.d.sync += j.eq(j + 1)
                m.next = "READ"
            with m.State("LOAD"):
                ref_dec = Mux(st.ref > 0, st.ref - 1, 0)
                m.d.comb += [loading.eq(1), rd_addr.eq(j)]
                m.d.sync += [
                    p.eq(par),
                    v.eq(st.v),
                    i_e.eq(delivered),
                    ref.eq(ref_dec),
                    frozen.eq(ref_dec > 0),
                    step.eq(0),
                ]
                m.next = "MUL"
            with m.State("MUL"):
                m.d.sync += step.eq(step + 1)
                with m.Switch(step):
                    with m.Case(0):
                        m.d.sync += [total.eq(product), i_i.eq(delivered)]
                    with m.Case(1, 2):
                        m.d.sync += total.eq(total + product)
                    with m.Case(3):
                        m.d.sync += i_e_next.eq(trunc(product, C))
                    with m.Case(4):
                        m.d.sync += i_i_next.eq(trunc(product, C))
                        # read the next neuron now: no read is issued in a write cycle
                        m.d.comb += rd_addr.eq(j + 1)
                        m.next = "WRITE"
            with m.State("WRITE"):
                wr = self.state(self.state_wr.data)
                m.d.comb += [
                    self.state_wr.addr.eq(j),
                    self.state_wr.en.eq(-1),
                    wr.v.eq(Mux(spike, p.v_reset, v_int)),
                    wr.i_e.eq(i_e_next),
                    wr.i_i.eq(i_i_next),
                    wr.ref.eq(Mux(spike, p.ref_steps, ref)),
                    # the inputs due now are consumed: clear the accumulators
                    self.acc_wr.addr.eq(j),
                    self.acc_wr.en.eq(1),
                ]
                with m.If(spike):
                    m.d.comb += [
                        self.spike_wr.addr.eq(self.spike_count),
                        self.spike_wr.data.eq(j),
                        self.spike_wr.en.eq(1),
                    ]
                    m.d.sync += self.spike_count.eq(self.spike_count + 1)
                # (the next neuron was read in the last MUL cycle; its address stays on the
                # read ports, which the core disables while the memories are written)
                m.d.comb += rd_addr.eq(j + 1)
                m.d.sync += j.eq(j + 1)
                with m.If(j + 1 == self.n_neurons):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.next = "LOAD"
        return m
