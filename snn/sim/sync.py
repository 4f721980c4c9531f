"""Atomic loads, stores and read-modify-writes on int64 arrays, for the threads' spin barrier.

numba has no atomics in Python syntax, and a plain load in a spin loop may be hoisted
out of the loop by LLVM (nothing in the loop writes it): these intrinsics emit LLVM's
atomic instructions (acquire loads, release stores, sequentially consistent add and
compare-exchange), which the optimizer neither hoists nor reorders across. ``pause``
is the x86 spin-wait hint (nothing elsewhere); ``sched_yield`` gives the core away while
a waiting thread's partner is descheduled (a busy machine).
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _slot_ptr(context, builder, sig, args):
    arr = context.make_array(sig.args[0])(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, sig.args[0], arr, [args[1]], wraparound=False)


def _check(arr, idx):
    return isinstance(arr, types.Array) and arr.dtype == types.int64 and isinstance(idx, types.Integer)


@intrinsic
def load_acquire(typingctx, arr, idx):
    """``arr[idx]`` as an atomic acquire load."""
    if not _check(arr, idx):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_ptr(context, builder, sig, args)
        return builder.load_atomic(ptr, "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def store_release(typingctx, arr, idx, val):
    """``arr[idx] = val`` as an atomic release store."""
    if not _check(arr, idx) or not isinstance(val, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_ptr(context, builder, sig, args)
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(value, ptr, "release", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, val), codegen


@intrinsic
def fetch_add(typingctx, arr, idx, val):
    """Atomically ``arr[idx] += val``; returns the old value."""
    if not _check(arr, idx) or not isinstance(val, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_ptr(context, builder, sig, args)
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, value, "seq_cst")

    return types.int64(arr, idx, val), codegen


@intrinsic
def compare_exchange(typingctx, arr, idx, expected, new):
    """Atomically ``if arr[idx] == expected: arr[idx] = new``; returns the old value."""
    if not _check(arr, idx) or not isinstance(expected, types.Integer) or not isinstance(new, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_ptr(context, builder, sig, args)
        exp = context.cast(builder, args[2], sig.args[2], types.int64)
        val = context.cast(builder, args[3], sig.args[3], types.int64)
        pair = builder.cmpxchg(ptr, exp, val, "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)

    return types.int64(arr, idx, expected, new), codegen


@intrinsic
def pause(typingctx):
    """The spin-wait hint of x86 (``pause``); nothing on other machines."""

    def codegen(context, builder, sig, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause"
            )
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def sched_yield(typingctx):
    """POSIX ``sched_yield()``: let another runnable thread have this core."""

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield"
        )
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def cycles(typingctx):
    """The CPU's cycle counter (``rdtsc`` on x86; 0 where LLVM has none): wall time in ticks."""

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(64), []), "llvm.readcyclecounter"
        )
        return builder.call(fn, [])

    return types.int64(), codegen


@njit(cache=True)
def _cycles_now():
    return cycles()


def ticks_per_second(seconds: float = 0.002) -> float:
    """Calibrate :func:`cycles` against ``time.perf_counter`` (0.0 where there is no counter)."""
    import time

    _cycles_now()
    t0, c0 = time.perf_counter(), _cycles_now()
    while time.perf_counter() - t0 < seconds:
        pass
    t1, c1 = time.perf_counter(), _cycles_now()
    return max(c1 - c0, 0) / (t1 - t0)


# spins with ``pause`` (about 25 ns each on the 2-core EPYC) before a waiting thread starts
# yielding its core (a yield there: about 0.4 us)
SPIN_BEFORE_YIELD = 1000
# arrival: a thread waits this many yields for its partners to enter the parallel region
# (they are started together; far more than that means they run one after the other)
ARRIVAL_YIELDS = 100000
# the lockstep never gives up: all partners have arrived, so each one is running;
# this bound only turns a bug into an error instead of a hang (hours)
STEP_WAIT_MAX = 1 << 40

# slots of the sync array, each on its own cache line (8 int64)
LINE = 8
ARRIVED, MODE = 0, LINE  # arrivals; decision (0 undecided, GO, ABORT)
GO, ABORT = 1, 2
# contention: every sync[WINDOW] steps worker 0 compares the window's ticks with LIMIT (both
# set by the caller; LIMIT 0: never); after SLOW_WINDOWS slower windows in a row (one alone
# may be a hiccup), it writes STOP (a step) and all workers stop after that step
LIMIT, WINDOW = 2 * LINE, 2 * LINE + 1
STOP, WIN_T0, WIN_SLOW, WIN_STEP0 = 3 * LINE, 3 * LINE + 1, 3 * LINE + 2, 3 * LINE + 3
SLOW_WINDOWS = 2
STEP0 = 4 * LINE  # STEP0 + LINE * w: steps published by worker w


def sync_array(n_workers: int, limit: int = 0, window: int = 32):
    """A fresh sync array for ``n_workers``; ``limit``: most ticks a window of ``window`` steps may take."""
    import numpy as np

    out = np.zeros(STEP0 + LINE * max(n_workers, 1), np.int64)
    out[LIMIT], out[WINDOW] = limit, max(window, 1)
    return out


@njit(cache=True)
def arrive(sync, n_workers):
    """Enter the lockstep: True when all ``n_workers`` run at the same time (then every one
    of them gets True), False when they do not (every one gets False and must do nothing).
    """
    fetch_add(sync, ARRIVED, 1)
    waited = 0
    while load_acquire(sync, ARRIVED) < n_workers:
        waited += 1
        if waited <= SPIN_BEFORE_YIELD:
            pause()
        else:
            sched_yield()
            if waited > SPIN_BEFORE_YIELD + ARRIVAL_YIELDS:
                break
    decision = GO if load_acquire(sync, ARRIVED) >= n_workers else ABORT
    compare_exchange(sync, MODE, 0, decision)
    return load_acquire(sync, MODE) == GO


@njit(cache=True)
def publish(sync, w, step):
    """Worker ``w`` has finished its part of ``step`` (steps count from 1 in a call).

    Worker 0 first asks all to stop after ``step`` when SLOW_WINDOWS windows in a row were
    slow: a window of WINDOW steps is slow when it has taken more than LIMIT ticks (the
    caller's estimate of one thread's time for it), checked every 4 steps, so that a slow
    window ends after about LIMIT ticks however slow the steps are.
    """
    if w == 0 and sync[LIMIT] > 0:
        if step == 1:
            sync[WIN_T0], sync[WIN_STEP0] = cycles(), 0
        elif step % 4 == 0:
            now = cycles()
            if now - sync[WIN_T0] > sync[LIMIT]:
                sync[WIN_SLOW] += 1
                sync[WIN_T0], sync[WIN_STEP0] = now, step
                if sync[WIN_SLOW] >= SLOW_WINDOWS:
                    store_release(sync, STOP, step)
            elif step - sync[WIN_STEP0] >= sync[WINDOW]:
                sync[WIN_SLOW] = 0
                sync[WIN_T0], sync[WIN_STEP0] = now, step
    store_release(sync, STEP0 + LINE * w, step)


@njit(cache=True)
def stop_requested(sync, step):
    """After :func:`wait_all` of ``step``: True when every worker is to stop after ``step``."""
    stop = load_acquire(sync, STOP)
    return 0 < stop <= step


@njit(cache=True)
def wait_all(sync, n_workers, step):
    """Wait until every worker has published ``step``; False only after ``STEP_WAIT_MAX`` tries."""
    for u in range(n_workers):
        waited = 0
        while load_acquire(sync, STEP0 + LINE * u) < step:
            waited += 1
            if waited <= SPIN_BEFORE_YIELD:
                pause()
            else:
                sched_yield()
                if waited > STEP_WAIT_MAX:
                    return False
    return True
