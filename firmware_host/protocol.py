"""The link protocol between the host and the core: every opcode, status and layout, once.

docs/protocol.md is the prose; this module is the definition that the host driver
(:mod:`firmware_host.link`, :mod:`firmware_host.board`), the simulated core
(:mod:`firmware_host.device_model`) and the gateware (``hdl/link``) all import. Pure
Python and numpy, no amaranth.

A frame, before COBS stuffing, is ``header | payload | CRC``:

- header (:data:`HEADER`, 5 bytes, little-endian): protocol version, sequence number,
  opcode, payload length;
- CRC-16/XMODEM of header and payload, most significant byte first (so that the CRC
  over the whole frame is 0).

Every request gets exactly one reply with the same sequence number and the opcode
``request | REPLY``; a reply's payload starts with :data:`REPLY_HEAD` (status, credits).
The device also sends unsolicited ``SPIKES_OUT`` frames (output spikes of a timestep).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum, IntEnum, IntFlag
from functools import lru_cache

import numpy as np

from snn.core_spec import CoreSpec

from .memory_map import PARAM_STRIDE, RULE_STRIDE, STATE_STRIDE, Region, region_size, word_bits

PROTOCOL_VERSION = 1
MAGIC = b"SNNC"  # first bytes of an IDENTIFY reply
DELIMITER = b"\x00"  # ends every COBS-encoded frame
HEADER = struct.Struct("<BBBH")  # version, sequence number, opcode, payload length
CRC_BYTES = 2
CRC_CHECK = 0x31C3  # CRC-16/XMODEM of b"123456789"
MAX_PAYLOAD = 4096  # the protocol's limit; a device advertises its own (Identity.max_payload)
# longest COBS-encoded frame (delimiter excluded): one code byte per 254 bytes, plus one
MAX_FRAME = HEADER.size + MAX_PAYLOAD + CRC_BYTES + (HEADER.size + MAX_PAYLOAD + CRC_BYTES) // 254 + 1
REPLY = 0x80  # opcode bit of a reply
SEQ_MODULO = 256


class Status(IntEnum):
    """First byte of every reply. Values below 0x10 are success."""

    OK = 0x00
    DUPLICATE = 0x01  # a repeated EXECUTE_ONCE command: it was done when first received
    BAD_CRC = 0x10  # or malformed COBS: the frame is not executed
    BAD_LENGTH = 0x11  # frame too short or too long, or payload length not as the opcode needs
    UNKNOWN_OPCODE = 0x12
    ADDRESS_OUT_OF_RANGE = 0x13  # region, index + count, or a spike index beyond the core
    BUSY = 0x14  # cannot take it now (running, input buffer full): send it again later
    BAD_VERSION = 0x15  # header version differs from the device's
    BAD_VALUE = 0x16  # a word does not fit its width, or a register value the core refuses
    INPUT_LATE = 0x17  # input spikes for a timestep that has already run
    SPIKES_GONE = 0x18  # the record asked for has left the spike log
    READ_ONLY = 0x19  # a write to a read-only register

    @property
    def ok(self) -> bool:
        """Whether the request was carried out (now or earlier)."""
        return self < 0x10


# A corrupted or refused-for-now frame is worth sending again; the others are final.
RETRYABLE = frozenset({Status.BAD_CRC, Status.BAD_LENGTH, Status.BAD_VERSION, Status.BUSY})


class SpikeFlag(IntFlag):
    """Overflow flags of a spike record (and, sticky, of DeviceStatus)."""

    TX_DROPPED = 0x01  # the device could not send some records at once: ask SPIKES_RESEND
    INPUT_LATE = 0x02  # input spikes for a past timestep were dropped (free run)


# -- payload layouts (little-endian) ----------------------------------------------------
REPLY_HEAD = struct.Struct("<BB")  # status, credits (frames the device can take now)
ADDRESS = struct.Struct("<BIH")  # region, first index, word count
STEP = struct.Struct("<I")  # timesteps to run
STEP_REPLY = struct.Struct("<IH")  # timestep after the run, spike records sent so far (mod 2^16)
SPIKES_IN = struct.Struct("<IH")  # timestep, number of u16 source indices that follow
SPIKES_RESEND = struct.Struct("<H")  # record counter
SPIKE_RECORD = struct.Struct("<HIBH")  # counter, timestep, SpikeFlag, number of u16 neuron indices
STATUS_REPLY = struct.Struct("<BIHB")  # running, timestep, records sent so far, sticky SpikeFlag
INDEX = np.dtype("<u2")  # a spike's source or neuron index
# IDENTIFY: magic, version, the CoreSpec (SPEC_FIELDS as u16, then stdp as u8), clock (Hz),
# baud, credits, max_payload, input_depth (timesteps of input buffer), spike_log (records)
SPEC_FIELDS = (
    "weight_bits",
    "v_bits",
    "i_bits",
    "frac_bits",
    "coef_bits",
    "refrac_bits",
    "trace_bits",
    "trace_frac_bits",
    "stdp_amp_bits",
    "stdp_frac_bits",
    "max_inputs",
    "max_neurons",
    "max_delay",
)
IDENTITY = struct.Struct("<4sB" + "H" * len(SPEC_FIELDS) + "BIIBHHH")


# -- the command table ------------------------------------------------------------------
class Tail(Enum):
    """What follows the fixed fields of a payload."""

    NONE = "none"
    WORDS = "words"  # the words of the ADDRESS fields (region, index, count), in wire format
    INDICES = "indices"  # ``count`` u16 indices, ``count`` being the last fixed field


NOTHING = struct.Struct("<")  # no fixed fields


@dataclass(frozen=True)
class Command:
    """One row of the command table: a request's payload and its reply's data.

    ``args``/``args_tail``: the request payload, fixed fields then a tail; ``reply``/
    ``reply_tail``: the reply's data after :data:`REPLY_HEAD`. ``once``: a run-state
    command, executed once per sequence number (DUPLICATE on a repeat, carrying the
    reply's fields as they are now). ``halted``: refused with BUSY during a free run.

    A device checks a request in this order (the device model and the gateware alike):
    payload shorter than ``args`` (BAD_LENGTH); an ADDRESS out of the memory map
    (ADDRESS_OUT_OF_RANGE); without a tail, payload longer than ``args`` (BAD_LENGTH);
    ``halted`` during a free run (BUSY); the tail's length (BAD_LENGTH); then the
    command's own checks.
    """

    args: struct.Struct = NOTHING
    args_tail: Tail = Tail.NONE
    reply: struct.Struct = NOTHING
    reply_tail: Tail = Tail.NONE
    once: bool = False
    halted: bool = False

    @property
    def address(self) -> bool:
        """The request starts with an ADDRESS that must lie inside the memory map."""
        return self.args is ADDRESS


class Opcode(IntEnum):
    """Opcodes and the command table (host -> device requests), and SPIKES_OUT
    (device -> host, no request). ``Opcode.X.command`` is X's row; docs/protocol.md
    "Opcodes" is the prose, docs/architecture.md "Adding an opcode" the steps."""

    command: Command | None

    def __new__(cls, code: int, command: Command | None = None):
        obj = int.__new__(cls, code)
        obj._value_ = code
        obj.command = command
        return obj

    # -> Identity; also starts a session (forgets the last run-state command's seq)
    IDENTIFY = 0x01, Command(reply=IDENTITY)
    STATUS = 0x02, Command(reply=STATUS_REPLY)  # -> DeviceStatus
    WRITE = 0x10, Command(ADDRESS, Tail.WORDS, halted=True)
    # the core serves its memory only between timesteps
    READ = 0x11, Command(ADDRESS, reply=ADDRESS, reply_tail=Tail.WORDS, halted=True)
    HALT = 0x20, Command(once=True)  # stop a free run
    RUN = 0x21, Command(once=True)  # run freely, one timestep after the other, until HALT
    # run n timesteps; the reply is sent when they are done
    STEP = 0x22, Command(STEP, reply=STEP_REPLY, once=True, halted=True)
    # state, traces, timestep, input buffer and spike log to their initial values
    RESET_STATE = 0x23, Command(once=True, halted=True)
    # every configuration region (weights, parameters, rules) to 0
    CLEAR_CONFIG = 0x24, Command(once=True, halted=True)
    # the input spikes of one timestep
    SPIKES_IN = 0x30, Command(SPIKES_IN, Tail.INDICES)
    # a record again, from the spike log
    SPIKES_RESEND = 0x31, Command(SPIKES_RESEND, reply=SPIKE_RECORD, reply_tail=Tail.INDICES)
    # device -> host, unsolicited: SPIKE_RECORD + u16 neuron indices
    SPIKES_OUT = 0x40


#: the requests a device executes, in opcode order
REQUESTS = tuple(op for op in Opcode if op.command is not None)

# Commands that change the run state are executed once per sequence number: the device
# keeps the seq of the last one, and answers a repeat with DUPLICATE. Every other
# request is idempotent (address- or timestep-addressed) and simply executed again.
EXECUTE_ONCE = frozenset(op for op in REQUESTS if op.command.once)


def pack_request(opcode: Opcode, *fields: int, tail: bytes = b"") -> bytes:
    """A request's payload: its fixed fields (``opcode.command.args``) and ``tail``."""
    command = opcode.command
    if command.args_tail is Tail.NONE and tail:
        raise ValueError(f"{opcode.name} has no data after its fixed fields")
    return command.args.pack(*fields) + tail


def unpack_reply(opcode: Opcode, data: bytes) -> tuple[tuple, bytes]:
    """A reply's data as ``(fixed fields, tail)``; ``ValueError`` when its length does
    not match the table (a WORDS tail is checked by whoever knows the word formats)."""
    command = opcode.command
    size = command.reply.size
    if len(data) < size:
        raise ValueError(f"{opcode.name} replies with {size} bytes of fixed fields, got {len(data)}")
    fields, tail = command.reply.unpack_from(data), data[size:]
    if command.reply_tail is Tail.NONE and tail:
        raise ValueError(f"{opcode.name} replies with {size} bytes, got {len(data)}")
    if command.reply_tail is Tail.INDICES and len(tail) != INDEX.itemsize * fields[-1]:
        raise ValueError(f"{fields[-1]} indices need {INDEX.itemsize * fields[-1]} bytes, got {len(tail)}")
    return fields, tail


def reply_frame_bytes(opcode: Opcode, tail: int = 0) -> int:
    """Wire bytes of a reply to ``opcode`` with ``tail`` bytes of tail (for time-outs)."""
    payload = REPLY_HEAD.size + opcode.command.reply.size + tail
    body = HEADER.size + payload + CRC_BYTES
    return body + body // 254 + 2  # COBS and the delimiter


@dataclass(frozen=True)
class Identity:
    """What a device says about itself in reply to IDENTIFY."""

    version: int
    spec: CoreSpec
    clock_hz: int
    baud: int
    credits: int  # frames the device buffers: the host keeps at most this many in flight
    max_payload: int  # longest payload it accepts or sends
    input_depth: int  # timesteps ahead that SPIKES_IN may address
    spike_log: int  # spike records kept for SPIKES_RESEND

    def pack(self) -> bytes:
        """IDENTIFY reply data."""
        spec = [getattr(self.spec, name) for name in SPEC_FIELDS]
        return IDENTITY.pack(
            MAGIC, self.version, *spec, int(self.spec.stdp), self.clock_hz, self.baud,
            self.credits, self.max_payload, self.input_depth, self.spike_log,
        )  # fmt: skip

    @classmethod
    def unpack(cls, data: bytes) -> Identity:
        """Parse IDENTIFY reply data; ``ValueError`` if it is not one."""
        if len(data) < 5 or data[:4] != MAGIC:
            raise ValueError("not an IDENTIFY reply of this protocol (wrong magic)")
        if data[4] != PROTOCOL_VERSION:  # later versions may lay the rest out differently
            return cls(data[4], CoreSpec(), 0, 0, 1, 0, 0, 0)
        if len(data) != IDENTITY.size:
            raise ValueError(f"version {PROTOCOL_VERSION} sends {IDENTITY.size} bytes, got {len(data)}")
        values = IDENTITY.unpack(data)
        n = len(SPEC_FIELDS)
        spec = CoreSpec(**dict(zip(SPEC_FIELDS, values[2 : 2 + n])), stdp=bool(values[2 + n]))
        return cls(values[1], spec, *values[3 + n :])


@dataclass(frozen=True)
class SpikeRecord:
    """The output spikes of one timestep (a SPIKES_OUT frame or a SPIKES_RESEND reply)."""

    counter: int  # records sent since RESET_STATE, mod 2^16: a gap is a lost record
    timestep: int
    flags: SpikeFlag
    neurons: np.ndarray  # ascending neuron indices

    def pack(self) -> bytes:
        """Payload bytes."""
        neurons = np.asarray(self.neurons, INDEX)
        return SPIKE_RECORD.pack(self.counter & 0xFFFF, self.timestep, int(self.flags), neurons.size) + (
            neurons.tobytes()
        )

    @classmethod
    def unpack(cls, data: bytes) -> SpikeRecord:
        """Parse payload bytes; ``ValueError`` when the length does not match."""
        counter, timestep, flags, count = SPIKE_RECORD.unpack_from(data)
        neurons = _indices(data[SPIKE_RECORD.size :], count)
        return cls(counter, timestep, SpikeFlag(flags), neurons)


@dataclass(frozen=True)
class DeviceStatus:
    """STATUS reply."""

    running: bool
    timestep: int
    records: int  # spike records sent since RESET_STATE, mod 2^16
    flags: SpikeFlag

    @classmethod
    def unpack(cls, data: bytes) -> DeviceStatus:
        """Parse STATUS reply data."""
        running, timestep, records, flags = STATUS_REPLY.unpack(data)
        return cls(bool(running), timestep, records, SpikeFlag(flags))

    def pack(self) -> bytes:
        """STATUS reply data."""
        return STATUS_REPLY.pack(int(self.running), self.timestep, self.records, int(self.flags))


def pack_spikes_in(timestep: int, sources: np.ndarray) -> bytes:
    """SPIKES_IN payload: the input spikes of ``timestep`` (source indices)."""
    sources = np.asarray(sources, INDEX)
    return SPIKES_IN.pack(timestep, sources.size) + sources.tobytes()


def unpack_spikes_in(data: bytes) -> tuple[int, np.ndarray]:
    """Inverse of :func:`pack_spikes_in`; ``ValueError`` when the length does not match."""
    timestep, count = SPIKES_IN.unpack_from(data)
    return timestep, _indices(data[SPIKES_IN.size :], count)


def _indices(data: bytes, count: int) -> np.ndarray:
    if len(data) != count * INDEX.itemsize:
        raise ValueError(f"{count} indices need {count * INDEX.itemsize} bytes, got {len(data)}")
    return np.frombuffer(data, INDEX).astype(np.int64)


# -- words on the wire ------------------------------------------------------------------
# Each word of a region travels little-endian in ceil(bits / 8) bytes, two's complement
# when signed (memory_map.word_bits gives bits and signedness).
_STRIDE = {
    Region.NEURON_PARAM: PARAM_STRIDE,
    Region.NEURON_STATE: STATE_STRIDE,
    Region.STDP_RULE: RULE_STRIDE,
}


@dataclass(frozen=True)
class WordFormat:
    """Bits, signedness and wire bytes of a run of consecutive words."""

    bits: np.ndarray
    signed: np.ndarray
    nbytes: np.ndarray

    @property
    def total(self) -> int:
        """Bytes on the wire."""
        return int(self.nbytes.sum())


@lru_cache(maxsize=64)
def _period(spec: CoreSpec, region: Region) -> tuple[np.ndarray, np.ndarray]:
    # word widths repeat with the record stride (CONTROL: no repetition)
    period = _STRIDE.get(region, region_size(spec, region) if region is Region.CONTROL else 1)
    words = [word_bits(spec, region, i) for i in range(period)]
    return np.array([w.bits for w in words], np.int64), np.array([w.signed for w in words], bool)


def word_format(spec: CoreSpec, region: Region, index: int, count: int) -> WordFormat:
    """Format of words ``index .. index+count-1`` of ``region``."""
    bits, signed = _period(spec, region)
    at = (index + np.arange(count)) % bits.size
    b = bits[at]
    return WordFormat(b, signed[at], (b + 7) // 8)


def in_range(spec: CoreSpec, region: int, index: int, count: int) -> bool:
    """Whether ``(region, index .. index+count-1)`` lies inside the core's memory map."""
    try:
        size = region_size(spec, Region(region))
    except ValueError:
        return False
    return 0 <= index and count >= 0 and index + count <= size


def encode_words(spec: CoreSpec, region: Region, index: int, words) -> bytes:
    """Wire bytes of ``words`` written at ``(region, index)``; ``ValueError`` if one does not fit."""
    words = np.asarray(words, np.int64).ravel()
    fmt = word_format(spec, region, index, words.size)
    lo = np.where(fmt.signed, -(1 << (fmt.bits - 1)), 0)
    hi = np.where(fmt.signed, (1 << (fmt.bits - 1)) - 1, (1 << fmt.bits) - 1)
    bad = (words < lo) | (words > hi)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{Region(region).name}[{index + k}] = {words[k]} does not fit "
            f"{'a signed' if fmt.signed[k] else 'an unsigned'} {fmt.bits[k]}-bit word"
        )
    if np.all(fmt.nbytes == 1):  # weights: the common, bulk case
        return words.astype(np.uint8).tobytes()
    raw = (words & ((1 << (8 * fmt.nbytes)) - 1)).astype("<u8").view(np.uint8).reshape(-1, 8)
    return raw[np.arange(8) < fmt.nbytes[:, None]].tobytes()


def decode_words(spec: CoreSpec, region: Region, index: int, count: int, data: bytes) -> np.ndarray:
    """Words from wire bytes; ``ValueError`` on a wrong length or a word that is not sign-extended."""
    fmt = word_format(spec, region, index, count)
    if len(data) != fmt.total:
        raise ValueError(f"{count} words of {Region(region).name} need {fmt.total} bytes, got {len(data)}")
    raw = np.zeros((count, 8), np.uint8)
    raw[np.arange(8) < fmt.nbytes[:, None]] = np.frombuffer(data, np.uint8)
    u = raw.view("<u8").ravel().astype(np.int64)  # at most 4 bytes: fits
    width = 8 * fmt.nbytes
    top = u >> np.where(fmt.signed, fmt.bits - 1, fmt.bits)  # bits above the value (and sign)
    ones = (1 << (width - fmt.bits + 1)) - 1
    if np.any((top != 0) & ~(fmt.signed & (top == ones))):
        raise ValueError(f"a word of {Region(region).name} has bits beyond its width")
    return np.where(fmt.signed & (top == ones), u - (1 << width), u)
