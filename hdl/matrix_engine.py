"""The wide core's matrix engine: phases 4 and 5 of docs/core-arithmetic.md for one matrix.

A core of ``P = CoreSpec.lanes`` (4, 8 or 16) lanes has one engine per weight matrix (FF:
the input spikes' rows, REC: the neurons'), each walking ``P`` synapses a cycle through the
matrix's ``P`` skewed banks (:class:`hdl.skewed_memory.SkewedWeights`). One pass:

a. decay its matrix's traces (``P`` elements a cycle through the lanes' multipliers; the
   post traces first, then the pre traces; a rule that is off skips them);
b. walk the row of every presynaptic spike (FF: the input spikes, REC: the neuron spikes,
   once ``rows_go``): each weight read is added to its target's accumulator (propagation:
   the weights before this step's learning) and, on a plastic row, depressed against the
   post trace of its column and written back: **one read serves propagation and
   depression**;
c. walk the column of every spiking neuron (once ``cols_go``; plastic columns only),
   potentiating against the pre trace of each row;
d. bump the traces of the elements that spiked (an input's pre trace, a neuron's post
   trace (FF) or both (REC)), one element in 3 cycles.

Rows come before columns, so a synapse whose pre and post both spiked is depressed, then
potentiated, each from the decayed traces of earlier steps only, as the document orders.

A walk reads chunk ``t`` (``P`` synapses: a word of every bank, a word of the partner trace
and enable memories, which hold ``P`` elements a word, and of the accumulators) at ``t``;
stage 1 (``t + 1``) rotates the banks' words into lanes, adds them to the accumulators
(written back at once: the next chunk is another word) and forms each lane's ``A * trace``;
stage 2 the weight's step (the multiplicative rule's second product), stage 3 the bounded
weight; stage 4 (``t + 4``) writes it back, rotated into the banks, while the chunk four
further is read: each bank is read and written in one cycle at other words.
A decay reads a word at ``t`` and writes it at ``t + 2``.

Each lane has the two products of a learning datapath (``A * trace`` or ``trace * decay``,
and the multiplicative rule's ``* (distance to the bound)``): ``2 P`` multipliers an engine.
Cycles: :func:`hdl.timing.matrix_cycles`.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .memories import addr_width, read_port, rule_layout, step_lists, write_port
from .skewed_memory import log2, to_banks, to_lanes
from .stdp_arith import bounded_weight, bumped_trace, trace_factor, weight_delta, window_by_product, writes

FF, REC = 0, 1


class MatrixEngine(wiring.Component):
    """Propagation and STDP of one matrix (``FF`` or ``REC``) of a wide core.

    ``start`` runs a step's pass (``reset`` high: clears the traces instead and stops);
    ``done`` pulses at its end. ``rows_go`` / ``cols_go``: the row / column walks may begin
    (the REC rows and the FF columns need the neuron spikes). Lists as in
    :class:`hdl.synapse_engine.SynapseEngine`. Ports: ``w{b}_rd``/``w{b}_wr`` the banks';
    ``acc_*`` a chunk's accumulator word (``P`` neurons a word) and weights, which the core
    adds to this engine's own accumulators (:func:`hdl.synapse_engine.add_weights`); with
    ``spec.stdp``: ``pre_*``/``post_*`` the trace memories and
    ``pre_en_rd``/``post_en_rd`` the row / column enable bits, ``P`` elements a word.
    """

    def __init__(self, spec: CoreSpec, mat: int):
        P = spec.lanes
        if P < 4:
            raise ValueError(f"a matrix engine has 4, 8 or 16 lanes, got {P}")
        n, k = spec.max_neurons, spec.max_inputs
        self.spec, self.mat = spec, mat
        self.rows = k if mat == FF else n
        T = spec.trace_bits
        members = {
            "start": In(1),
            "reset": In(1),
            "done": Out(1),
            "rows_go": In(1, init=1),
            "cols_go": In(1, init=1),
            "rule": In(rule_layout(spec)),
            **step_lists(spec, inputs=mat == FF),  # (the REC engine never reads the inputs)
            # propagation: the read of the accumulator word of a chunk (stage 0), then the
            # chunk's weights in lane order to add to it (stage 1, the core's adders)
            "acc_read_addr": Out(addr_width(n // P)),
            "acc_read": Out(1),
            "acc_add_addr": Out(addr_width(n // P)),
            "acc_add_weights": Out(P * spec.weight_bits),
            "acc_add_lanes": Out(P),
        }
        for b in range(P):
            members[f"w{b}_rd"] = read_port(self.rows * n // P, spec.weight_bits)
            members[f"w{b}_wr"] = write_port(self.rows * n // P, spec.weight_bits)
        if spec.stdp:
            for side, depth in (("pre", self.rows), ("post", n)):
                members[f"{side}_rd"] = read_port(depth // P, P * T)
                members[f"{side}_wr"] = write_port(depth // P, P * T, P)
                members[f"{side}_en_rd"] = read_port(depth // P, P)
        super().__init__(members)

    def elaborate(self, platform):
        spec, mat = self.spec, self.mat
        P, lp = spec.lanes, log2(spec.lanes)
        n_max, k_max, rows_max = spec.max_neurons, spec.max_inputs, self.rows
        W, T, C = spec.weight_bits, spec.trace_bits, spec.coef_bits
        ls = log2(n_max // P)  # a row is ``2^ls`` words of a bank
        learning = spec.stdp
        lines = max(rows_max, n_max)
        m = Module()
        rule = self.rule
        rule_on = rule.flags[0] if learning else Const(0)
        window = rule.flags[1]

        resetting = Signal()
        ltp = Signal()  # the job walks columns (potentiation), else rows
        s = Signal(range(lines + 1))  # position in the list
        t = Signal(range(lines // P + 1))  # chunk of the walk, word of the decay
        line = Signal(range(lines))  # the row or column walked
        plastic = Signal()  # its weights are updated
        from_inputs = Signal()  # the list is the input spikes (FF rows, FF_PRE bumps)
        post_side = Signal()  # decay: the post traces (else pre)
        m.d.sync += self.done.eq(0)

        m.d.comb += self.spikes_rd.addr.eq(s)
        if mat == FF:
            m.d.comb += self.inputs_rd.addr.eq(Mux(self.input_bank, k_max, 0) + s)
            listed = Mux(from_inputs, self.inputs_rd.data, self.spikes_rd.data)
            count = Mux(from_inputs, self.input_count, self.spike_count)
        else:
            listed = self.spikes_rd.data
            count = self.spike_count
        col_size = self.n_inputs if mat == FF else self.n_neurons  # rows in use
        size = Mux(ltp, col_size, self.n_neurons)  # the walk's length
        chunks = (size + (P - 1)) >> lp

        def lanes_in(span, t):
            """Which lanes of word ``t`` hold elements below ``span`` (only its last word is partial)."""
            last = t + 1 == (span + (P - 1)) >> lp
            rem = span[:lp]
            return Cat(Const(1, 1), *[~last | (rem == 0) | (rem > lane) for lane in range(1, P)])

        def bank_word(b, ltp, t, line=line):
            """The word of bank ``b`` in chunk ``t`` of row (``~ltp``) or column (``ltp``) ``line``."""
            row_word = Cat(t[:ls], line) if ls else line
            col_row = Cat((b - line[:lp])[:lp], t)  # the chunk's row in bank b
            col_word = Cat(line[lp : lp + ls], col_row) if ls else col_row
            return Mux(ltp, col_word, row_word)

        # -- stage 0: the reads of chunk ``t`` (WALK) or word ``t`` (DECAY) -----------------
        walking, decaying = Signal(), Signal()
        v1, d1, ltp1 = Signal(), Signal(), Signal()
        t1 = Signal.like(t)
        in1 = Signal(P)
        m.d.sync += [v1.eq(walking), d1.eq(decaying), ltp1.eq(ltp), t1.eq(t)]
        for b in range(P):
            rd = getattr(self, f"w{b}_rd")
            m.d.comb += [rd.addr.eq(bank_word(b, ltp, t)), rd.en.eq(walking)]
        m.d.comb += [self.acc_read_addr.eq(t), self.acc_read.eq(walking & ~ltp)]

        # -- stage 1: lanes, their weights to the accumulators, ``A * trace`` (or ``trace * decay``)
        lane_w = [w.as_signed() for w in to_lanes([getattr(self, f"w{b}_rd").data for b in range(P)], line)]
        m.d.comb += [
            self.acc_add_addr.eq(t1),
            self.acc_add_weights.eq(Cat(lane_w)),
            self.acc_add_lanes.eq(Mux(v1 & ~ltp1, in1, 0)),
        ]
        # learning: the trace memories (a walk reads its partners': rows the post traces,
        # columns the pre traces; a decay the memory it decays; a bump the element's), the
        # enable bits, the lanes' datapaths
        trace_addr = Signal(addr_width(lines // P))
        read_pre, read_post = Signal(), Signal()
        en_addr = Signal(addr_width(lines // P))
        bump_pre, bump_post = Signal(), Signal()
        post1 = Signal()
        if learning:
            pre_rd, post_rd, pre_wr, post_wr = self.pre_rd, self.post_rd, self.pre_wr, self.post_wr
            for rd, en in ((pre_rd, read_pre), (post_rd, read_post)):
                m.d.comb += [rd.addr.eq(trace_addr), rd.en.eq(en)]
            m.d.sync += post1.eq(Mux(decaying, post_side, ~ltp))
            traces1 = Mux(post1, post_rd.data, pre_rd.data)
            # partner enables: rows read the column enables of the chunk, columns the row enables
            m.d.comb += [self.pre_en_rd.addr.eq(en_addr), self.post_en_rd.addr.eq(en_addr)]
            partner_on = Mux(ltp1, self.pre_en_rd.data, self.post_en_rd.data)

            factor = trace_factor(m, spec, rule, decaying=d1, resetting=resetting, post=post1)

            v2, d2, ltp2, post2 = Signal(), Signal(), Signal(), Signal()
            t2, in2 = Signal.like(t), Signal(P)
            m.d.sync += [v2.eq(v1), d2.eq(d1), ltp2.eq(ltp1), post2.eq(post1), t2.eq(t1), in2.eq(in1)]
            updated, lane_writes, decayed = [], [], []
            ltp3, t3 = Signal(), Signal.like(t)
            m.d.sync += [ltp3.eq(ltp2), t3.eq(t2)]
            for lane in range(P):
                trace = traces1[lane * T : (lane + 1) * T]
                # a window rule's walk takes ``A`` alone (1 * A): its trace only says whether to act
                product = Signal(unsigned(len(factor) + T), name=f"product{lane}", reset_less=True)
                w2 = Signal(signed(W), name=f"w2_{lane}")
                seen2, on2 = Signal(name=f"seen2_{lane}"), Signal(name=f"on2_{lane}")
                with m.If(v1 | d1):
                    m.d.sync += product.eq(Mux(~d1 & window, 1, trace) * factor)
                m.d.sync += [
                    w2.eq(lane_w[lane]),
                    seen2.eq(trace != 0),  # not a compare's carry chain
                    on2.eq(v1 & plastic & partner_on[lane] & in1[lane]),
                ]
                # -- stage 2: the weight's step (registered), a decayed trace; stage 3: the
                # new weight (the multiplicative product and the bound in separate cycles)
                delta, dist = weight_delta(m, spec, rule, ltp2, w2, product, f"_{lane}")
                delta3, dist3 = (
                    Signal.like(delta, name=f"delta3_{lane}"),
                    Signal.like(dist, name=f"dist3_{lane}"),
                )
                w3 = Signal.like(w2, name=f"w3_{lane}")
                write3 = Signal(name=f"write3_{lane}")
                m.d.sync += [delta3.eq(delta), dist3.eq(dist), w3.eq(w2), write3.eq(writes(rule, seen2, on2))]
                updated.append(bounded_weight(spec, rule, ltp3, w3, delta3, dist3))
                lane_writes.append(write3)
                value = (product >> C)[:T]
                if not window_by_product(spec):
                    x2 = Signal(T, name=f"x2_{lane}")
                    with m.If(d1):
                        m.d.sync += x2.eq(trace)
                    value = Mux(window & ~resetting, Mux(x2 != 0, x2 - 1, 0), value)
                decayed.append(value)

            # -- stage 4: the write of the new weights, rotated into the banks -----------------
            # (``line`` changes in CHECK, three cycles after a walk's last read: the writes, four
            # after, take it two cycles late)
            data4 = [Signal(W, name=f"w4_{lane}") for lane in range(P)]
            write4 = Signal(P)
            ltp4, t4 = Signal(), Signal.like(t)
            line_d, line4 = Signal.like(line), Signal.like(line)
            m.d.sync += [
                write4.eq(Cat(lane_writes)),
                ltp4.eq(ltp3),
                t4.eq(t3),
                line_d.eq(line),
                line4.eq(line_d),
            ]
            m.d.sync += [d.eq(u) for d, u in zip(data4, updated, strict=True)]
            bank_data, bank_en = to_banks(data4, line4), to_banks(list(write4), line4)
            for b in range(P):
                wr = getattr(self, f"w{b}_wr")
                m.d.comb += [
                    wr.addr.eq(bank_word(b, ltp4, t4, line4)),
                    wr.data.eq(bank_data[b]),
                    wr.en.eq(bank_en[b]),
                ]

            # the trace writes: a decay's (stage 2) or a bump's (the FSM's ``bump_pre``/``bump_post``)
            element_lane = listed[:lp]
            one_lane = Cat(element_lane == lane for lane in range(P))
            for wr, rd, post, bump in ((pre_wr, pre_rd, 0, bump_pre), (post_wr, post_rd, 1, bump_post)):
                old = Array(rd.data[lane * T : (lane + 1) * T] for lane in range(P))[element_lane]
                with m.If(bump):
                    m.d.comb += [
                        wr.addr.eq(listed >> lp),
                        wr.data.eq(bumped_trace(spec, rule, Const(post, 1), old).replicate(P)),
                        wr.en.eq(one_lane),
                    ]
                with m.Else():
                    m.d.comb += [
                        wr.addr.eq(t2),
                        wr.data.eq(Cat(decayed)),
                        wr.en.eq(Mux(d2 & (post2 == post), in2, 0)),
                    ]

        walk_lanes = lanes_in(size, t)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [
                        resetting.eq(self.reset),
                        s.eq(0),
                        t.eq(0),
                        ltp.eq(0),
                        from_inputs.eq(mat == FF),
                    ]
                    if learning:
                        m.d.sync += post_side.eq(1)
                        m.next = "DECAY"
                    else:
                        m.next = "ROWS_WAIT"
            if learning:
                with m.State("DECAY"):
                    # the post traces, then the pre traces, ``P`` elements a read
                    span = Mux(
                        resetting,
                        Mux(post_side, spec.max_neurons, self.rows),
                        self.n_neurons if mat == REC else Mux(post_side, self.n_neurons, self.n_inputs),
                    )
                    words = (span + (P - 1)) >> lp
                    with m.If((~resetting & ~rule_on) | (t == words)):
                        m.d.sync += [t.eq(0), post_side.eq(0)]
                        with m.If(~post_side):
                            m.next = "DECAY_DRAIN"
                    with m.Else():
                        m.d.comb += [
                            decaying.eq(1),
                            trace_addr.eq(t),
                            read_pre.eq(~post_side),
                            read_post.eq(post_side),
                        ]
                        m.d.sync += [t.eq(t + 1), in1.eq(lanes_in(span, t))]
                with m.State("DECAY_DRAIN"):
                    # the last decayed word is written in this cycle
                    with m.If(resetting):
                        m.d.sync += self.done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "ROWS_WAIT"
            with m.State("ROWS_WAIT"):
                with m.If(self.rows_go):
                    m.next = "FETCH"
            with m.State("COLS_WAIT"):
                with m.If(self.cols_go):
                    m.next = "FETCH"
            with m.State("FETCH"):
                # the list read of entry ``s`` is issued (data next cycle)
                with m.If((s == count) | (ltp & ~rule_on)):
                    m.d.sync += s.eq(0)
                    if learning:
                        with m.If(~ltp & rule_on):
                            m.d.sync += [ltp.eq(1), from_inputs.eq(0)]
                            m.next = "COLS_WAIT"
                        with m.Elif(rule_on):
                            m.d.sync += from_inputs.eq(mat == FF)
                            m.next = "BUMP_FETCH"
                        with m.Else():
                            m.next = "DONE"
                    else:
                        m.next = "DONE"
                with m.Else():
                    m.next = "LINE"
            with m.State("LINE"):
                # the line's own enable bit (row: its pre side's, column: its post side's)
                if learning:
                    m.d.comb += en_addr.eq(listed >> lp)
                m.next = "CHECK"
            with m.State("CHECK"):
                # ``line`` changes here, after the last write of the walk before (``t + 3``)
                m.d.sync += [line.eq(listed), t.eq(0)]
                skip = size == 0
                if learning:
                    own_word = Mux(ltp, self.post_en_rd.data, self.pre_en_rd.data)
                    own = Array(own_word)[listed[:lp]]
                    m.d.sync += plastic.eq(rule_on & own)
                    skip |= ltp & ~own  # a column is walked for learning only
                with m.If(skip):
                    m.d.sync += s.eq(s + 1)
                    m.next = "FETCH"
                with m.Else():
                    m.next = "WALK"
            with m.State("WALK"):
                m.d.comb += walking.eq(1)
                if learning:
                    m.d.comb += [
                        trace_addr.eq(t),
                        read_pre.eq(ltp),
                        read_post.eq(~ltp),
                        en_addr.eq(t),
                    ]
                m.d.sync += [t.eq(t + 1), in1.eq(walk_lanes)]
                with m.If(t + 1 == chunks):
                    m.d.sync += s.eq(s + 1)
                    m.next = "FETCH"
            if learning:
                bump_pre, bump_post = bump_pre, bump_post
                with m.State("BUMP_FETCH"):
                    with m.If(s == count):
                        m.d.sync += s.eq(0)
                        with m.If(from_inputs):
                            m.d.sync += from_inputs.eq(0)  # the input spikes', then the neurons'
                        with m.Else():
                            m.next = "DONE"
                    with m.Else():
                        m.next = "BUMP_READ"
                with m.State("BUMP_READ"):
                    m.d.comb += [trace_addr.eq(listed >> lp), read_pre.eq(1), read_post.eq(1)]
                    m.next = "BUMP_WRITE"
                with m.State("BUMP_WRITE"):
                    # an input bumps its pre trace; a neuron its post trace (FF) or both (REC)
                    pre = from_inputs if mat == FF else Const(1, 1)
                    m.d.comb += [bump_pre.eq(pre), bump_post.eq(~from_inputs)]
                    m.d.sync += s.eq(s + 1)
                    m.next = "BUMP_FETCH"
            with m.State("DONE"):
                m.d.sync += self.done.eq(1)
                m.next = "IDLE"
        return m
