"""Request decoder: the checks every request gets, generated from the command table.

For the request at the head of the descriptor FIFO and its first payload bytes (``args``,
the fixed fields, zeros past the payload's end) it gives, in one cycle and without state,
the *verdict*: ``Status.OK`` when the request goes on to the component that executes
it, else the status of the first check that failed, in the order of
:class:`firmware_host.protocol.Command` (the device model's order):

1. the frame decoder's NAK (BAD_CRC, BAD_LENGTH, BUSY), BAD_VERSION, UNKNOWN_OPCODE,
   DUPLICATE (a run-state command whose seq is the last one's);
2. a payload shorter than the fixed fields (BAD_LENGTH), an ADDRESS outside the memory
   map (ADDRESS_OUT_OF_RANGE), without a tail a longer one (BAD_LENGTH), BUSY during a
   free run (``halted``), an INDICES tail that is not ``2 x count`` bytes (BAD_LENGTH);
   a WORDS tail's length is checked by the word walker, which measures the words.

Every per-opcode fact here (known, run-state, lengths, address, halted, the reply's kind)
is read from :class:`~firmware_host.protocol.Opcode`'s rows; nothing is written per opcode.
"""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from firmware_host.protocol import ADDRESS, INDEX, REQUESTS, Opcode, Status, Tail
from hdl.compare import below
from snn.core_spec import CoreSpec

from .reply_encoder import ReplyKind, reply_kind
from .wire_words import in_range

# a request's decoder status, as a 2-bit code (the descriptor FIFO holds few bits)
NAKS = (Status.OK, Status.BAD_CRC, Status.BAD_LENGTH, Status.BUSY)

#: the most fixed-field bytes of any request: the decoder looks at no more
ARGS_BYTES = max(op.command.args.size for op in REQUESTS)


def request_layout(length_bits: int) -> data.StructLayout:
    """A received frame as the engine takes it: the decoder's status (an index into
    :data:`NAKS`), whether the version is ours, the header fields. The payload starts
    where the previous request's payload ended (the engine's ``released`` pointer): the
    decoder keeps the payloads of accepted frames in order, and the engine releases each
    before it takes the next."""
    return data.StructLayout(
        {
            "nak": unsigned(2),
            "version_ok": unsigned(1),
            "seq": unsigned(8),
            "opcode": unsigned(8),
            "length": unsigned(length_bits),
        }
    )


def field(args, layout, i):
    """Fixed field ``i`` of ``layout`` (a little-endian ``struct``) in the ``args`` bytes."""
    fmt = layout.format.lstrip("<")
    start = sum(_size(c) for c in fmt[:i])
    return args[8 * start : 8 * (start + _size(fmt[i]))]


def _size(code: str) -> int:
    return {"B": 1, "H": 2, "I": 4}[code]


class RequestDecoder(wiring.Component):
    """``request`` (the descriptor), ``args`` (its first :data:`ARGS_BYTES` payload bytes),
    the run state and the last run-state seq in; ``status`` (the verdict), ``kind`` (the
    reply kind of a refusal: PLAIN, but for a DUPLICATE the row's, which carries its fields
    as they are now) and ``once`` out, combinationally."""

    def __init__(self, spec: CoreSpec, length_bits: int):
        self.spec = spec
        super().__init__(
            {
                "request": In(request_layout(length_bits)),
                "args": In(8 * ARGS_BYTES),
                "running": In(1),
                "last_once": In(8),
                "last_once_valid": In(1),
                "status": Out(8),
                "kind": Out(ReplyKind),
                "once": Out(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        req, args, length = self.request, self.args, self.request.length
        region, index, count = (field(args, ADDRESS, i) for i in range(3))
        in_map = in_range(m, self.spec, region, index, count)

        known = Signal()
        row_kind = Signal(ReplyKind)
        # the row's own checks, first failure wins (Command's order)
        row_status = Signal(8)
        with m.Switch(req.opcode):
            for op in REQUESTS:
                c = op.command
                size = c.args.size
                with m.Case(op):
                    m.d.comb += [known.eq(1), self.once.eq(c.once), row_kind.eq(reply_kind(c))]
                    checks = [(below(length, size), Status.BAD_LENGTH)]
                    if c.address:
                        checks.append((~in_map, Status.ADDRESS_OUT_OF_RANGE))
                    if c.args_tail is Tail.NONE:
                        checks.append((length != size, Status.BAD_LENGTH))
                    if c.halted:
                        checks.append((self.running, Status.BUSY))
                    if c.args_tail is Tail.INDICES:
                        n = field(args, c.args, len(c.args.format.lstrip("<")) - 1)
                        checks.append((length != size + INDEX.itemsize * n, Status.BAD_LENGTH))
                    for i, (cond, status) in enumerate(checks):
                        with m.If(cond) if i == 0 else m.Elif(cond):
                            m.d.comb += row_status.eq(status)

        nak_status = Signal(8)
        with m.Switch(req.nak):
            for i, st in enumerate(NAKS):
                with m.Case(i):
                    m.d.comb += nak_status.eq(st)
        with m.If(req.nak != 0):
            m.d.comb += self.status.eq(nak_status)
        with m.Elif(~req.version_ok & (req.opcode != Opcode.IDENTIFY)):
            m.d.comb += self.status.eq(Status.BAD_VERSION)
        with m.Elif(~known):
            m.d.comb += self.status.eq(Status.UNKNOWN_OPCODE)
        with m.Elif(self.once & self.last_once_valid & (req.seq == self.last_once)):
            m.d.comb += [self.status.eq(Status.DUPLICATE), self.kind.eq(row_kind)]
        with m.Else():
            m.d.comb += self.status.eq(row_status)
        return m
