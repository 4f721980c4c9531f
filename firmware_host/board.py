"""The board driver: one object for a real board on ``/dev/ttyUSB0`` and for the
simulated one (``"sim"``).

    with Board("/dev/ttyUSB0", baud=3_000_000) as board:   # or Board("sim")
        print(board.identity.spec)
        q = board.load(network)          # quantize, write, read back and verify
        spikes = board.run()             # the network's duration, its sources as input
        weights = board.read_weights().csr(q.built)

The URL is any pyserial URL (``/dev/ttyUSB0``, ``socket://host:port``, ``loop://``) or
``"sim"``, which starts a simulated core (:mod:`firmware_host.device_model`) on a
pseudo-terminal and opens that like any serial port.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import serial

from snn.build import BuiltNetwork
from snn.core_spec import CoreSpec
from snn.errors import FitError
from snn.network import Network
from snn.quantize import QuantizedNetwork, fit_problems, quantize

from .errors import BadReply, BoardError, NoAnswer, ProtocolMismatch, VerifyError
from .link import Link, Reply, Request
from .memory_map import STATE_STRIDE, Control, NeuronState, Region, TraceKind, core_image
from .protocol import (
    INDEX,
    MAGIC,
    PROTOCOL_VERSION,
    REPLY_HEAD,
    DeviceStatus,
    Identity,
    Opcode,
    SpikeFlag,
    SpikeRecord,
    decode_words,
    encode_words,
    pack_request,
    reply_frame_bytes,
    unpack_reply,
    word_format,
)
from .transports import PtyServer, serve_simulated

_T = TypeVar("_T")
SIM_URL = "sim"
VERIFY_ATTEMPTS = 3  # writes of a range whose read-back differs, before giving up


@dataclass
class Spikes:
    """Output spikes: parallel arrays of timesteps and neuron indices, in time order."""

    steps: np.ndarray
    neurons: np.ndarray

    def __len__(self) -> int:
        return int(self.steps.size)


@dataclass
class CoreWeights:
    """Weights read from the core: dense FF ``(n_inputs, n_neurons)`` and REC ``(n_neurons, n_neurons)``."""

    ff: np.ndarray
    rec: np.ndarray

    def csr(self, built: BuiltNetwork) -> np.ndarray:
        """The weights of ``built``'s synapses, in its CSR order (as the simulator keeps them)."""
        n = built.n_neurons
        pre = np.repeat(np.arange(built.syn_ptr.size - 1), np.diff(built.syn_ptr))
        rec = pre < n
        out = np.empty(pre.size, np.int64)
        out[rec] = self.rec[pre[rec], built.syn_post[rec]]
        out[~rec] = self.ff[pre[~rec] - n, built.syn_post[~rec]]
        return out


Write = tuple[Region, int, np.ndarray]


class Board:
    """A core on the other end of a serial line (see the module docstring).

    Time-outs are bounded everywhere: ``timeout`` is the base wait for a reply beyond
    the time the bytes need on the line at ``baud``; each retry doubles it, up to
    ``retries`` tries. ``window`` caps the frames in flight (the device's credits cap it
    too). ``max_payload`` caps burst frames below the board's own limit (shorter frames
    survive a noisy line better). ``step_s`` is the device time allowed per timestep in
    STEP's time-out. ``sim_options`` go to the simulated board (``spec``, ``faults``, ``seed``, ...).
    """

    def __init__(
        self,
        url: str = SIM_URL,
        baud: int = 115200,
        *,
        timeout: float = 0.1,
        retries: int = 8,
        window: int = 16,
        step_s: float = 0.002,
        max_payload: int | None = None,
        **sim_options,
    ) -> None:
        self._server: PtyServer | None = None
        if url == SIM_URL:
            self._server = serve_simulated(**sim_options)
            path = self._server.port
        elif sim_options:
            raise TypeError(f"options {sorted(sim_options)} apply to the simulated board only")
        else:
            path = url
        self.url, self.baud, self.step_s, self._max_payload = url, baud, step_s, max_payload
        try:
            port = serial.serial_for_url(path, baudrate=baud, timeout=0.02, write_timeout=10)
        except (serial.SerialException, ValueError) as exc:
            self._stop_server()
            raise BoardError(f"cannot open port {url}: {exc}") from None
        self.link = Link(port, url, baud, timeout=timeout, retries=retries, window=window)
        self.loaded: QuantizedNetwork | None = None
        self._records_seen = 0  # spike records taken since RESET_STATE
        try:
            self.identity = self.identify()
        except BaseException:
            self.close()
            raise

    # -- session --------------------------------------------------------------------------
    def identify(self) -> Identity:
        """Ask the board who it is; checks the protocol version and sets the credits."""
        self.link.sync()
        try:
            reply = self.link.request(Opcode.IDENTIFY)
        except NoAnswer:
            raise NoAnswer(
                f"no answer on port {self.url} at {self.baud} baud: is the board connected, "
                "programmed with the snn core, and set to this baud?"
            ) from None
        if reply.data[: len(MAGIC)] != MAGIC:
            raise ProtocolMismatch(f"the device on {self.url} does not speak the snn link protocol")
        identity = self._parse(Opcode.IDENTIFY, Identity.unpack, reply.data)
        if identity.version != PROTOCOL_VERSION:
            raise ProtocolMismatch(
                f"protocol version mismatch on {self.url}: the board speaks version {identity.version}, "
                f"this host speaks version {PROTOCOL_VERSION}; update the gateware or the host software"
            )
        self.link.credits = identity.credits
        self.identity = identity
        return identity

    @property
    def spec(self) -> CoreSpec:
        """The CoreSpec of the core on the board."""
        return self.identity.spec

    def status(self) -> DeviceStatus:
        """Running flag, timestep, spike records sent and sticky overflow flags."""
        running, timestep, records, flags = self.call(Opcode.STATUS)[0]
        return DeviceStatus(bool(running), timestep, records, SpikeFlag(flags))

    def call(self, opcode: Opcode, *fields: int, **timing) -> tuple[tuple, bytes]:
        """One request alone on the link, laid out by the command table; the reply's
        ``(fixed fields, tail)``, or :class:`BadReply` if it is not laid out as the table says."""
        reply = self.link.request(opcode, pack_request(opcode, *fields), **timing)
        return self._parse(opcode, lambda data: unpack_reply(opcode, data), reply.data)

    def _parse(self, opcode: Opcode, parse: Callable[[bytes], _T], data: bytes) -> _T:
        """``parse(data)``, the data of a reply to ``opcode``; :class:`BadReply` if it does not parse."""
        try:
            return parse(data)
        except (struct.error, ValueError) as exc:
            raise BadReply(
                f"the board on {self.url} answered {opcode.name} with {len(data)} data byte(s) "
                f"that do not parse: {exc}"
            ) from None

    def close(self) -> None:
        """Close the port (and stop the simulated board)."""
        link = getattr(self, "link", None)
        if link is not None:
            link.close()
        self._stop_server()

    def _stop_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- memory ---------------------------------------------------------------------------
    def write(self, writes: list[Write]) -> None:
        """Burst writes ``(region, first index, words)``, pipelined in frames as long as
        the board takes. The ranges must not overlap (frames may land in any order)."""
        requests = [
            Request(
                Opcode.WRITE,
                pack_request(
                    Opcode.WRITE,
                    region,
                    index,
                    words.size,
                    tail=encode_words(self.spec, region, index, words),
                ),
            )
            for region, index, words in self._split(_coalesce(writes), Opcode.WRITE.command.args.size)
        ]
        self.link.exchange(requests)

    def read(self, ranges: list[tuple[Region, int, int]]) -> list[np.ndarray]:
        """Burst reads of ``(region, first index, count)``, pipelined; one array per range."""
        requests, owner = [], []
        for k, (region, index, count) in enumerate(ranges):
            overhead = REPLY_HEAD.size + Opcode.READ.command.reply.size
            for r, i, w in self._split([(region, index, np.zeros(count, np.int64))], overhead):
                reply_bytes = reply_frame_bytes(Opcode.READ, word_format(self.spec, r, i, w.size).total)
                payload = pack_request(Opcode.READ, r, i, w.size)
                requests.append(Request(Opcode.READ, payload, reply_bytes=reply_bytes))
                owner.append(k)
        replies = self.link.exchange(requests)
        parts: list[list[np.ndarray]] = [[] for _ in ranges]
        for k, request, reply in zip(owner, requests, replies):
            parts[k].append(self._words(request, reply))
        return [np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts]

    def _words(self, request: Request, reply: Reply) -> np.ndarray:
        fields, tail = self._parse(Opcode.READ, lambda data: unpack_reply(Opcode.READ, data), reply.data)
        if pack_request(Opcode.READ, *fields) != request.payload:
            raise BadReply(f"the board on {self.url} answered a READ with another address")
        region, index, count = fields
        return self._parse(
            Opcode.READ, lambda data: decode_words(self.spec, Region(region), index, count, data), tail
        )

    def _split(self, writes: list[Write], overhead: int) -> list[Write]:
        """Cut writes into pieces whose payload fits the board's ``max_payload`` (and ours)."""
        room = min(self.identity.max_payload, self._max_payload or self.identity.max_payload) - overhead
        out = []
        for region, index, words in writes:
            sizes = word_format(self.spec, region, index, words.size).nbytes
            start = 0
            while start < words.size:
                ends = np.cumsum(sizes[start:])
                take = max(1, int(np.searchsorted(ends, room, side="right")))
                out.append((region, index + start, words[start : start + take]))
                start += take
        return out

    # -- network --------------------------------------------------------------------------
    def load(
        self, network: Network | BuiltNetwork | QuantizedNetwork, *, clip: bool = False, verify: bool = True
    ):
        """Quantize ``network`` for the board's core, write it, read it back, reset the state.

        A network that does not fit raises :class:`snn.FitError` before anything is
        written, so whatever the board held stays intact. Returns the
        :class:`~snn.quantize.QuantizedNetwork`.
        """
        if isinstance(network, QuantizedNetwork):
            q = network
            problems = (
                fit_problems(q.built, self.spec)
                if q.spec == self.spec
                else ["it was quantized for another core"]
            )
        else:
            built = network if isinstance(network, BuiltNetwork) else network.build()
            problems = fit_problems(built, self.spec)
            q = None if problems else quantize(built, self.spec, clip=clip)
        if problems:
            raise FitError(f"the network does not fit the core on the board at {self.url}: {problems[0]}")
        writes = [(r, i, np.asarray(w, np.int64)) for r, i, w in core_image(q).writes()]
        self.write(writes)
        if verify:
            self.verify(writes)
        self.reset()
        self.loaded = q
        return q

    def verify(self, writes: list[Write]) -> None:
        """Read every range back; write again what differs; :class:`VerifyError` if it persists."""
        todo = _coalesce(writes)
        for _ in range(VERIFY_ATTEMPTS):
            got = self.read([(r, i, w.size) for r, i, w in todo])
            todo = [(r, i, w) for (r, i, w), g in zip(todo, got) if not np.array_equal(w, g)]
            if not todo:
                return
            self.write(todo)
        region, index, _ = todo[0]
        raise VerifyError(f"read-back on {self.url} differs from what was written at {region.name}[{index}]")

    def reset(self) -> None:
        """RESET_STATE: state, traces and timestep to their initial values (weights kept)."""
        self.call(Opcode.RESET_STATE)
        self._records_seen = 0
        self.link.take_records()

    def clear(self) -> None:
        """CLEAR_CONFIG: all weights, parameters and rules to 0."""
        self.call(Opcode.CLEAR_CONFIG)
        self.loaded = None

    def run(self, steps: int | None = None, inputs=None) -> Spikes:
        """Run ``steps`` timesteps from where the core is; return the output spikes.

        ``inputs[t]`` are the source indices that spike at absolute timestep ``t``
        (default: the loaded network's spike sources); ``steps`` defaults to the rest
        of the loaded network's duration. Inputs travel as SPIKES_IN frames ahead of
        STEP commands; lost output records are fetched again with SPIKES_RESEND.
        """
        t = self.status().timestep
        if inputs is None and self.loaded is not None:
            inputs = _csr_inputs(self.loaded.built)
        if steps is None:
            if self.loaded is None:
                raise BoardError("run: give the number of steps (no network loaded through this driver)")
            steps = self.loaded.built.n_steps - t
        chunk = max(1, min(self.identity.input_depth, self.identity.spike_log))
        records: list[SpikeRecord] = []
        end = t + steps
        while t < end:
            k = min(chunk, end - t)
            frames = []
            for step in range(t, t + k):
                sources = np.asarray(
                    inputs[step] if inputs is not None and step < len(inputs) else [], np.int64
                )
                if sources.size:
                    tail = sources.astype(INDEX).tobytes()
                    frames.append(
                        Request(
                            Opcode.SPIKES_IN, pack_request(Opcode.SPIKES_IN, step, sources.size, tail=tail)
                        )
                    )
            self.link.exchange(frames)
            (t, count), _ = self.call(Opcode.STEP, k, device_s=k * self.step_s)
            records += self._collect(count)
        records.sort(key=lambda r: r.timestep)
        steps_out = [np.full(r.neurons.size, r.timestep, np.int64) for r in records]
        neurons = [r.neurons for r in records]
        return Spikes(
            np.concatenate(steps_out or [np.zeros(0, np.int64)]),
            np.concatenate(neurons or [np.zeros(0, np.int64)]),
        )

    def _collect(self, count16: int) -> list[SpikeRecord]:
        """The records up to the device's count (mod 2^16); missing ones are asked again."""
        first = self._records_seen
        last = first + ((count16 - first) & 0xFFFF)
        got = self.link.take_records()
        want = {c & 0xFFFF: c for c in range(first, last)}
        records = [got[c16] for c16 in want if c16 in got]
        missing = [c16 for c16 in want if c16 not in got]
        if missing:
            replies = self.link.exchange(
                [
                    Request(
                        Opcode.SPIKES_RESEND,
                        pack_request(Opcode.SPIKES_RESEND, c16),
                        reply_bytes=reply_frame_bytes(
                            Opcode.SPIKES_RESEND, INDEX.itemsize * self.spec.max_neurons
                        ),
                    )
                    for c16 in missing
                ]
            )
            for r in replies:
                fields, tail = self._parse(
                    Opcode.SPIKES_RESEND, lambda d: unpack_reply(Opcode.SPIKES_RESEND, d), r.data
                )
                counter, timestep, flags, _ = fields
                records.append(
                    SpikeRecord(
                        counter, timestep, SpikeFlag(flags), np.frombuffer(tail, INDEX).astype(np.int64)
                    )
                )
        self._records_seen = last
        return records

    # -- read-back ------------------------------------------------------------------------
    def _sizes(self) -> tuple[int, int]:
        shift, n_inputs, n_neurons = self.read([(Region.CONTROL, Control.WEIGHT_SHIFT, 3)])[0]
        return int(n_inputs), int(n_neurons)

    def read_weights(self) -> CoreWeights:
        """The FF and REC weights in use (rows and columns of the inputs and neurons in use)."""
        n_inputs, n = self._sizes()
        m = self.spec.max_neurons
        ff, rec = self.read([(Region.FF_WEIGHT, 0, n_inputs * m), (Region.REC_WEIGHT, 0, n * m)])
        return CoreWeights(ff.reshape(n_inputs, m)[:, :n], rec.reshape(n, m)[:, :n])

    def read_state(self) -> dict[str, np.ndarray | int]:
        """Neuron state (``v``, ``i_e``, ``i_i``, ``ref``), STDP traces (keyed by
        TraceKind name, lower case) and the timestep."""
        n_inputs, n = self._sizes()
        rows = max(self.spec.max_inputs, self.spec.max_neurons)
        state, traces, (step,) = self.read(
            [
                (Region.NEURON_STATE, 0, n * STATE_STRIDE),
                (Region.TRACE, 0, len(TraceKind) * rows),
                (Region.CONTROL, Control.STEP_COUNT, 1),
            ]
        )
        state = state.reshape(n, STATE_STRIDE)
        traces = traces.reshape(len(TraceKind), rows)
        out: dict[str, np.ndarray | int] = {field.name.lower(): state[:, field] for field in NeuronState}
        for kind in TraceKind:
            out[kind.name.lower()] = traces[kind, : n_inputs if kind is TraceKind.FF_PRE else n]
        out["timestep"] = int(step)
        return out


def _coalesce(writes: list[Write]) -> list[Write]:
    """Join writes that continue each other in the same region (longer frames)."""
    runs: list[tuple[Region, int, list[np.ndarray]]] = []
    end = None
    for region, index, words in writes:
        words = np.asarray(words, np.int64).ravel()
        if runs and (region, index) == end:
            runs[-1][2].append(words)
        else:
            runs.append((region, index, [words]))
        end = (region, index + words.size)
    return [(region, index, np.concatenate(parts)) for region, index, parts in runs]


def _csr_inputs(built: BuiltNetwork) -> list[np.ndarray]:
    """The network's input spikes as one array of source indices per timestep."""
    return [
        built.input_ids[built.input_ptr[t] : built.input_ptr[t + 1]] for t in range(built.input_ptr.size - 1)
    ]
