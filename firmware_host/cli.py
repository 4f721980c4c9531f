"""``snn board info|load|run|read|sim``: drive a core over a serial port, or the simulated one.

``--port /dev/ttyUSB0`` (any pyserial URL) talks to a board; ``--port sim`` starts a
simulated core on a pseudo-terminal for the duration of the command, so the same
commands work without a board; ``--port sim-rtl`` serves the gateware itself (the link
and a core of ``--rtl-size`` inputs and neurons) running in the Amaranth simulator.
``snn board sim`` keeps one running and prints its port.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``board`` and its subcommands."""
    board = subparsers.add_parser("board", help="drive the core on a board (or the simulated one) over UART")
    sub = board.add_subparsers(dest="board_command", metavar="ACTION", required=True)

    def action(name: str, help_: str, func, network: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        if network == "required":
            p.add_argument("network", metavar="NETWORK", type=Path, help="network file (.toml)")
        elif network == "optional":
            p.add_argument("network", metavar="NETWORK", type=Path, nargs="?", help="load this network first")
        p.add_argument(
            "--port",
            required=True,
            help=f"serial port or pyserial URL, 'sim' for the simulated core, '{RTL_PORT}' for the simulated gateware",
        )
        p.add_argument(
            "--rtl-size",
            type=int,
            default=None,
            help=f"inputs and neurons of the core behind --port {RTL_PORT} "
            "(default: the smallest power of two >= 8 that holds the network, else 16)",
        )
        p.add_argument("--baud", type=int, default=115200, help="line rate (default 115200)")
        p.add_argument(
            "--timeout", type=float, default=0.2, help="base reply time-out in seconds (default 0.2)"
        )
        _add_faults(p)
        p.set_defaults(func=_guarded(func))
        return p

    action("info", "identify the core: protocol version, CoreSpec, clock, buffers, status", run_info)
    action(
        "load",
        "quantize a network for the board's core, write it and verify the read-back",
        run_load,
        "required",
    )
    run = action(
        "run",
        "load a network and run it for its duration, its sources streamed as input",
        run_run,
        "required",
    )
    run.add_argument("--steps", type=int, help="timesteps to run (default: the network's duration)")
    run.add_argument("--save", type=Path, help="write the output spikes to this .npz (steps, neurons)")
    run.add_argument("--plot", type=Path, help="draw a raster of the output spikes into this image file")
    read = action("read", "read weights or state back from the core", run_read, "optional")
    read.add_argument(
        "--what", choices=("weights", "state"), default="weights", help="what to read (default weights)"
    )
    read.add_argument("--save", type=Path, help="write what was read to this .npz")
    sim = sub.add_parser("sim", help="serve a simulated core on a pseudo-terminal until interrupted")
    sim.add_argument("--baud", type=int, help="pace the line like a UART at this rate (default: no pacing)")
    _add_faults(sim)
    sim.set_defaults(func=_guarded(run_sim), board_command="sim")


def _add_faults(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--faults",
        metavar="SPEC",
        help="rehearse a noisy cable on --port sim: fault rates per byte such as "
        "drop=0.01,dup=0.01,flip=0.01 (also truncate=, delay=, per=frame, delay_ms=, seed=)",
    )


def _fault_rates(args: argparse.Namespace):
    """The ``--faults`` option read (None when absent); only ``--port sim`` takes it."""
    from firmware_host.transports import FaultRates, FaultSpecError

    if getattr(args, "faults", None) is None:
        return None
    if getattr(args, "port", "sim") != "sim":
        raise FaultSpecError(f"--faults applies to --port sim only, not --port {args.port}")
    return FaultRates.parse(args.faults)


def _report_faults(server) -> None:
    """One line on what the injector did (``--faults``)."""
    c, rates = server.device.counts, server.device.rates
    print(
        f"faults injected ({rates.describe()}): {c.dropped} dropped, {c.duplicated} duplicated, "
        f"{c.flipped} flipped, {c.truncated} truncated, {c.delayed} delayed, in {c.bytes:,} bytes"
    )


def _guarded(func):
    """Link problems become one line on stderr and exit status 2."""

    def wrapper(args: argparse.Namespace) -> int:
        import serial

        from firmware_host.errors import BoardError
        from firmware_host.transports import FaultSpecError

        try:
            status = func(args)
            if getattr(args, "fault_server", None) is not None:
                _report_faults(args.fault_server)
            return status
        except (BoardError, serial.SerialException, FaultSpecError) as exc:
            print(f"snn board {args.board_command}: error: {exc}", file=sys.stderr)
            return 2

    return wrapper


RTL_PORT = "sim-rtl"
RTL_TIMEOUT = 2.0  # s: the simulated gateware answers far slower than a board


@contextmanager
def _open(args: argparse.Namespace):
    from firmware_host.board import Board

    rates = _fault_rates(args)
    if rates:
        from firmware_host.transports import link_options, serve_simulated

        server = serve_simulated(baud=args.baud, faults=rates)
        try:
            with Board(server.port, args.baud, timeout=args.timeout, **link_options(rates)) as board:
                yield board
        finally:
            server.close()
            args.fault_server = server  # reported after the command's own output
        return
    if args.port != RTL_PORT:
        with Board(args.port, args.baud, timeout=args.timeout) as board:
            yield board
        return
    from snn.core_spec import CoreSpec
    from snn.plugins import contribution

    serve_rtl = contribution("snn.ports", RTL_PORT, f"--port {RTL_PORT} (the gateware, from hdl)")
    size = args.rtl_size or _rtl_size_for(getattr(args, "network", None))
    server = serve_rtl(CoreSpec(max_inputs=size, max_neurons=size))
    try:
        with Board(server.port, args.baud, timeout=max(args.timeout, RTL_TIMEOUT)) as board:
            yield board
    finally:
        server.close()


def _rtl_size_for(path: Path | None) -> int:
    """A simulated core just large enough for the network: simulation time grows with it."""
    if path is None:
        return 16
    from snn.nir import load_file

    net = load_file(path)  # a network file or a NIR graph with its dt (snn.nir)
    need = max(net.n_sources, net.n_neurons, 8)
    return 1 << (need - 1).bit_length()


def run_info(args: argparse.Namespace) -> int:
    """``snn board info``: what the board says about itself."""
    with _open(args) as board:
        ident, status = board.identity, board.status()
    spec = ident.spec
    print(f"port {args.port} at {args.baud} baud: snn core, protocol version {ident.version}")
    print(f"core: {spec.max_inputs} inputs x {spec.max_neurons} neurons, STDP {'on' if spec.stdp else 'off'}")
    widths = ", ".join(f"{k}={v}" for k, v in spec.to_dict().items() if k.endswith("_bits"))
    print(f"arithmetic: {widths}, max_delay={spec.max_delay}")
    clock = f"{ident.clock_hz / 1e6:g} MHz" if ident.clock_hz else "simulated"
    print(
        f"clock {clock}; link: {ident.credits} frames in flight, payload up to {ident.max_payload} B, "
        f"inputs buffered {ident.input_depth} steps ahead, {ident.spike_log} spike records kept"
    )
    print(f"status: {'running' if status.running else 'halted'} at timestep {status.timestep}")
    return 0


def _load(board, path: Path):
    from snn.nir import load_file

    network = load_file(path)  # a network file or a NIR graph with its dt (snn.nir)
    t0 = time.perf_counter()
    q = board.load(network)
    built = q.built
    print(
        f"loaded {path}: {built.n_sources} inputs, {built.n_neurons} neurons, {built.n_synapses} synapses, "
        f"weight shift {q.weight_shift}; read-back verified ({time.perf_counter() - t0:.2f} s)"
    )
    return network, q


def run_load(args: argparse.Namespace) -> int:
    """``snn board load``."""
    with _open(args) as board:
        _load(board, args.network)
    return 0


def run_run(args: argparse.Namespace) -> int:
    """``snn board run``: load, run, print a summary (and save or plot the spikes)."""
    with _open(args) as board:
        network, q = _load(board, args.network)
        t0 = time.perf_counter()
        spikes = board.run(args.steps)
        wall = time.perf_counter() - t0
        stats = board.link.stats
    built = q.built
    steps = args.steps if args.steps is not None else built.n_steps
    print(
        f"ran {steps} steps ({steps * built.dt:g} ms of network time) in {wall:.2f} s; {len(spikes)} spikes"
    )
    for name, sl in built.lif_slices.items():
        count = int(np.count_nonzero((spikes.neurons >= sl.start) & (spikes.neurons < sl.stop)))
        rate = count / max(sl.stop - sl.start, 1) / max(steps * built.dt / 1000.0, 1e-12)
        print(f"  {name}: {count} spikes, {rate:.1f} Hz per neuron")
    print(
        f"link: {stats.frames_sent} frames sent, {stats.resent} resent, {stats.bad_frames} corrupted frames received"
    )
    if args.save:
        np.savez(args.save, steps=spikes.steps, neurons=spikes.neurons, dt=built.dt)
        print(f"spikes written to {args.save}")
    if args.plot:
        _raster(spikes, built, args.plot)
        print(f"raster drawn to {args.plot}")
    return 0


def _raster(spikes, built, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.scatter(spikes.steps * built.dt, spikes.neurons, s=2, c="k", marker="|")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title("output spikes from the core")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_read(args: argparse.Namespace) -> int:
    """``snn board read``: weights (per projection when a network is given) or state."""
    with _open(args) as board:
        q = _load(board, args.network)[1] if args.network else None
        if args.what == "weights":
            weights = board.read_weights()
            data = {"ff": weights.ff, "rec": weights.rec}
            print(
                f"FF {weights.ff.shape[0]} x {weights.ff.shape[1]}, REC {weights.rec.shape[0]} x {weights.rec.shape[1]}"
            )
            if q is not None:
                csr = weights.csr(q.built)
                for name in q.built.network.projections:
                    w = q.weights_mV(q.built.projection_weights(name, csr))
                    data[name] = w
                    print(f"  {name}: {w.size} weights, {w.min():g} .. {w.max():g} mV, mean {w.mean():g} mV")
        else:
            data = {k: np.asarray(v) for k, v in board.read_state().items()}
            print(f"timestep {int(data['timestep'])}; {data['v'].size} neurons")
            for key in ("v", "i_e", "i_i", "ref"):
                print(f"  {key}: {data[key].min()} .. {data[key].max()} LSB")
    if args.save:
        np.savez(args.save, **data)
        print(f"written to {args.save}")
    return 0


def run_sim(args: argparse.Namespace) -> int:
    """``snn board sim``: a simulated core on a pty, until Ctrl-C."""
    from firmware_host.transports import serve_simulated

    server = serve_simulated(baud=args.baud, faults=_fault_rates(args))
    print(f"simulated core on {server.port}; use --port {server.port} (Ctrl-C to stop)", flush=True)
    try:
        while server.error is None:
            time.sleep(0.2)
        print(f"snn board sim: error: {server.error}", file=sys.stderr)
        return 2
    finally:
        server.close()
