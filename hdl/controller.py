"""The timestep controller: decodes the command stream and sequences the phases of a step.

All in the one ``sync`` domain: a timestep is a sequence of engine passes started by
one-cycle strobes (no clock is divided in logic). Between steps the controller serves
memory reads and writes; ``INPUT`` and ``HALT`` are taken at any time, so the host can
stream the next step's inputs while a step runs (the input list is double-buffered).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import enum, stream, wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .commands import DATA_BITS, Op, Resp, command_layout, index_bits, response_layout
from .compare import below
from .memories import addr_width, read_port, write_port


class Phase(enum.Enum, shape=3):
    """Which block owns the memories in this cycle."""

    IDLE = 0  # the command path (memory reads and writes)
    NEURON = 1
    SYNAPSE = 2
    LEARN = 3
    OUTPUT = 4
    RESET = 5


class Controller(wiring.Component):
    """Command decoder and timestep sequencer.

    A memory command's ``mem_region``/``mem_index`` are registered from the command and
    held until the next one; the access comes a cycle later (``mem_we`` or ``mem_re`` for
    one cycle), and the command is taken then, so a write's ``mem_wdata`` is the command's
    own data. ``mem_rdata`` is expected the cycle after ``mem_re``, decoded from the held
    address, and must hold until the answer is taken (no read port is enabled meanwhile);
    the core decodes ``(region, index)``. A step runs the neuron,
    synapse and (``spec.stdp``) learning engines in turn, then sends a ``SPIKE`` response
    per spiking neuron and a ``STEP_DONE``.
    """

    def __init__(self, spec: CoreSpec):
        self.spec = spec
        n, k = spec.max_neurons, spec.max_inputs
        super().__init__(
            {
                "cmd": In(stream.Signature(command_layout(spec))),
                "resp": Out(stream.Signature(response_layout(spec))),
                "phase": Out(Phase),
                "step": Out(DATA_BITS),
                "n_inputs": In(range(k + 1)),
                "neuron_start": Out(1),
                "neuron_done": In(1),
                "synapse_start": Out(1),
                "synapse_done": In(1),
                "learn_start": Out(1),
                "learn_done": In(1),
                "reset": Out(1),  # with the neuron/learn start strobes: a reset pass
                "spike_count": In(range(n + 1)),
                "spikes_rd": read_port(n, addr_width(n)),
                "inputs_wr": write_port(2 * k, addr_width(k)),
                "input_count": Out(range(k + 1)),
                "input_bank": Out(1),
                "mem_re": Out(1),
                "mem_we": Out(1),
                "mem_region": Out(4),
                "mem_index": Out(index_bits(spec)),
                "mem_wdata": Out(DATA_BITS),
                "mem_rdata": In(DATA_BITS),
            }
        )

    def elaborate(self, platform):
        spec = self.spec
        k_max = spec.max_inputs
        m = Module()
        cmd = self.cmd.payload
        running = Signal()
        steps_left = Signal(DATA_BITS)
        pending = running | (steps_left != 0)
        next_count = Signal(range(k_max + 1))  # inputs queued for the next step
        out_pos = Signal.like(self.spike_count)
        waiting = Signal(2)  # reset: engines still running
        m.d.comb += self.spikes_rd.addr.eq(out_pos)
        m.d.sync += [
            self.neuron_start.eq(0),
            self.synapse_start.eq(0),
            self.learn_start.eq(0),
        ]

        # INPUT and HALT are taken in every phase (but not in the cycle the banks swap)
        anytime = (cmd.op == Op.INPUT) | (cmd.op == Op.HALT) | (cmd.op == Op.NOP)
        memory = (cmd.op == Op.WRITE) | (cmd.op == Op.READ)
        swapping = Signal()
        idle = Signal()
        access = Signal()  # a memory command is taken in its access cycle
        m.d.comb += [
            self.cmd.ready.eq(~swapping & (anytime | (idle & ~memory) | access)),
            self.mem_wdata.eq(cmd.data),  # a write's command is still on the stream
        ]
        take = self.cmd.valid & self.cmd.ready
        with m.If(take & (cmd.op == Op.INPUT)):
            bits = len(self.n_inputs)
            in_use = (cmd.data[bits:] == 0) & (cmd.data[:bits] < self.n_inputs)  # no 32-bit compare
            with m.If(in_use & below(next_count, k_max)):
                m.d.comb += [
                    self.inputs_wr.addr.eq(Mux(self.input_bank, 0, k_max) + next_count),
                    self.inputs_wr.data.eq(cmd.data),
                    self.inputs_wr.en.eq(1),
                ]
                m.d.sync += next_count.eq(next_count + 1)

        def respond(kind, index, value):
            m.d.comb += [
                self.resp.valid.eq(1),
                self.resp.payload.kind.eq(kind),
                self.resp.payload.index.eq(index),
                self.resp.payload.data.eq(value),
            ]

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.phase.eq(Phase.IDLE)
                with m.If(pending):
                    # start a step: the queued inputs become this step's inputs
                    m.d.comb += swapping.eq(1)
                    m.d.sync += [
                        self.input_bank.eq(~self.input_bank),
                        self.input_count.eq(next_count),
                        next_count.eq(0),
                        self.neuron_start.eq(1),
                        # the learning engine decays its traces during the neuron and synapse
                        # phases; its walks wait for the LEARN phase
                        # (a wide core's matrix engines learn: no learning engine)
                        self.learn_start.eq(spec.stdp and spec.lanes <= 2),
                        # two lanes: the synapse engine walks the inputs' rows meanwhile; wide:
                        # the matrix engines start
                        self.synapse_start.eq(spec.lanes >= 2),
                    ]
                    m.next = "NEURON"
                with m.Else():
                    m.d.comb += idle.eq(1)
                    with m.If(self.cmd.valid & memory):
                        # held for the whole access: the core decodes them once
                        m.d.sync += [self.mem_region.eq(cmd.region), self.mem_index.eq(cmd.index)]
                        with m.If(cmd.op == Op.WRITE):
                            m.next = "MEM_WRITE"
                        with m.Else():
                            m.next = "MEM_READ"
                    with m.If(take):
                        with m.Switch(cmd.op):
                            with m.Case(Op.STEP):
                                m.d.sync += steps_left.eq(cmd.data)
                            with m.Case(Op.RUN):
                                m.d.sync += running.eq(1)
                            with m.Case(Op.RESET_STATE):
                                m.d.sync += [
                                    self.step.eq(0),
                                    next_count.eq(0),
                                    self.reset.eq(1),
                                    self.neuron_start.eq(1),
                                    self.learn_start.eq(spec.stdp),
                                    waiting.eq(0b11 if spec.stdp else 0b01),
                                ]
                                m.next = "RESET"
            with m.State("MEM_WRITE"):
                m.d.comb += [self.phase.eq(Phase.IDLE), self.mem_we.eq(1), access.eq(1)]
                m.next = "IDLE"
            with m.State("MEM_READ"):
                m.d.comb += [self.phase.eq(Phase.IDLE), self.mem_re.eq(1), access.eq(1)]
                m.next = "READ_RESP"
            with m.State("READ_RESP"):
                m.d.comb += self.phase.eq(Phase.IDLE)
                respond(Resp.READ_DATA, 0, self.mem_rdata)
                with m.If(self.resp.ready):
                    m.next = "IDLE"
            with m.State("RESET"):
                m.d.comb += self.phase.eq(Phase.RESET)
                # bit 0: the neuron engine, bit 1: the learning engine (``~Mux(done, 0b01, 0)``
                # was one bit wide and cleared bit 1 at once: the learning engine's reset pass,
                # K + 3 N cycles, then ran into the first step and swallowed its learning)
                m.d.sync += waiting.eq(waiting & ~Cat(self.neuron_done, self.learn_done))
                with m.If(waiting == 0):
                    m.d.sync += self.reset.eq(0)
                    m.next = "IDLE"
            with m.State("NEURON"):
                m.d.comb += self.phase.eq(Phase.NEURON)
                with m.If(self.neuron_done):
                    m.d.sync += self.synapse_start.eq(spec.lanes == 1)
                    m.next = "SYNAPSE"
            with m.State("SYNAPSE"):
                m.d.comb += self.phase.eq(Phase.SYNAPSE)
                with m.If(self.synapse_done):
                    m.d.sync += out_pos.eq(0)
                    m.next = "LEARN" if spec.stdp and spec.lanes <= 2 else "OUT_FETCH"
            with m.State("LEARN"):
                m.d.comb += self.phase.eq(Phase.LEARN)
                with m.If(self.learn_done):
                    m.d.sync += out_pos.eq(0)
                    m.next = "OUT_FETCH"
            with m.State("OUT_FETCH"):
                # the spike list entry out_pos is read this cycle, sent from the next
                m.d.comb += self.phase.eq(Phase.OUTPUT)
                with m.If(out_pos == self.spike_count):
                    m.next = "STEP_DONE"
                with m.Else():
                    m.next = "OUT_SEND"
            with m.State("OUT_SEND"):
                m.d.comb += self.phase.eq(Phase.OUTPUT)
                respond(Resp.SPIKE, self.spikes_rd.data, self.step)
                with m.If(self.resp.ready):
                    m.d.sync += out_pos.eq(out_pos + 1)
                    m.next = "OUT_FETCH"
            with m.State("STEP_DONE"):
                m.d.comb += self.phase.eq(Phase.OUTPUT)
                respond(Resp.STEP_DONE, 0, self.step)
                with m.If(self.resp.ready):
                    m.d.sync += self.step.eq(self.step + 1)
                    with m.If(~running & (steps_left != 0)):
                        m.d.sync += steps_left.eq(steps_left - 1)
                    m.next = "IDLE"
        # after the FSM: a HALT wins over the step counter's update in the same cycle
        with m.If(take & (cmd.op == Op.HALT)):
            m.d.sync += [running.eq(0), steps_left.eq(0)]
        return m
