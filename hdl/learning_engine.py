"""The learning engine: phase 5 (plasticity) of docs/core-arithmetic.md.

Per matrix (FF, REC) one STDP rule slot, enabled per row (pre) and per column (post); the
four sets of enable bits share one memory, one lane each (:func:`hdl.memories.enable_layout`),
which only the command path writes. One pass:

a. decay every trace: one element per cycle, the four trace memories one after another
   (those of a matrix whose rule is off are skipped);
b. depression: for each presynaptic spike ``k`` of the step, walk row ``k`` against the
   post traces ``y_j``;
c. potentiation: for each neuron ``j`` that spiked, walk column ``j`` (one read per row)
   against the pre traces ``x_k``;
d. bump the traces of the elements that spiked.

A walk reads a weight every other cycle (``t``, even); it is written back, clipped to
``[w_min, w_max]``, at ``t + 3`` (stage 1 forms ``A * trace``, stage 2 the rounding, the
multiplicative factor and the bound), so a walk runs at one synapse per 2 cycles and never
reads and writes the weights in one cycle, nor uses read data in the cycle after a write:
the weight memories may be single-port (the core's SPRAM, ``hdl/weight_memory.py``).

Multipliers: the decays and ``A * trace`` share one ``trace_bits x max(coef_bits,
stdp_amp_bits)`` product (they never run in the same cycle; ``tsel`` picks the trace
memory and the rule it reads); the multiplicative rule's ``A * trace * dist`` is a second
(24 x 9 by default: two iCE40 SB_MAC16).
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .arith import clamp, rnd
from .memories import addr_width, enable_layout, read_port, rule_layout, write_port

FF, REC = 0, 1
PRE, POST = 0, 1


class LearningEngine(wiring.Component):
    """STDP for one step, or (``reset`` high at ``start``) clearing every trace.

    ``rules`` holds the two rule slots (FF, REC); a slot whose flag bit 0 is clear leaves
    its matrix and traces untouched. Spike lists as in :class:`hdl.synapse_engine.SynapseEngine`.
    """

    def __init__(self, spec: CoreSpec):
        self.spec = spec
        n, k = spec.max_neurons, spec.max_inputs
        self.rule = rule_layout(spec)
        members = {
            "start": In(1),
            "reset": In(1),
            "done": Out(1),
            "rules": In(data.ArrayLayout(self.rule, 2)),
            "n_inputs": In(range(k + 1)),
            "n_neurons": In(range(n + 1)),
            "spike_count": In(range(n + 1)),
            "input_count": In(range(k + 1)),
            "input_bank": In(1),
            "spikes_rd": read_port(n, addr_width(n)),
            "inputs_rd": read_port(2 * k, addr_width(k)),
            # the enable bits, one lane per trace memory (TraceKind order): lane ``mat * 2 + side``
            "enable_rd": read_port(max(n, k), enable_layout().size),
        }
        for name, rows in (("ff", k), ("rec", n)):
            members[f"{name}_rd"] = read_port(rows * n, spec.weight_bits)
            members[f"{name}_wr"] = write_port(rows * n, spec.weight_bits)
        for name, depth in self.trace_depths().items():
            members[f"{name}_rd"] = read_port(depth, spec.trace_bits)
            members[f"{name}_wr"] = write_port(depth, spec.trace_bits)
        super().__init__(members)

    def trace_depths(self) -> dict[str, int]:
        """Trace memories in ``TraceKind`` order and their depths."""
        n, k = self.spec.max_neurons, self.spec.max_inputs
        return {"ff_pre": k, "ff_post": n, "rec_pre": n, "rec_post": n}

    def elaborate(self, platform):
        spec = self.spec
        n_max, k_max = spec.max_neurons, spec.max_inputs
        C, round_bits = spec.coef_bits, spec.stdp_frac_bits + spec.trace_frac_bits
        m = Module()
        rules = self.rules
        # (matrix, side) -> (read port, write port), in TraceKind order
        traces = {
            key: (getattr(self, f"{name}_rd"), getattr(self, f"{name}_wr"))
            for key, name in zip(
                ((FF, PRE), (FF, POST), (REC, PRE), (REC, POST)), self.trace_depths(), strict=True
            )
        }
        weights = [(self.ff_rd, self.ff_wr), (self.rec_rd, self.rec_wr)]
        en = enable_layout()  # enable bit i in bit 0 of lane i
        enable_bits = Array(self.enable_rd.data[i * en.lane] for i in range(en.lanes))

        def enabled(mat):
            return rules[mat].flags[0]

        resetting = Signal()
        m.d.sync += self.done.eq(0)

        # -- the shared multiplier: trace decays and the amplitude product ------------------
        # ``tsel`` picks the trace memory whose read data it takes (TraceKind order: the
        # memory being decayed, or the partner trace of a walk: ``mat * 2 + ~ltp``) and the
        # rule of its matrix; ``decay_valid`` (decay) or ``v1`` (walk) says which factor.
        tsel = Signal(2)
        decay_valid = Signal()
        e = Signal(range(max(n_max, k_max) + 1))  # element being read
        e_d = Signal.like(e)  # element being written
        which = Signal(2)  # trace memory being decayed
        m.d.sync += decay_valid.eq(0)
        read = Array(traces[mt, sd][0].data for mt in (FF, REC) for sd in (PRE, POST))
        selected = Signal(spec.trace_bits)
        m.d.comb += selected.eq(read[tsel])
        rule_sel = rules[tsel[1]]
        factor = Signal(unsigned(max(C, spec.stdp_amp_bits)))
        m.d.comb += factor.eq(
            Mux(
                decay_valid,
                Mux(tsel[0], rule_sel.decay_post, rule_sel.decay_pre),
                Mux(tsel[0], rule_sel.amp_minus, rule_sel.amp_plus),  # post partner: LTD
            )
        )
        product = Signal(unsigned(factor.shape().width + spec.trace_bits))
        m.d.comb += product.eq(selected * factor)

        # -- a. decay (or clear) every trace: the four memories one after another ----------
        x = selected
        decayed = Mux(rule_sel.flags[1], Mux(x > 0, x - 1, 0), product >> C)
        new_trace = Signal(spec.trace_bits)
        m.d.comb += new_trace.eq(Mux(resetting, 0, decayed))
        for i, (_, wr) in enumerate(traces.values()):
            with m.If(decay_valid & (tsel == i)):
                m.d.comb += [
                    wr.addr.eq(e_d),
                    wr.en.eq(1),
                    wr.data.eq(new_trace),
                ]

        # -- b, c. depression and potentiation walks ---------------------------------------
        job = Signal(range(4))  # (matrix, ltp) = (job & 1, job >> 1)
        mat, ltp = job[0], job[1]
        from_inputs = (mat == FF) & ~ltp  # depression of FF rows: the input spikes
        count = Mux(from_inputs, self.input_count, self.spike_count)
        s = Signal(range(max(n_max, k_max) + 1))
        m.d.comb += [
            self.spikes_rd.addr.eq(s),
            self.inputs_rd.addr.eq(Mux(self.input_bank, k_max, 0) + s),
        ]
        listed = Mux(from_inputs, self.inputs_rd.data, self.spikes_rd.data)
        line = Signal(range(max(n_max, k_max)))
        pos = Signal(range(max(n_max, k_max) + 1))
        length = Signal.like(pos)
        addr = Signal(range(max(n_max, k_max) * n_max + 1))
        stride = Signal(range(n_max + 1))
        gap = Signal()  # in a walk: the cycle after a read (no read issued)

        # pipeline: a read at t (even cycles of a walk), stage 1 at t + 1 has the weight and
        # the partner's trace and forms A * trace, stage 2 holds its registers for t + 2 and
        # t + 3 and writes at t + 3 (odd): a read and a write of the weights never share a
        # cycle, and no read data is used in the cycle after a write (single-port weights)
        v1, v2, v3 = Signal(), Signal(), Signal()
        partner = selected  # the trace across the synapse: y_j (LTD) or x_k (LTP)
        m1, ltp1 = tsel[1], ~tsel[0]  # stage 1's matrix and kind: from the partner's memory
        m2, ltp2 = Signal(), Signal()
        a1, a2 = Signal.like(addr), Signal.like(addr)
        partner_on = enable_bits[tsel]  # the partner's enable bit
        m.d.sync += [v1.eq(0), v2.eq(v1 & partner_on), v3.eq(v2)]
        w1 = Signal(signed(spec.weight_bits))
        m.d.comb += w1.eq(Mux(m1, self.rec_rd.data, self.ff_rd.data))
        amp1 = factor  # A+ (LTP) or A- (LTD) when v1
        w2 = Signal.like(w1)
        amp2 = Signal(unsigned(spec.stdp_amp_bits))
        prod2 = Signal(unsigned(spec.stdp_amp_bits + spec.trace_bits))
        seen2 = Signal()  # partner trace > 0 (the window rule's condition)
        with m.If(v1):
            m.d.sync += [
                m2.eq(m1),
                ltp2.eq(ltp1),
                a2.eq(a1),
                w2.eq(w1),
                amp2.eq(amp1),
                prod2.eq(product),
                seen2.eq(partner > 0),
            ]
        rule2 = rules[m2]
        dist = Mux(ltp2, rule2.w_max - w2, w2 - rule2.w_min)
        delta = Signal(signed(prod2.shape().width + spec.weight_bits + 3))
        with m.If(rule2.flags[1]):
            m.d.comb += delta.eq(amp2)
        with m.Elif(rule2.flags[2]):
            m.d.comb += delta.eq(rnd(prod2 * dist, round_bits))
        with m.Else():
            m.d.comb += delta.eq(rnd(prod2, round_bits))
        lo = Mux(ltp2, -(1 << (delta.shape().width + 1)), rule2.w_min)
        hi = Mux(ltp2, rule2.w_max, 1 << (delta.shape().width + 1))
        updated = clamp(Mux(ltp2, w2 + delta, w2 - delta), lo, hi, spec.weight_bits)
        write = v3 & (seen2 | ~rule2.flags[1])
        for mt, (_, wr) in enumerate(weights):
            with m.If(write & (m2 == mt)):
                m.d.comb += [wr.addr.eq(a2), wr.data.eq(updated), wr.en.eq(1)]

        # -- d. bumps ----------------------------------------------------------------------
        bump_inputs = Signal()  # bumping FF_PRE for the inputs, else the neurons' traces
        idx = Signal(range(max(n_max, k_max)))

        def bumped(mat, side, x):
            rule = rules[mat]
            bump = rule.bump_pre if side == PRE else rule.bump_post
            replace = rule.flags[1] | rule.flags[3]  # window, or pair "nearest"
            total = x + bump
            return Mux(replace, bump, Mux(total > spec.trace_max, spec.trace_max, total))

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [resetting.eq(self.reset), e.eq(0), which.eq(0)]
                    m.next = "DECAY"
            with m.State("DECAY"):
                for rd, _ in traces.values():
                    m.d.comb += rd.addr.eq(e)
                limit = Mux(
                    which == 0,
                    Mux(resetting, k_max, self.n_inputs),
                    Mux(resetting, n_max, self.n_neurons),
                )
                with m.If((e == limit) | ~(resetting | enabled(which[1]))):
                    m.d.sync += [which.eq(which + 1), e.eq(0)]
                    with m.If(which == 3):
                        m.d.sync += [job.eq(0), s.eq(0)]
                        m.next = "DECAY_DRAIN"
                with m.Else():
                    m.d.sync += [decay_valid.eq(1), tsel.eq(which), e_d.eq(e), e.eq(e + 1)]
            with m.State("DECAY_DRAIN"):
                with m.If(resetting):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.next = "FETCH"
            with m.State("FETCH"):
                with m.If(~enabled(mat) | (s == count)):
                    m.d.sync += [s.eq(0), job.eq(job + 1)]
                    m.next = "JOB_DRAIN"
                with m.Else():
                    m.next = "LINE"
            with m.State("LINE"):
                # read the enable bits of the row (LTD) or column (LTP)
                m.d.comb += self.enable_rd.addr.eq(listed)
                m.d.sync += line.eq(listed)
                m.next = "CHECK"
            with m.State("CHECK"):
                own = enable_bits[Cat(ltp, mat)]
                size = Mux(ltp & (mat == FF), self.n_inputs, self.n_neurons)
                m.d.sync += [
                    pos.eq(0),
                    length.eq(size),
                    addr.eq(Mux(ltp, line, line * n_max)),
                    stride.eq(Mux(ltp, n_max, 1)),
                ]
                with m.If(own & (size != 0)):
                    m.next = "WALK"
                with m.Else():
                    m.d.sync += s.eq(s + 1)
                    m.next = "FETCH"
            with m.State("WALK"):
                for rd, _ in weights:
                    m.d.comb += rd.addr.eq(addr)
                for (mt, sd), (rd, _) in traces.items():
                    with m.If((mat == mt) & (ltp != sd)):
                        m.d.comb += rd.addr.eq(pos)
                m.d.comb += self.enable_rd.addr.eq(pos)  # and the partner's enable bits
                # a read every other cycle: the cycles between are the write-backs'
                with m.If(~gap):
                    m.d.sync += [
                        v1.eq(1),
                        tsel.eq(Cat(~ltp, mat)),
                        a1.eq(addr),
                        addr.eq(addr + stride),
                        pos.eq(pos + 1),
                        gap.eq(1),
                    ]
                    with m.If(pos + 1 == length):
                        m.d.sync += [s.eq(s + 1), gap.eq(0)]
                        m.next = "FETCH"
                with m.Else():
                    m.d.sync += gap.eq(0)
            with m.State("JOB_DRAIN"):
                # two cycles: the last walk's writes land before the next job reads
                with m.If(job == 0):
                    m.d.sync += [s.eq(0), bump_inputs.eq(1)]
                    m.next = "BUMP_FETCH"
                with m.Else():
                    m.next = "FETCH"
            with m.State("BUMP_FETCH"):
                with m.If(s == Mux(bump_inputs, self.input_count, self.spike_count)):
                    m.d.sync += s.eq(0)
                    with m.If(bump_inputs):
                        m.d.sync += bump_inputs.eq(0)
                    with m.Else():
                        m.d.sync += self.done.eq(1)
                        m.next = "IDLE"
                with m.Else():
                    m.next = "BUMP_READ"
            with m.State("BUMP_READ"):
                bump_list = Mux(bump_inputs, self.inputs_rd.data, self.spikes_rd.data)
                for rd, _ in traces.values():
                    m.d.comb += rd.addr.eq(bump_list)
                m.d.sync += idx.eq(bump_list)
                m.next = "BUMP_WRITE"
            with m.State("BUMP_WRITE"):
                for (mt, sd), (rd, wr) in traces.items():
                    is_input_trace = (mt, sd) == (FF, PRE)
                    with m.If(enabled(mt) & (bump_inputs if is_input_trace else ~bump_inputs)):
                        m.d.comb += [
                            wr.addr.eq(idx),
                            wr.en.eq(1),
                            wr.data.eq(bumped(mt, sd, rd.data)),
                        ]
                m.d.sync += s.eq(s + 1)
                m.next = "BUMP_FETCH"
        return m
