"""The top of the core: memories, registers, engines and controller behind one command stream.

Every memory has one read and one write port (simple dual-port block RAM); the weight
matrices are single-ported (:class:`hdl.weight_memory.WeightMemory`: SPRAM on the iCE40
UP), so no block reads and writes a matrix in the same cycle. The controller's ``phase``
says which block drives them: the command path between steps, one engine at a time
during a step. See docs/core-hardware.md.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import WritePort
from amaranth.lib.wiring import In, Out

from firmware_host.memory_map import RULE_STRIDE, Control, Region, region_size
from snn.core_spec import CoreSpec
from snn.errors import NetworkError

from .block_memory import BlockMemory
from .commands import command_layout, response_layout
from .compare import below
from .controller import Controller, Phase
from .learning_engine import FF, REC, LearningEngine
from .matrix_engine import MatrixEngine
from .memories import (
    acc_layout,
    addr_width,
    enable_layout,
    neuron_groups,
    param_layout,
    read_port,
    rule_layout,
    state_layout,
    write_port,
)
from .neuron_engine import NeuronEngine
from .neuron_pipeline import PipelinedNeuronEngine
from .skewed_memory import SkewedWeights
from .synapse_engine import SynapseEngine, add_weights
from .weight_memory import WeightMemory, banked, is_ice40_up


def check_spec(spec: CoreSpec) -> None:
    """Refuse the CoreSpecs this core does not implement, with a one-line reason."""
    if spec.max_delay != 1:
        raise NetworkError(
            f"the hardware core implements delays of one step only (max_delay=1), got max_delay={spec.max_delay}"
        )
    if spec.lanes == 2 and not banked(spec.max_neurons):
        raise NetworkError(
            f"two lanes need a power-of-two max_neurons (two weight banks), got {spec.max_neurons}"
        )
    if spec.lanes > 2 and not (banked(spec.max_neurons) and spec.max_neurons >= spec.lanes):
        raise NetworkError(
            f"lanes={spec.lanes} needs a power-of-two max_neurons of at least {spec.lanes}, got {spec.max_neurons}"
        )
    if spec.lanes > 2 and spec.max_inputs % spec.lanes:
        raise NetworkError(
            f"lanes={spec.lanes} needs max_inputs in multiples of {spec.lanes}, got {spec.max_inputs}"
        )
    if spec.max_weight_shift >= 1 << 16 or max(spec.max_inputs, spec.max_neurons) >= 1 << 16:
        raise NetworkError("the control registers are 16 bits: max_inputs, max_neurons must be below 65536")


class Core(wiring.Component):
    """A NeuroCoreX-style core of the sizes and widths of ``spec``.

    ``cmd`` takes :mod:`hdl.commands` commands, ``resp`` gives their answers and the
    output spikes. One clock domain (``sync``).
    """

    def __init__(self, spec: CoreSpec):
        check_spec(spec)
        self.spec = spec
        super().__init__(
            {
                "cmd": In(stream.Signature(command_layout(spec))),
                "resp": Out(stream.Signature(response_layout(spec))),
            }
        )

    def elaborate(self, platform):
        spec = self.spec
        if spec.lanes == 2 and spec.stdp and is_ice40_up(platform):
            raise NetworkError(
                "lanes=2 walks two synapses a cycle in dual-port block RAM; the iCE40 UP's weights are"
                " single-port SPRAM: build with lanes=1 (--spec-json)"
            )
        wide = spec.lanes > 2
        if wide and is_ice40_up(platform):
            raise NetworkError(
                f"lanes={spec.lanes} keeps its weights in {spec.lanes} banks of block RAM; the iCE40 UP's"
                " weights are SPRAM: build with lanes=1 (--spec-json)"
            )
        n, k = spec.max_neurons, spec.max_inputs
        m = Module()
        ctrl = m.submodules.controller = Controller(spec)
        # the wide core's neuron engine takes a neuron a cycle (its accumulators P a word)
        neuron = m.submodules.neuron_engine = PipelinedNeuronEngine(spec) if wide else NeuronEngine(spec)
        # the wide core: one engine per matrix propagates and learns (no synapse and learning
        # engines); the FF engine walks the input rows from the step's start, the REC engine
        # the neuron rows once the spike list is complete (each into its own accumulators)
        mats = []
        if wide:
            mats = [MatrixEngine(spec, FF), MatrixEngine(spec, REC)]
            m.submodules.matrix_ff, m.submodules.matrix_rec = mats
            synapse = None
        else:
            synapse = m.submodules.synapse_engine = SynapseEngine(spec)
        # the learning engine; two lanes: one per matrix, side by side (each with its own
        # copy of the spike list and of the enable bits, the memories both would read)
        learns = []
        if spec.stdp and spec.lanes == 1:
            learns = [LearningEngine(spec)]
            m.submodules.learning_engine = learns[0]
        elif spec.stdp and spec.lanes == 2:
            # each walks two synapses a cycle (``pairs``: both banks of its matrix read and
            # written in a cycle, the partner traces and enable bits of odd positions from copies)
            learns = [LearningEngine(spec, (FF,), pairs=True), LearningEngine(spec, (REC,), pairs=True)]
            m.submodules.learning_ff = learns[0]
            m.submodules.learning_rec = learns[1]
        learn = learns[0] if learns else None
        wiring.connect(m, wiring.flipped(self.cmd), ctrl.cmd)
        wiring.connect(m, ctrl.resp, wiring.flipped(self.resp))

        # -- registers ---------------------------------------------------------------------
        weight_shift = Signal(range(spec.max_weight_shift + 1))
        n_inputs = Signal(range(k + 1))
        n_neurons = Signal(range(n + 1))
        rules = Signal(data.ArrayLayout(rule_layout(spec), 2))

        phase = ctrl.phase
        stepping = {p: phase == p for p in Phase}
        cmd_path = ~(
            stepping[Phase.NEURON] | stepping[Phase.SYNAPSE] | stepping[Phase.LEARN] | stepping[Phase.RESET]
        )

        # -- engines' inputs ----------------------------------------------------------------
        m.d.comb += [
            ctrl.n_inputs.eq(n_inputs),
            neuron.start.eq(ctrl.neuron_start),
            neuron.reset.eq(ctrl.reset),
            neuron.n_neurons.eq(n_neurons),
            neuron.weight_shift.eq(weight_shift),
            ctrl.neuron_done.eq(neuron.done),
            ctrl.spike_count.eq(neuron.spike_count),
        ]
        if synapse is not None:
            m.d.comb += [
                synapse.start.eq(ctrl.synapse_start),
                synapse.spikes_ready.eq(stepping[Phase.SYNAPSE]),
                ctrl.synapse_done.eq(synapse.done),
            ]
        for engine in [e for e in (synapse, *learns, *mats) if e is not None]:
            m.d.comb += [
                engine.n_neurons.eq(n_neurons),
                engine.spike_count.eq(neuron.spike_count),
                engine.input_count.eq(ctrl.input_count),
                engine.input_bank.eq(ctrl.input_bank),
            ]
        for engine in learns:
            m.d.comb += [
                engine.start.eq(ctrl.learn_start),
                engine.go.eq(stepping[Phase.LEARN]),
                engine.reset.eq(ctrl.reset),
                engine.rules.eq(rules),
                engine.n_inputs.eq(n_inputs),
            ]
        if wide:
            # a step (the controller's synapse strobe, at its start) or a reset (its learn
            # strobe) runs both matrix engines; done when both are (the first pulse is held)
            ff_engine, rec_engine = mats
            spikes_ready = stepping[Phase.SYNAPSE]  # the neuron engine is done
            for mat, engine in zip((FF, REC), mats, strict=True):
                m.d.comb += [
                    engine.start.eq(ctrl.synapse_start | ctrl.learn_start),
                    engine.reset.eq(ctrl.reset),
                    engine.n_inputs.eq(n_inputs),
                ]
                if spec.stdp:
                    m.d.comb += engine.rule.eq(rules[mat])
            m.d.comb += [ff_engine.cols_go.eq(spikes_ready), rec_engine.rows_go.eq(spikes_ready)]
            held = Signal(2)
            now = Cat(ff_engine.done, rec_engine.done) | held
            m.d.comb += [ctrl.synapse_done.eq(now.all()), ctrl.learn_done.eq(now.all())]
            m.d.sync += held.eq(Mux(now.all() | ctrl.synapse_start | ctrl.learn_start, 0, now))
        elif len(learns) == 1:
            m.d.comb += ctrl.learn_done.eq(learn.done)
        elif learns:
            # done when both engines are: the first one's pulse is held until the second's
            held = Signal(2)
            now = Cat(learns[0].done, learns[1].done) | held
            m.d.comb += ctrl.learn_done.eq(now.all())
            m.d.sync += held.eq(Mux(now.all() | ctrl.learn_start, 0, now))

        # -- the command path's decoding of (region, index) ------------------------------------
        region, index, wdata = ctrl.mem_region, ctrl.mem_index, ctrl.mem_wdata
        rows = max(k, n)

        # the controller holds (region, index, data) from the command until its access ends,
        # so the read data below is decoded from the same signals as the access
        def in_region(r):
            return (region == r) & below(index, region_size(spec, r))

        def split(stride, parts):
            """``(index // stride, index % stride)`` for ``index < parts * stride`` (no divider)."""
            if stride & (stride - 1) == 0:  # a power of two: bit fields
                shift = stride.bit_length() - 1
                return index[shift:][: max(1, (parts - 1).bit_length())], index[:shift]
            part = Signal(range(parts))
            for p in range(1, parts):
                with m.If(index >= p * stride):
                    m.d.comb += part.eq(p)
            return part, (index - part * stride)[: addr_width(stride) + 1]

        # memories: name -> (depth, width, lanes)
        params, state, acc = param_layout(spec), state_layout(spec), acc_layout(spec)
        groups = neuron_groups(spec)
        # where each parameter / state field lives: (record, field) -> (memory, lane, lane width)
        home = {}
        mems = {}
        for width, fields in groups.items():
            mems[f"neuron{width}"] = (n, width * len(fields), len(fields))
            for lane, key in enumerate(fields):
                home[key] = (f"neuron{width}", lane, width)
        P = spec.lanes  # two lanes: the accumulators of two neurons per word, in two sets
        if P == 1:
            mems["acc"] = (n, acc.size, 1)
        mems.update(
            {
                "spikes": (n, addr_width(n), 1),
                "inputs": (2 * k, addr_width(k), 1),
                "ff": (k * n, spec.weight_bits, 1),
                "rec": (n * n, spec.weight_bits, 1),
            }
        )
        # trace memory -> the engine that owns it
        trace_owner = {name: engine for engine in learns for name in engine.trace_depths()}
        trace_names = list(trace_owner)
        for name, engine in trace_owner.items():
            mems[name] = (engine.trace_depths()[name], spec.trace_bits, 1)
        lp = P.bit_length() - 1
        if wide:
            # the REC engine's copy of the spike list; the traces and the STDP enable bits of
            # each matrix side, ``P`` elements a word (``{name}_en``: the enables of that
            # trace's rows (pre) or columns (post)), one lane each
            mems["spikes2"] = (n, addr_width(n), 1)
            if spec.stdp:
                trace_names = ["ff_pre", "ff_post", "rec_pre", "rec_post"]
                for name, depth in zip(trace_names, (k, n, n, n), strict=True):
                    mems[name] = (depth // P, P * spec.trace_bits, P)
                    mems[f"{name}_en"] = (depth // P, P, P)
        if learn:
            # the STDP enable bits: one lane per trace memory (row enables of the pre traces'
            # matrix, column enables of the post traces'), written by the command path only;
            # two engines: a copy each
            en = enable_layout()
            mems["stdp_enable"] = (rows, en.size, en.lanes)
            if len(learns) == 2:
                mems["stdp_enable2"] = (rows, en.size, en.lanes)
                mems["spikes2"] = (n, addr_width(n), 1)

        # command path accesses: name -> (selected, lane); one address for all memories
        cmd_addr = Signal(max(addr_width(depth) for depth, _, _ in mems.values()))
        access = {
            "ff": (in_region(Region.FF_WEIGHT), 0),
            "rec": (in_region(Region.REC_WEIGHT), 0),
        }
        is_param, is_state = in_region(Region.NEURON_PARAM), in_region(Region.NEURON_STATE)
        for width, fields in groups.items():
            selected, lane = Signal(name=f"cmd_neuron{width}_sel"), Signal(range(len(fields)))
            for record, field_index, layout in (
                ("param", index[:4], params),
                ("state", index[:2], state),
            ):
                with m.If(is_param if record == "param" else is_state):
                    with m.Switch(field_index):
                        for i, (rec, fname) in enumerate(fields):
                            if rec == record:
                                with m.Case(layout.names.index(fname)):
                                    m.d.comb += [selected.eq(1), lane.eq(i)]
            access[f"neuron{width}"] = (selected, lane)
        with m.Switch(region):
            with m.Case(Region.NEURON_PARAM):
                m.d.comb += cmd_addr.eq(index >> 4)
            with m.Case(Region.NEURON_STATE):
                m.d.comb += cmd_addr.eq(index >> 2)
            with m.Default():
                m.d.comb += cmd_addr.eq(index)
        if learn:
            kind, element = split(rows, 4)
            row_mat, row = split(rows, 2)
            col_mat, col = split(n, 2)
            with m.Switch(region):
                with m.Case(Region.TRACE):
                    m.d.comb += cmd_addr.eq(element)
                with m.Case(Region.STDP_ROW_ENABLE):
                    m.d.comb += cmd_addr.eq(row)
                with m.Case(Region.STDP_COL_ENABLE):
                    m.d.comb += cmd_addr.eq(col)
            for i, name in enumerate(trace_names):
                access[name] = (in_region(Region.TRACE) & (kind == i) & below(element, mems[name][0]), 0)
            # row enables in the pre traces' lanes (0: FF, only its max_inputs rows; 2: REC),
            # column enables in the post traces' (1, 3)
            is_row = in_region(Region.STDP_ROW_ENABLE) & Mux(row_mat, below(row, n), below(row, k))
            enable_lane, rows_region = Signal(2), region == Region.STDP_ROW_ENABLE
            m.d.comb += enable_lane.eq(Cat(~rows_region, Mux(rows_region, row_mat, col_mat)))
            access["stdp_enable"] = (is_row | in_region(Region.STDP_COL_ENABLE), enable_lane)
            if len(learns) == 2:
                access["stdp_enable2"] = access["stdp_enable"]
        if wide and spec.stdp:
            # element ``e`` of a trace or enable memory: lane ``e % P`` of word ``e // P``
            kind, element = split(rows, 4)
            row_mat, row = split(rows, 2)
            col_mat, col = split(n, 2)
            with m.Switch(region):
                with m.Case(Region.TRACE):
                    m.d.comb += cmd_addr.eq(element >> lp)
                with m.Case(Region.STDP_ROW_ENABLE):
                    m.d.comb += cmd_addr.eq(row >> lp)
                with m.Case(Region.STDP_COL_ENABLE):
                    m.d.comb += cmd_addr.eq(col >> lp)
            for i, name in enumerate(trace_names):
                is_trace = in_region(Region.TRACE) & (kind == i) & below(element, mems[name][0] * P)
                access[name] = (is_trace, element[:lp])
            for mat, name, depth in ((FF, "ff_pre_en", k), (REC, "rec_pre_en", n)):
                is_row = in_region(Region.STDP_ROW_ENABLE) & (row_mat == mat) & below(row, depth)
                access[name] = (is_row, row[:lp])
            for mat, name in ((FF, "ff_post_en"), (REC, "rec_post_en")):
                access[name] = (in_region(Region.STDP_COL_ENABLE) & (col_mat == mat), col[:lp])

        # -- memories and who drives their ports ----------------------------------------------
        users = {name: {"rd": [], "wr": []} for name in mems}
        # the neuron engine reads its parameters and state at one address (state_rd's) and
        # writes all state fields at once: each width group serves its part of both records
        param_view, state_view = params(neuron.param_rd.data), state(neuron.state_rd.data)
        state_out = state(neuron.state_wr.data)
        for width, fields in groups.items():
            name = f"neuron{width}"
            eng_rd = read_port(n, mems[name][1]).signature.create()
            eng_wr = write_port(n, mems[name][1], len(fields)).signature.create()
            m.d.comb += [eng_rd.addr.eq(neuron.state_rd.addr), eng_wr.addr.eq(neuron.state_wr.addr)]
            for lane, (record, fname) in enumerate(fields):
                bits = slice(lane * width, (lane + 1) * width)
                view = param_view if record == "param" else state_view
                m.d.comb += getattr(view, fname).eq(eng_rd.data[bits])
                if record == "state":
                    m.d.comb += [
                        eng_wr.data[bits].eq(getattr(state_out, fname)),
                        eng_wr.en[lane].eq(neuron.state_wr.en[state.names.index(fname)]),
                    ]
                else:  # never written by the engine: the command's data, so no data mux
                    m.d.comb += eng_wr.data[bits].eq(wdata[:width])
            users[name]["rd"] = [(~cmd_path, eng_rd)]
            users[name]["wr"] = [(~cmd_path, eng_wr)]
        neuron_acc_rd, neuron_acc_wr = neuron.acc_rd, neuron.acc_wr
        if P == 2:
            # the neuron engine's accumulator j: lane j % P of word j // P (the engine holds
            # its read address while it uses the data)
            neuron_acc_rd = read_port(n // P, P * acc.size).signature.create()
            neuron_acc_wr = write_port(n // P, P * acc.size, P).signature.create()
            lane = neuron.acc_rd.addr[:lp]
            m.d.comb += [
                neuron_acc_rd.addr.eq(neuron.acc_rd.addr[lp:]),
                neuron_acc_rd.en.eq(neuron.acc_rd.en),
                neuron_acc_wr.addr.eq(neuron.acc_wr.addr[lp:]),
                neuron_acc_wr.data.eq(neuron.acc_wr.data.replicate(P)),
                neuron_acc_wr.en.eq(
                    Cat(neuron.acc_wr.addr[:lp] == i for i in range(P)) & neuron.acc_wr.en.replicate(P)
                ),
            ]
        # the synapse engine reads its row lists and weights in the synapse phase (two lanes:
        # from the step's start, the inputs' rows during the neuron phase; wide: the matrix
        # engines, from the step's start)
        propagating = stepping[Phase.SYNAPSE] | (stepping[Phase.NEURON] if P > 1 else 0)
        # who fills the accumulators: the synapse engine, or (wide) each matrix engine its own
        # sets (their sums are the neuron engine's: the FF and REC rows fill them side by side)
        fillers = []
        if wide:
            for engine in mats:
                filler_rd = read_port(n // P, P * acc.size).signature.create()
                filler_wr = write_port(n // P, P * acc.size, P).signature.create()
                m.d.comb += [
                    filler_rd.addr.eq(engine.acc_read_addr),
                    filler_rd.en.eq(engine.acc_read),
                    filler_wr.addr.eq(engine.acc_add_addr),
                ]
                add_weights(
                    m,
                    acc,
                    filler_rd.data,
                    filler_wr,
                    engine.acc_add_weights,
                    spec.weight_bits,
                    engine.acc_add_lanes,
                )
                fillers.append((filler_rd, filler_wr))
        elif synapse is not None:
            fillers.append((synapse.acc_rd, synapse.acc_wr))
        if P == 1:
            users["acc"]["rd"] = [(stepping[Phase.SYNAPSE], synapse.acc_rd), (None, neuron_acc_rd)]
            users["acc"]["wr"] = [(stepping[Phase.SYNAPSE], synapse.acc_wr), (None, neuron_acc_wr)]
        else:
            # two sets of accumulators a filler: the neuron engine delivers set ``fresh`` (filled
            # in the step before) while the filler fills the other; they swap at each step's
            # start; a reset pass clears both
            fresh = Signal()
            with m.If(ctrl.neuron_start & ~ctrl.reset):
                m.d.sync += fresh.eq(~fresh)
            delivered = []  # each filler's set ``fresh``: its read data
            for f, (filler_rd, filler_wr) in enumerate(fillers):
                sets = []
                for b in range(2):
                    name = f"mem_acc{b}" if len(fillers) == 1 else f"mem_acc_{('ff', 'rec')[f]}{b}"
                    mem = m.submodules[name] = BlockMemory(n // P, P * acc.size, P, exclusive=False)
                    sets.append(mem)
                    reads, writes = fresh == b, (fresh == b) | stepping[Phase.RESET]
                    m.d.comb += [
                        mem.rd.addr.eq(Mux(reads, neuron_acc_rd.addr, filler_rd.addr)),
                        mem.rd.en.eq(Mux(reads, neuron_acc_rd.en, filler_rd.en)),
                        mem.wr.addr.eq(Mux(writes, neuron_acc_wr.addr, filler_wr.addr)),
                        mem.wr.data.eq(Mux(writes, neuron_acc_wr.data, filler_wr.data)),
                        mem.wr.en.eq(Mux(writes, neuron_acc_wr.en, filler_wr.en)),
                    ]
                m.d.comb += filler_rd.data.eq(Mux(fresh, sets[0].rd.data, sets[1].rd.data))
                delivered.append(sets)
            if wide:
                # the FF and REC parts of each neuron's input: exact (``acc_bits`` holds the sum
                # of all its weights, so each part and their sum)
                for lane in range(P):
                    total = acc(neuron.acc_rd.data[lane * acc.size : (lane + 1) * acc.size])
                    parts = [
                        acc(Mux(fresh, b1.rd.data, b0.rd.data)[lane * acc.size : (lane + 1) * acc.size])
                        for b0, b1 in delivered
                    ]
                    m.d.comb += [total.e.eq(parts[0].e + parts[1].e), total.i.eq(parts[0].i + parts[1].i)]
            else:
                # the neuron engine's accumulator: one 2P:1 multiplexer (set, lane), not two in
                # a row (the delivery behind it is the ECP5 build's critical path)
                (sets,) = delivered
                m.d.comb += neuron.acc_rd.data.eq(
                    Array(mem.rd.data[h * acc.size : (h + 1) * acc.size] for mem in sets for h in range(P))[
                        Cat(lane, fresh)
                    ]
                )
        list_reader = mats[0] if wide else synapse  # the FF engine reads the lists in a wide core
        users["spikes"]["rd"] = [(propagating if wide else stepping[Phase.SYNAPSE], list_reader.spikes_rd)]
        users["spikes"]["wr"] = [(None, neuron.spike_wr)]
        users["inputs"]["rd"] = [(propagating, list_reader.inputs_rd)]
        users["inputs"]["wr"] = [(None, ctrl.inputs_wr)]
        if wide:
            users["spikes2"]["rd"].append((None, mats[1].spikes_rd))
            users["spikes2"]["wr"].append((None, neuron.spike_wr))
            for engine, (pre, post) in zip(
                mats, (("ff_pre", "ff_post"), ("rec_pre", "rec_post")), strict=True
            ):
                if not spec.stdp:
                    continue
                for name, side in ((pre, "pre"), (post, "post")):
                    users[name]["rd"].append((~cmd_path, getattr(engine, f"{side}_rd")))
                    users[name]["wr"].append((~cmd_path, getattr(engine, f"{side}_wr")))
                    users[f"{name}_en"]["rd"].append((~cmd_path, getattr(engine, f"{side}_en_rd")))
        for name in ("ff", "rec"):
            if P == 1:
                users[name]["rd"] = [(stepping[Phase.SYNAPSE], getattr(synapse, f"{name}_rd"))]
        if learn:
            users["spikes"]["rd"].append((stepping[Phase.LEARN], learn.spikes_rd))
            users["inputs"]["rd"].append((stepping[Phase.LEARN], learn.inputs_rd))
            for mat, name in ((FF, "ff"), (REC, "rec")):
                (engine,) = [e for e in learns if mat in e.mats]
                if not engine.pairs:  # (pairs: the engine has the banks' own ports, below)
                    users[name]["rd"].append((stepping[Phase.LEARN], getattr(engine, f"{name}_rd")))
                    users[name]["wr"].append((stepping[Phase.LEARN], getattr(engine, f"{name}_wr")))
            for name, engine in trace_owner.items():
                users[name]["rd"].append((~cmd_path, getattr(engine, f"{name}_rd")))
                users[name]["wr"].append((~cmd_path, getattr(engine, f"{name}_wr")))
            # the enable bits: the command path is their only writer
            users["stdp_enable"]["rd"].append((~cmd_path, learn.enable_rd))
            if len(learns) == 2:  # the REC engine's copies (it never reads the input list)
                users["stdp_enable2"]["rd"].append((~cmd_path, learns[1].enable_rd))
                users["spikes2"]["rd"].append((None, learns[1].spikes_rd))
                users["spikes2"]["wr"].append((None, neuron.spike_wr))
        users["spikes"]["rd"].append((None, ctrl.spikes_rd))

        read_data = {}
        weight_mems = []
        # (the wide core's neuron engine reads a neuron while it writes one three before)
        exclusive = {f"neuron{width}" for width in groups if not wide} | {
            "spikes",
            "spikes2",
            "stdp_enable",
            "stdp_enable2",
            *(f"{name}_en" for name in ("ff_pre", "ff_post", "rec_pre", "rec_post")),
        }
        for name, (depth, width, lanes) in mems.items():
            if name in ("ff", "rec") and wide:
                # ``P`` skewed banks: the engine has each bank's ports, the command path ``rd``/``wr``
                mem = m.submodules[f"mem_{name}"] = SkewedWeights(depth // n, n, P, width)
                engine = mats[0 if name == "ff" else 1]
                for b in range(P):
                    wiring.connect(m, getattr(engine, f"w{b}_rd"), getattr(mem, f"brd{b}"))
                    wiring.connect(m, getattr(engine, f"w{b}_wr"), getattr(mem, f"bwr{b}"))
                wr, rd = mem.wr, mem.rd
            elif name in ("ff", "rec"):
                # single-ported (SPRAM on the iCE40 UP): never read and written in one cycle
                # two checkerboard banks when max_neurons (the row length) is a power of two
                # one lane: the two matrices' bank address multiplexers are one (``shared``:
                # only one engine writes, one matrix at a time)
                mem = m.submodules[f"mem_{name}"] = WeightMemory(
                    depth, width, stride=n, pair=P == 2, shared=P == 1, walk=P == 2
                )
                weight_mems.append(mem)
                wr, rd = mem.wr, mem.rd
                if P == 2:  # propagation: the synapse engine's pair reads
                    pair = getattr(synapse, f"{name}_rd")
                    m.d.comb += [
                        mem.rdp.addr.eq(pair.addr),
                        mem.rdp.en.eq(pair.en & propagating),
                        pair.data.eq(mem.rdp.data),
                    ]
                    if learn:  # the learning engine's walks: each bank's own ports
                        (engine,) = [e for e in learns if (FF if name == "ff" else REC) in e.mats]
                        for b in range(2):
                            wiring.connect(m, getattr(engine, f"{name}{b}_rd"), getattr(mem, f"brd{b}"))
                            wiring.connect(m, getattr(engine, f"{name}{b}_wr"), getattr(mem, f"bwr{b}"))
            else:
                # block RAM without read-during-write logic: nobody reads the exclusive ones in a
                # cycle that writes them; the others are read while other words are written
                mem = m.submodules[f"mem_{name}"] = BlockMemory(
                    depth, width, lanes, exclusive=name in exclusive
                )
                wr, rd = mem.wr, mem.rd
            chain_rd, chain_wr = list(users[name]["rd"]), list(users[name]["wr"])
            if name in access:
                selected, lane = access[name]
                address = cmd_addr
                cmd_rd = read_port(depth, width).signature.create()
                cmd_wr = (
                    WritePort.Signature(
                        addr_width=addr_width(depth), shape=width, granularity=wr.signature.granularity
                    )
                    .flip()
                    .create()
                )
                lane_bits = width // lanes
                m.d.comb += [
                    cmd_rd.addr.eq(address),
                    cmd_wr.addr.eq(address),
                    cmd_wr.data.eq(Cat(*[wdata[:lane_bits]] * lanes)),
                    cmd_wr.en.eq(Mux(ctrl.mem_we & selected, 1 << lane, 0)),
                ]
                chain_rd.append((None, cmd_rd))
                chain_wr.append((None, cmd_wr))
            self._share(m, rd, chain_rd, write=False)
            self._share(m, wr, chain_wr, write=True)
            read_data[name] = rd.data

        # pairs: copies of the trace memories and of the enable bits, written as the originals,
        # read by the engine at the odd positions of its walks (exclusive: read in walks only)
        for engine, enable in zip(learns, ("stdp_enable", "stdp_enable2"), strict=False):
            if not engine.pairs:
                continue
            copies = [(name, getattr(engine, f"{name}_odd_rd")) for name in engine.trace_depths()]
            copies.append((enable, engine.enable_odd_rd))
            for name, user in copies:
                depth, width, lanes = mems[name]
                orig = m.submodules[f"mem_{name}"]
                copy = m.submodules[f"mem_{name}_odd"] = BlockMemory(depth, width, lanes, exclusive=True)
                m.d.comb += [
                    copy.wr.addr.eq(orig.wr.addr),
                    copy.wr.data.eq(orig.wr.data),
                    copy.wr.en.eq(orig.wr.en),
                ]
                wiring.connect(m, user, copy.rd)

        for mem in weight_mems:
            if mem.shared:
                m.d.comb += mem.wr_busy.eq(weight_mems[0].wr.en | weight_mems[1].wr.en)

        # -- registers written by the command path ---------------------------------------------
        def above(value, limit):
            """``value > limit`` for a 32-bit ``value``: a zero test of the high bits and a narrow
            compare (not a 32-bit comparator's carry chain; 39 iCE40 cells fewer in the default
            build than ``hdl.compare.at_least`` over all 32 bits)."""
            bits = limit.bit_length()
            return (value[bits:] != 0) | (value[:bits] > limit)

        with m.If(ctrl.mem_we & (region == Region.CONTROL)):
            with m.Switch(index):
                with m.Case(Control.WEIGHT_SHIFT):
                    m.d.sync += weight_shift.eq(wdata)
                with m.Case(Control.N_INPUTS):
                    m.d.sync += n_inputs.eq(Mux(above(wdata, k), k, wdata))
                with m.Case(Control.N_NEURONS):
                    m.d.sync += n_neurons.eq(Mux(above(wdata, n), n, wdata))
        rule_fields = list(rule_layout(spec))
        # one field number for the write and the read decoders (their comparators are shared)
        rule_field = Signal(5)
        m.d.comb += rule_field.eq(Mux(in_region(Region.STDP_RULE), index[:5], RULE_STRIDE - 1))
        with m.If(ctrl.mem_we):
            with m.Switch(rule_field):
                for mat in range(2):
                    for f, (fname, _) in enumerate(rule_fields):
                        with m.Case(mat * RULE_STRIDE + f):
                            m.d.sync += getattr(rules[mat], fname).eq(wdata)

        # -- read data: the word addressed by the command (held by the controller) ---------------
        # every readable word but STEP_COUNT fits ``narrow``; sign extension happens once
        widths = [w for _, w, lanes in mems.values() if lanes == 1] + [f.width for _, f in rule_layout(spec)]
        widths += [w for w in groups] + [16]
        narrow = Signal(signed(max(widths) + 1))
        is_step_count = (region == Region.CONTROL) & (index == Control.STEP_COUNT)
        m.d.comb += ctrl.mem_rdata.eq(Mux(is_step_count, ctrl.step, narrow.as_signed()))

        with m.Switch(region):
            with m.Case(Region.CONTROL):
                regs = {
                    Control.WEIGHT_SHIFT: weight_shift,
                    Control.N_INPUTS: n_inputs,
                    Control.N_NEURONS: n_neurons,
                }
                with m.Switch(index):
                    for i, reg in regs.items():
                        with m.Case(i):
                            m.d.comb += narrow.eq(reg)
            with m.Case(Region.FF_WEIGHT):
                m.d.comb += narrow.eq(read_data["ff"].as_signed())
            with m.Case(Region.REC_WEIGHT):
                m.d.comb += narrow.eq(read_data["rec"].as_signed())
            for r, record, layout, field_index in (
                (Region.NEURON_PARAM, "param", params, index[:4]),
                (Region.NEURON_STATE, "state", state, index[:2]),
            ):
                with m.Case(r):
                    with m.Switch(field_index):
                        for i, fname in enumerate(layout.names):
                            name, lane, width = home[record, fname]
                            value = read_data[name][lane * width : (lane + 1) * width]
                            with m.Case(i):
                                m.d.comb += narrow.eq(
                                    value.as_signed() if layout[fname].shape.signed else value
                                )
            with m.Case(Region.STDP_RULE):
                with m.Switch(rule_field):
                    for mat in range(2):
                        for f, (fname, _) in enumerate(rule_fields):
                            with m.Case(mat * RULE_STRIDE + f):
                                m.d.comb += narrow.eq(getattr(rules[mat], fname))
            if learn:
                with m.Case(Region.TRACE):
                    with m.Switch(kind):
                        for i, name in enumerate(trace_names):
                            with m.Case(i):
                                m.d.comb += narrow.eq(read_data[name])
                with m.Case(Region.STDP_ROW_ENABLE, Region.STDP_COL_ENABLE):
                    bits = read_data["stdp_enable"]
                    m.d.comb += narrow.eq(Array(bits[i * en.lane] for i in range(en.lanes))[enable_lane])
            if wide and spec.stdp:

                def element_of(name, e):
                    """Element ``e`` (its lane ``e % P``) of the read word of memory ``name``."""
                    word, width = read_data[name], mems[name][1] // P
                    return Array(word[i * width : (i + 1) * width] for i in range(P))[e[:lp]]

                with m.Case(Region.TRACE):
                    with m.Switch(kind):
                        for i, name in enumerate(trace_names):
                            with m.Case(i):
                                m.d.comb += narrow.eq(element_of(name, element))
                with m.Case(Region.STDP_ROW_ENABLE):
                    m.d.comb += narrow.eq(
                        Mux(row_mat, element_of("rec_pre_en", row), element_of("ff_pre_en", row))
                    )
                with m.Case(Region.STDP_COL_ENABLE):
                    m.d.comb += narrow.eq(
                        Mux(col_mat, element_of("rec_post_en", col), element_of("ff_post_en", col))
                    )
        return m

    @staticmethod
    def _share(m, port, users, *, write):
        """Drive ``port`` from the first user whose condition holds; the last one is the default."""
        for i, (cond, user) in enumerate(users):
            stmts = [port.addr.eq(user.addr), port.en.eq(user.en)]
            if write:
                stmts.append(port.data.eq(user.data))
            if i == len(users) - 1:
                if i == 0:
                    m.d.comb += stmts
                else:
                    with m.Else():
                        m.d.comb += stmts
            else:
                with m.If(cond) if i == 0 else m.Elif(cond):
                    m.d.comb += stmts
        if not write:
            for _, user in users:
                m.d.comb += user.data.eq(port.data)
