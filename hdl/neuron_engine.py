"""The neuron engine: phases 1 (delivery) and 2 (neuron update) of docs/core-arithmetic.md.

Time-multiplexed over the neurons with one multiplier; neuron ``j`` takes 6 cycles:

- READ: the read address becomes ``j`` (data next cycle). It stays ``j`` until the neuron
  is written, so the neuron's parameters, state and accumulators stay on the read ports'
  data: the engine keeps no copy of them in registers.
- MUL 0..4: the five products, one a cycle. ``(v_inf - v)*k_m``, ``i_e*p_e`` and
  ``i_i*p_i`` are summed in ``total``; ``i_e*a_e`` (MUL 3) and ``i_i*a_i`` (MUL 4) go
  from the multiplier straight into the state memory. MUL 3 also writes ``v`` and
  ``ref`` and appends the spike; MUL 4 clears the accumulators.

The delivered currents ``sat(i + (acc << s))`` are computed from the read data for each
product that needs them. A field is never used after the cycle that writes it: the core's
neuron memories are simple dual-port RAMs whose read port is off (its data holds) while
they are written, so block RAM needs no bypass logic, and a transparent read port (the
engine tests' memories) gives the same result. ``6 * n_neurons + 2`` cycles per timestep.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .arith import clip, fits, sat, trunc
from .memories import acc_layout, addr_width, param_layout, read_port, state_layout, write_port


def deliver(spec: CoreSpec, i: Value, x: Value, s: Value) -> Value:
    """Phase 1 for one current: ``sat_Bi(i + (x << s))``, ``x`` an accumulator, ``s`` the shift.

    ``x << s`` is formed to ``i_bits + 1`` bits only, with a test of whether it fits them:
    not if a bit of ``x`` that the shift moves to bit ``i_bits`` or above differs from the
    sign (then the sum saturates on ``x``'s side).
    """
    B = spec.i_bits
    shifted = (x << s)[: B + 1].as_signed()
    moved = range(max(0, B - spec.max_weight_shift), len(x) - 1)
    big = Cat((x[k] != x[-1]) & (s >= B - k) for k in moved).any()
    wide = i + shifted
    return clip(wide, B, ~big & fits(wide, B), Mux(big, x[-1], wide[-1]))


def refractory(ref: Value) -> tuple[Value, Value]:
    """``(ref - 1 if ref > 0 else ref, frozen)``: the counter's step and whether it stays > 0."""
    return ref - ref.any(), ref[1:].any()


def integrate(spec: CoreSpec, v: Value, total: Value, frozen: Value, v_thresh: Value) -> tuple[Value, Value]:
    """``(v_int, spike)``: ``sat_Bv(v + (total >> C))`` (``total`` holds the three products
    and the rounding ``2^(C-1)`` of ``rnd_C``) and ``not frozen and v_int >= v_thresh``."""
    v_int = sat(v + (total >> spec.coef_bits), spec.v_bits)
    return v_int, ~frozen & (v_int >= v_thresh)


def settle(v_int, spike, resetting, v_init, v_reset, ref_steps, ref_dec) -> tuple[Value, Value]:
    """The written ``(v, ref)``: ``v_reset``/``ref_steps`` after a spike, ``v_init``/0 in a
    reset pass, else ``v_int``/``ref_dec`` (``v`` is not written while frozen)."""
    # (the parameter chosen apart from the late spike: fewer cells)
    v = Mux(spike | resetting, Mux(resetting, v_init, v_reset), v_int)
    return v, Mux(resetting, 0, Mux(spike, ref_steps, ref_dec))


def neuron_ports(spec: CoreSpec, lanes: int = 1) -> dict:
    """A neuron engine's signature members; its accumulators ``lanes`` neurons a word
    (neuron ``j`` in lane ``j % lanes`` of word ``j // lanes``, lane 0 in the low bits)."""
    n = spec.max_neurons
    params, state, acc = param_layout(spec), state_layout(spec), acc_layout(spec)
    words = -(-n // lanes)
    return {
        "start": In(1),
        "reset": In(1),
        "done": Out(1),
        "n_neurons": In(range(n + 1)),
        "weight_shift": In(range(spec.max_weight_shift + 1)),
        "spike_count": Out(range(n + 1)),
        "state_rd": read_port(n, state.size),
        "state_wr": write_port(n, state.size, state.lanes),
        "param_rd": read_port(n, params.size),
        "acc_rd": read_port(words, lanes * acc.size),
        "acc_wr": write_port(words, lanes * acc.size, lanes),
        "spike_wr": write_port(n, addr_width(n)),
    }


class NeuronEngine(wiring.Component):
    """Delivers the accumulated inputs and updates every neuron in use, in index order.

    A one-cycle ``start`` pulse runs one pass over neurons ``0..n_neurons-1``; with
    ``reset`` high at ``start`` the pass instead writes the initial state (``v_init``,
    zero currents, counter and accumulators). ``done`` pulses when the pass ends;
    ``spike_count`` neurons spiked, their indices are in the spike list in ascending order.
    """

    def __init__(self, spec: CoreSpec):
        self.spec = spec
        self.params = param_layout(spec)
        self.state = state_layout(spec)
        self.acc = acc_layout(spec)
        super().__init__(neuron_ports(spec))

    def elaborate(self, platform):
        spec = self.spec
        m = Module()
        C = spec.coef_bits
        j = Signal(range(spec.max_neurons + 1))
        resetting = Signal()
        # one address for every read and write of neuron j
        for port in (self.state_rd, self.param_rd, self.acc_rd, self.state_wr, self.acc_wr):
            m.d.comb += port.addr.eq(j)

        par = self.params(self.param_rd.data)
        st = self.state(self.state_rd.data)
        acc = self.acc(self.acc_rd.data)
        wr = self.state(self.state_wr.data)

        def lanes(*names):
            return sum(1 << self.state.names.index(name) for name in names)

        step = Signal(range(8))  # the product of MUL; 5 outside MUL

        # delivery of i_e (steps 1, 3) or i_i (steps 2, 4): one shift and saturating add
        inh = ~step[0]
        delivered = deliver(spec, Mux(inh, st.i_i, st.i_e), Mux(inh, acc.i, acc.e), self.weight_shift)
        # the one multiplier, its operands chosen by the step
        a = Mux(step == 0, par.v_inf - st.v, delivered)
        b = Signal.like(par.k_m)  # 0 in steps 5..7, so is the product (RESET writes 0 currents)
        with m.Switch(step):
            for i, coef in enumerate((par.k_m, par.p_e, par.p_i, par.a_e, par.a_i)):
                with m.Case(i):
                    m.d.comb += b.eq(coef)
        product = Signal(signed(max(spec.v_bits + 1, spec.i_bits) + C))
        m.d.comb += product.eq(a * b)
        # sum of three products plus 2^(C-1), the rounding of rnd_C
        total = Signal(signed(product.shape().width + 2))

        # the update of v and ref, written in step 3
        ref_dec, frozen = refractory(st.ref)
        v_int, fires = integrate(spec, st.v, total, frozen, par.v_thresh)
        spike = Signal()
        m.d.comb += spike.eq(fires)
        new_v, new_ref = settle(v_int, spike, resetting, par.v_init, par.v_reset, par.ref_steps, ref_dec)
        m.d.comb += [
            wr.v.eq(new_v),
            # both currents from the multiplier (0 in RESET), each written in its own step
            wr.i_e.eq(trunc(product, C, spec.i_bits)),
            wr.i_i.eq(trunc(product, C, spec.i_bits)),
            wr.ref.eq(new_ref),
        ]

        m.d.sync += self.done.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [j.eq(0), resetting.eq(self.reset), step.eq(5)]
                    with m.If(~self.reset):
                        m.d.sync += self.spike_count.eq(0)
                    m.next = "READ"
            with m.State("READ"):
                # the reads of neuron j are issued (data next cycle)
                with m.If(j == self.n_neurons):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
                with m.Elif(resetting):
                    m.next = "RESET"
                with m.Else():
                    # a constant load: the flip-flops' own set/reset, no multiplexer
                    m.d.sync += [step.eq(0), total.eq(1 << (C - 1))]
                    m.next = "MUL"
            with m.State("RESET"):
                m.d.comb += [self.state_wr.en.eq(-1), self.acc_wr.en.eq(1)]
                m.d.sync += j.eq(j + 1)
                m.next = "READ"
            with m.State("MUL"):
                m.d.sync += step.eq(step + 1)
                with m.Switch(step):
                    with m.Case(0, 1, 2):
                        m.d.sync += total.eq(total + product)
                    with m.Case(3):
                        # total is complete: v (left as it is while frozen), ref and the
                        # spike; this is i_e's last use
                        m.d.comb += self.state_wr.en.eq(
                            Mux(frozen, lanes("i_e", "ref"), lanes("v", "i_e", "ref"))
                        )
                        with m.If(spike):
                            m.d.comb += [
                                self.spike_wr.addr.eq(self.spike_count),
                                self.spike_wr.data.eq(j),
                                self.spike_wr.en.eq(1),
                            ]
                            m.d.sync += self.spike_count.eq(self.spike_count + 1)
                    with m.Case(4):
                        # the inputs due now are consumed: clear the accumulators
                        m.d.comb += [self.state_wr.en.eq(lanes("i_i")), self.acc_wr.en.eq(1)]
                        m.d.sync += j.eq(j + 1)
                        m.next = "READ"
        return m
