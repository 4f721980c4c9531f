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

A walk reads a weight at ``t``; it is written back, clipped to ``[w_min, w_max]``, at
``t + 3`` (stage 1 forms ``A * trace``, stage 2 the rounding, the multiplicative factor and
the bound, stage 3 holds the write). The weight memories are single-port banks
(:class:`hdl.weight_memory.WeightMemory`: SPRAM on the iCE40 UP): when ``max_neurons`` is a
power of two, a matrix is two checkerboard banks (row parity xor column parity), so the
write at ``t + 3`` and the read of the synapse 3 positions further along the row or column
fall in different banks and a walk reads a weight every cycle (one synapse per cycle);
otherwise (one bank) a walk reads every other cycle (``t`` even, writes at odd cycles: 2
cycles per synapse). No read meets a write of its own bank, and no read data is used in
the cycle after its bank was written.

Two lanes (``pairs``: an engine of one matrix, on block RAM) walk two synapses a cycle:
positions ``2p`` and ``2p + 1`` sit in the two banks, both read at ``t`` through each
bank's own ports and both written at ``t + 3`` while the pair three further is read (each
bank read and written in one cycle, at other words); the odd position has its own stage 1
and 2 (a second ``A * trace`` and weight-distance product) and its partner trace and
enable bit come from copies of those memories.

Multipliers: the decays and ``A * trace`` share one registered ``trace_bits x
max(coef_bits, stdp_amp_bits)`` product (they never run in the same cycle; ``tsel`` picks
the trace memory and the rule it reads; on the iCE40 the register is the SB_MAC16's
output register): a decay reads an element at ``t`` and writes it at ``t + 2``, and a
window rule's decay ``max(x - 1, 0)`` is the same product with the factor ``2^C - 1``
(exact for ``x < 2^C``), its walk's step ``A`` the product ``1 * A``. The multiplicative
rule's ``A * trace * dist`` is a second product (two SB_MAC16). A weight step is compared
with the room to its bound (``w_max - w``, ``w - w_min``) in ``weight_bits + 1`` bits, not
added at full width and clipped.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .memories import enable_layout, read_port, rule_layout, step_lists, write_port
from .stdp_arith import bumped_trace, trace_factor, weight_step, window_by_product
from .weight_memory import banked

FF, REC = 0, 1
PRE, POST = 0, 1


class LearningEngine(wiring.Component):
    """STDP for one step, or (``reset`` high at ``start``) clearing every trace.

    ``rules`` holds the two rule slots (FF, REC); a slot whose flag bit 0 is clear leaves
    its matrix and traces untouched. Spike lists as in :class:`hdl.synapse_engine.SynapseEngine`.
    ``mats``: the matrices this engine learns (both, or one: a core of two lanes runs an FF
    engine and a REC engine side by side); it has the weight and trace ports of those only,
    and its pass skips the jobs, decays and bumps of the other (see ``hdl.timing``).

    ``pairs`` (an engine of one matrix, two weight banks: two lanes) walks two synapses a
    cycle, positions ``2p`` and ``2p + 1`` of the row or column, one in each checkerboard
    bank: it has each bank's read and write ports (``ff0_rd``, ``ff1_wr``, ...: addresses
    inside the bank, :class:`hdl.weight_memory.WeightMemory` ``walk``), reads the partner
    traces and enable bits of the odd positions from copies of those memories
    (``*_odd_rd``, ``enable_odd_rd``: the core writes them as the originals) and has two
    update datapaths.
    """

    def __init__(self, spec: CoreSpec, mats: tuple[int, ...] = (FF, REC), *, pairs: bool = False):
        self.spec = spec
        self.mats = tuple(mats)
        if pairs and (len(self.mats) != 1 or not banked(spec.max_neurons)):
            raise ValueError("walks of two synapses a cycle need an engine of one matrix and two banks")
        self.pairs = pairs
        n, k = spec.max_neurons, spec.max_inputs
        self.rule = rule_layout(spec)
        members = {
            "start": In(1),
            "reset": In(1),
            # the walks may begin (the weights are propagated): the decay runs before it
            "go": In(1, init=1),
            "done": Out(1),
            "rules": In(data.ArrayLayout(self.rule, 2)),
            **step_lists(spec),
            # the enable bits, one lane per trace memory (TraceKind order): lane ``mat * 2 + side``
            "enable_rd": read_port(max(n, k), enable_layout().size),
        }
        for mat, name, rows in ((FF, "ff", k), (REC, "rec", n)):
            if mat in self.mats and pairs:  # each bank's ports
                for b in range(2):
                    members[f"{name}{b}_rd"] = read_port(rows * n // 2, spec.weight_bits)
                    members[f"{name}{b}_wr"] = write_port(rows * n // 2, spec.weight_bits)
            elif mat in self.mats:
                members[f"{name}_rd"] = read_port(rows * n, spec.weight_bits)
                members[f"{name}_wr"] = write_port(rows * n, spec.weight_bits)
        for name, depth in self.trace_depths().items():
            members[f"{name}_rd"] = read_port(depth, spec.trace_bits)
            members[f"{name}_wr"] = write_port(depth, spec.trace_bits)
            if pairs:  # the odd positions' partner traces
                members[f"{name}_odd_rd"] = read_port(depth, spec.trace_bits)
        if pairs:
            members["enable_odd_rd"] = read_port(max(n, k), enable_layout().size)
        super().__init__(members)

    def trace_depths(self) -> dict[str, int]:
        """This engine's trace memories in ``TraceKind`` order and their depths."""
        n, k = self.spec.max_neurons, self.spec.max_inputs
        depths = {"ff_pre": k, "ff_post": n, "rec_pre": n, "rec_post": n}
        return {name: d for i, (name, d) in enumerate(depths.items()) if i >> 1 in self.mats}

    def elaborate(self, platform):
        spec = self.spec
        n_max, k_max = spec.max_neurons, spec.max_inputs
        lines = max(n_max, k_max)
        C, W = spec.coef_bits, spec.weight_bits
        m = Module()
        rules = self.rules
        one_per_cycle = banked(n_max)  # two weight banks: a walk reads every cycle
        both = len(self.mats) == 2
        # (matrix, side) -> (read port, write port), in TraceKind order: this engine's
        names = ("ff_pre", "ff_post", "rec_pre", "rec_post")
        traces = {
            (i >> 1, i & 1): (getattr(self, f"{name}_rd"), getattr(self, f"{name}_wr"))
            for i, name in enumerate(names)
            if i >> 1 in self.mats
        }
        pairs = self.pairs
        if pairs:  # (read ports, write ports) of the two banks
            mname = ("ff", "rec")[self.mats[0]]
            bank_ports = [
                (getattr(self, f"{mname}{b}_rd"), getattr(self, f"{mname}{b}_wr")) for b in range(2)
            ]
            weights = {}
        else:
            weights = {
                mt: (getattr(self, f"{name}_rd"), getattr(self, f"{name}_wr"))
                for mt, name in ((FF, "ff"), (REC, "rec"))
                if mt in self.mats
            }
        en = enable_layout()  # enable bit i in bit 0 of lane i
        enable_bits = Array(self.enable_rd.data[i * en.lane] for i in range(en.lanes))
        if pairs:
            enable_odd_bits = Array(self.enable_odd_rd.data[i * en.lane] for i in range(en.lanes))

        def enabled(mat):
            if both:
                return rules[mat].flags[0]
            return rules[self.mats[0]].flags[0] & (mat == self.mats[0])

        def weight_addr(row, col):
            """The word of synapse ``(row, col)``: wiring when ``n_max`` is a power of two."""
            if n_max & (n_max - 1) == 0:
                return Cat(col[: n_max.bit_length() - 1], row)
            return row * n_max + col

        def bank_addr(ltp, pos, b):
            """Pairs: the address inside bank ``b`` of the position of pair ``pos`` (even) that
            lies in it, along row ``line`` (LTD: ``Cat(pos[1:L], line)``, the same in both banks)
            or column ``line`` (LTP: row ``2p + (b ^ line[0])``, ``Cat(line[1:L], that row)``)."""
            L = n_max.bit_length() - 1
            return Mux(ltp, Cat(line[1:L], b ^ line[0], pos[1:]), Cat(pos[1:L], line))

        resetting = Signal()
        m.d.sync += self.done.eq(0)

        # -- the element counter, the spike lists ------------------------------------------
        # ``e``: the element a decay reads, or the position along a walk (the partner trace
        # read beside each weight); the traces are read at ``e`` but while bumping
        e = Signal(range(lines + 1))
        job = Signal(range(4))  # (matrix, ltp) = (job & 1, job >> 1); bumps: 0 inputs, 1 neurons
        mat, ltp = job[0], job[1]
        from_inputs = (mat == FF) & ~ltp  # the input spikes (FF depression, input bumps)
        count = Mux(from_inputs, self.input_count, self.spike_count)
        s = Signal(range(lines + 1))
        m.d.comb += [
            self.spikes_rd.addr.eq(s),
            self.inputs_rd.addr.eq(Mux(self.input_bank, k_max, 0) + s),
        ]
        listed = Mux(from_inputs, self.inputs_rd.data, self.spikes_rd.data)
        bumping = Signal()  # in the bump states: the traces are read at ``listed``
        for rd, _ in traces.values():
            m.d.comb += rd.addr.eq(Mux(bumping, listed, e))
        odd_reads = []  # pairs: the odd positions' partner traces (copies), TraceKind order
        if self.pairs:
            zero = read_port(1, spec.trace_bits).signature.create()
            for name in ("ff_pre", "ff_post", "rec_pre", "rec_post"):
                odd_reads.append(getattr(self, f"{name}_odd_rd", zero))
            for rd in {id(r): r for r in odd_reads if r is not zero}.values():
                m.d.comb += [rd.addr.eq(Cat(Const(1, 1), e[1:])), rd.en.eq(0)]  # enabled in WALK
            m.d.comb += [self.enable_odd_rd.addr.eq(Cat(Const(1, 1), e[1:])), self.enable_odd_rd.en.eq(0)]
            for rd, _ in bank_ports:
                m.d.comb += rd.en.eq(0)

        # -- the shared multiplier: trace decays and the amplitude product ------------------
        # ``tsel`` picks the trace memory whose read data it takes (TraceKind order: the
        # memory being decayed, or the partner trace of a walk: ``mat * 2 + ~ltp``) and the
        # rule of its matrix; ``decay_valid`` (decay) or ``v1`` (walk) says which factor.
        # ``product`` is registered (the SB_MAC16's output register, which yosys takes only
        # without a reset): it holds a walk's ``A * trace`` for its stage 2 and gives a
        # decayed trace the cycle after.
        tsel = Signal(2)
        decay_valid = Signal()  # the read data is a trace to decay
        v1 = Signal()  # the read data is a walk's weight and partner trace
        v1_odd = Signal() if self.pairs else None  # pairs: and the odd position's
        which = Signal(2)  # trace memory being decayed
        m.d.sync += [decay_valid.eq(0), v1.eq(0)]
        if self.pairs:
            m.d.sync += v1_odd.eq(0)
        read = Array(
            traces[mt, sd][0].data if (mt, sd) in traces else Const(0, spec.trace_bits)
            for mt in (FF, REC)
            for sd in (PRE, POST)
        )
        selected = Signal(spec.trace_bits)
        m.d.comb += selected.eq(read[tsel])
        rule_sel = rules[tsel[1]]
        window_sel = rule_sel.flags[1]
        # (a post partner trace: LTD's amplitude)
        factor = trace_factor(m, spec, rule_sel, decaying=decay_valid, resetting=resetting, post=tsel[0])
        by_product = window_by_product(spec)
        # a window rule's walk takes ``A`` alone (1 * A): its trace only says whether to act
        multiplicand = Mux(~decay_valid & window_sel, 1, selected)
        product = Signal(unsigned(factor.shape().width + spec.trace_bits), reset_less=True)
        with m.If(decay_valid | v1):
            m.d.sync += product.eq(multiplicand * factor)

        # -- a. decay (or clear) every trace: the four memories one after another ----------
        # read at t, product at t + 1, written at t + 2 (``e_w``: the writes of a memory are
        # consecutive cycles and the memory switch leaves a cycle without one, which resets it)
        decay_write, tsel2 = Signal(), Signal(2)
        e_w = Signal(range(lines))
        m.d.sync += [
            decay_write.eq(decay_valid),
            tsel2.eq(tsel),
            e_w.eq(Mux(decay_write, e_w + 1, 0)),
        ]
        decayed = product >> C
        if not by_product:
            x2 = Signal(spec.trace_bits)
            with m.If(decay_valid):
                m.d.sync += x2.eq(selected)
            decayed = Mux(rules[tsel2[1]].flags[1] & ~resetting, Mux(x2 > 0, x2 - 1, 0), decayed)
        # one write bus for the four trace memories: a decay, or a bump (d. below); only the
        # memory being written has its enable
        bump_write = Signal()
        bumped = Signal(spec.trace_bits)
        for (mt, sd), (_, wr) in traces.items():
            i = mt * 2 + sd
            m.d.comb += [
                wr.addr.eq(Mux(bump_write, listed, e_w)),
                wr.data.eq(Mux(bump_write, bumped, decayed)),
                wr.en.eq((decay_write & (tsel2 == i)) | (bump_write & (tsel == i))),
            ]

        # -- b, c. depression and potentiation walks ---------------------------------------
        line = Signal(range(lines))  # the row (LTD) or column (LTP) being walked
        size = Mux(ltp & (mat == FF), self.n_inputs, self.n_neurons)  # its length
        gap = Signal()  # one bank: the cycle after a read (no read issued)

        # pipeline: a read at t, stage 1 at t + 1 has the weight and the partner's trace and
        # forms A * trace, stage 2 at t + 2 the new weight, registered for its write at t + 3:
        # three positions (odd) after the read, so in the other bank of a checkerboard (one
        # bank: reads at even and writes at odd cycles of a walk)
        v2 = Signal()
        p1 = Signal(range(lines))  # stage 1's position along the walk (pairs: the even one)
        partner = selected  # the trace across the synapse: y_j (LTD) or x_k (LTP)
        partner_on = enable_bits[tsel]  # and its enable bit
        m1, ltp1 = tsel[1], ~tsel[0]  # stage 1's matrix and kind: from the partner's memory
        m2, ltp2 = Signal(), Signal(name="ltp2")
        p2 = Signal(range(lines))  # stage 2's position along the walk
        m.d.sync += v2.eq(v1 & partner_on)
        w1 = Signal(signed(W))
        if both:
            m.d.comb += w1.eq(Mux(m1, self.rec_rd.data, self.ff_rd.data))
        elif pairs:  # the even position is in bank ``line[0]`` (row parity xor column parity)
            m.d.comb += w1.eq(Mux(line[0], bank_ports[1][0].data, bank_ports[0][0].data))
        else:
            m.d.comb += w1.eq(weights[self.mats[0]][0].data)
        w2 = Signal.like(w1)
        seen2 = Signal()  # partner trace > 0 (the window rule's condition)
        with m.If(v1):
            m.d.sync += [
                m2.eq(m1),
                ltp2.eq(ltp1),
                p2.eq(p1),
                w2.eq(w1),
                seen2.eq(partner != 0),  # not a compare's carry chain
            ]
        rule2 = rules[m2]

        def update(w2, product, seen2, v2, tag=""):
            """Stage 2 of one synapse: the new weight and whether to write it."""
            return weight_step(m, spec, rule2, ltp2, w2, product, seen2, v2, tag)

        updated, writes = update(w2, product, seen2, v2)
        # stage 3: the write, registered (its address, data and matrix)
        if pairs:
            # the odd position: its weight from the other bank, its partner trace and enable
            # bit from the copies, its own product ``A * trace`` (a second multiplier) and
            # stage 2; ``v1_odd``: the odd position is in the walk (an odd length ends without)
            selected_odd = Signal(spec.trace_bits)
            m.d.comb += selected_odd.eq(Array(rd.data for rd in odd_reads)[tsel])
            w1_odd, w2_odd = Signal(signed(W)), Signal(signed(W))
            m.d.comb += w1_odd.eq(Mux(line[0], bank_ports[0][0].data, bank_ports[1][0].data))
            product_odd = Signal.like(product, reset_less=True)
            seen2_odd, v2_odd = Signal(), Signal()
            m.d.sync += v2_odd.eq(v1_odd & enable_odd_bits[tsel])
            with m.If(v1):
                m.d.sync += [
                    w2_odd.eq(w1_odd),
                    seen2_odd.eq(selected_odd != 0),
                    product_odd.eq(Mux(window_sel, 1, selected_odd) * factor),
                ]
            updated_odd, writes_odd = update(w2_odd, product_odd, seen2_odd, v2_odd, "_odd")
            # bank b holds the even position when b == line[0]: its address, data, enable
            for b, (_, wr) in enumerate(bank_ports):
                even = line[0] == b
                addr3, data3, write3 = Signal.like(wr.addr), Signal(W), Signal()
                m.d.sync += [
                    addr3.eq(bank_addr(ltp2, p2, b)),
                    data3.eq(Mux(even, updated, updated_odd)),
                    write3.eq(Mux(even, writes, writes_odd)),
                ]
                m.d.comb += [wr.addr.eq(addr3), wr.data.eq(data3), wr.en.eq(write3)]
        else:
            write3, m3 = Signal(), Signal()
            addr3 = Signal(max(len(wr.addr) for _, wr in weights.values()))
            data3 = Signal(W)
            m.d.sync += [
                write3.eq(writes),
                m3.eq(m2),
                addr3.eq(Mux(ltp2, weight_addr(p2, line), weight_addr(line, p2))),
                data3.eq(updated),
            ]
            for mt, (_, wr) in weights.items():
                m.d.comb += [
                    wr.addr.eq(addr3),
                    wr.data.eq(data3),
                    wr.en.eq(write3 & (m3 == mt) if both else write3),
                ]
        # -- d. bumps: one trace per cycle (``tsel``: its memory, read data and rule) ----------
        m.d.comb += bumped.eq(bumped_trace(spec, rule_sel, tsel[0], selected))

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [resetting.eq(self.reset), e.eq(0), which.eq(0)]
                    m.next = "DECAY"
            with m.State("DECAY"):
                limit = Mux(
                    which == 0,
                    Mux(resetting, k_max, self.n_inputs),
                    Mux(resetting, n_max, self.n_neurons),
                )
                skip = ~(resetting | enabled(which[1]))
                if not both:  # another engine's memories
                    skip |= which[1] != self.mats[0]
                with m.If((e == limit) | skip):
                    m.d.sync += [which.eq(which + 1), e.eq(0)]
                    with m.If(which == 3):
                        m.d.sync += [job.eq(0), s.eq(0)]
                        m.next = "DECAY_DRAIN"
                with m.Else():
                    m.d.sync += [decay_valid.eq(1), tsel.eq(which), e.eq(e + 1)]
            with m.State("DECAY_DRAIN"):
                # the last decayed trace is written in this cycle; in a step the decay ran
                # during the neuron and synapse phases: the walks wait here for their end
                with m.If(resetting):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"
                with m.Elif(self.go):
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
                m.next = "CHECK"
            with m.State("CHECK"):
                # ``line`` changes here, after the last write of the walk before (t + 3)
                own = enable_bits[Cat(ltp, mat)]
                m.d.sync += [e.eq(0), line.eq(listed)]
                with m.If(own & (size != 0)):
                    m.next = "WALK"
                with m.Else():
                    m.d.sync += s.eq(s + 1)
                    m.next = "FETCH"
            if not self.pairs:  # one synapse a cycle (two banks) or every other cycle (one)
                with m.State("WALK"):
                    for rd, _ in weights.values():
                        m.d.comb += rd.addr.eq(Mux(ltp, weight_addr(e, line), weight_addr(line, e)))
                    m.d.comb += self.enable_rd.addr.eq(e)  # the partners' enable bits
                    # a read every cycle (two banks) or every other cycle (one bank: the cycles
                    # between are the write-backs')
                    with m.If(~gap):
                        m.d.sync += [v1.eq(1), tsel.eq(Cat(~ltp, mat)), p1.eq(e), e.eq(e + 1)]
                        if not one_per_cycle:
                            m.d.sync += gap.eq(1)
                        with m.If(e + 1 == size):
                            m.d.sync += [s.eq(s + 1), gap.eq(0)]
                            m.next = "FETCH"
                    with m.Else():
                        m.d.sync += gap.eq(0)
            else:  # pairs
                with m.State("WALK"):
                    # two positions a cycle, ``e`` (even) and ``e + 1`` (one in each bank), the
                    # second unless the walk ends at ``e``; written back three cycles later
                    odd_in = e + 1 != size
                    for b, (rd, _) in enumerate(bank_ports):
                        m.d.comb += [rd.addr.eq(bank_addr(ltp, e, b)), rd.en.eq((line[0] == b) | odd_in)]
                    for rd in {id(r): r for r in odd_reads if r is not zero}.values():
                        m.d.comb += rd.en.eq(odd_in)
                    m.d.comb += [self.enable_rd.addr.eq(e), self.enable_odd_rd.en.eq(odd_in)]
                    m.d.sync += [
                        v1.eq(1),
                        v1_odd.eq(odd_in),
                        tsel.eq(Cat(~ltp, mat)),
                        p1.eq(e),
                        e.eq(e + 2),
                    ]
                    with m.If(~odd_in | (e + 2 == size)):
                        m.d.sync += s.eq(s + 1)
                        m.next = "FETCH"
            with m.State("JOB_DRAIN"):
                # two cycles: the last walk's writes land before the next job reads
                with m.If(job == 0):
                    m.d.sync += s.eq(0)  # job 0: the input spikes' bumps first
                    if FF not in self.mats:
                        m.d.sync += job.eq(1)  # (they bump FF_PRE only: a REC engine skips them)
                    m.next = "BUMP_FETCH"
                with m.Else():
                    m.next = "FETCH"
            with m.State("BUMP_FETCH"):
                m.d.comb += bumping.eq(1)
                with m.If(s == count):
                    m.d.sync += s.eq(0)
                    with m.If(job == 0):
                        m.d.sync += job.eq(1)  # then the neurons'
                    with m.Else():
                        m.d.sync += self.done.eq(1)
                        m.next = "IDLE"
                with m.Else():
                    m.next = "BUMP_READ"
            with m.State("BUMP_READ"):
                m.d.comb += bumping.eq(1)  # the traces of ``listed``
                # an input bumps its FF_PRE trace; a neuron FF_POST, REC_PRE, REC_POST in turn
                # (an engine of one matrix: that matrix's traces only)
                m.d.sync += tsel.eq(Mux(from_inputs, 0, 1 if FF in self.mats else 2))
                m.next = "BUMP_WRITE"
            with m.State("BUMP_WRITE"):
                # ``listed`` still names the element (``s`` moves on after its last trace); the
                # read data of trace ``tsel`` comes from reads before any write of it
                m.d.comb += [bumping.eq(1), bump_write.eq(enabled(tsel[1]))]
                with m.If(from_inputs | (tsel == (3 if REC in self.mats else 1))):
                    m.d.sync += s.eq(s + 1)
                    m.next = "BUMP_FETCH"
                with m.Else():
                    m.d.sync += tsel.eq(tsel + 1)
        return m
