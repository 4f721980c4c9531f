"""numba's on-disk cache of the simulator's kernels, kept in step with their sources.

numba keys a cached function on its own source file only: ``run_chunk`` (kernels_float.py)
embeds the machine code of the functions it calls in kernels_common.py, sync.py and
prefetch.py, and keeps running that old code after one of those files changes, until its
own file changes too. :func:`refresh` keeps a digest of all the kernel sources beside the
cache and deletes the kernels' cache files when the digest differs, so an edited or
upgraded tree never runs stale kernels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# every module of this package with ``njit(cache=True)`` functions, callers and callees
KERNEL_MODULES = ("intmath", "sync", "prefetch", "kernels_common", "kernels_float", "kernels_fixed")
STAMP = "snn-kernels.sha256"

_done = False


def sources_digest(folder: Path = Path(__file__).parent) -> str:
    """SHA-256 of the kernel modules' sources in ``folder``, in :data:`KERNEL_MODULES` order."""
    h = hashlib.sha256()
    for name in KERNEL_MODULES:
        h.update((folder / f"{name}.py").read_bytes())
    return h.hexdigest()


def default_cache_dir() -> Path | None:
    """Where numba keeps the kernels' cache (``__pycache__`` beside them, or NUMBA_CACHE_DIR's
    place); None where this numba does not say (a private attribute of its dispatcher)."""
    from . import kernels_float

    path = getattr(getattr(kernels_float.run_chunk, "_cache", None), "_cache_path", None)
    return Path(path) if path else None


def refresh(cache_dir: Path | None = None, digest: str | None = None) -> bool:
    """Delete the cached kernels in ``cache_dir`` unless they were compiled from these sources
    (``digest``); returns True when it deleted. A cache folder that cannot be written is left
    alone (numba then compiles in memory)."""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    if cache_dir is None:
        return False
    digest = sources_digest() if digest is None else digest
    stamp = cache_dir / STAMP
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    try:
        for name in KERNEL_MODULES:
            for path in cache_dir.glob(f"{name}.*.nb[ic]"):
                path.unlink(missing_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        return False
    return True


def refresh_once() -> None:
    """:func:`refresh` the first time a simulator is made in this process."""
    global _done
    if not _done:
        _done = True
        refresh()
