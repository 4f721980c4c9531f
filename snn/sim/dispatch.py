"""``snn.simulate``: one entry point for every backend (numba on the CPU, or torch).

The numba engine is the default and needs nothing beyond the base install; torch is an
optional extra and is imported only when ``backend="torch"`` asks for it.
"""

from __future__ import annotations

from ..errors import NetworkError
from ..network import Network
from .results import Results
from .simulator import simulate as _simulate_numba

BACKENDS = ("numba", "torch")


def simulate(
    network: Network,
    mode: str = "float",
    duration: float | None = None,
    *,
    backend: str = "numba",
    device: str = "cpu",
    **kwargs,
) -> Results | list[Results]:
    """Run ``network`` for ``duration`` ms (default ``network.duration``) and return its results.

    ``backend="numba"`` (default): the event-driven CPU kernels (:class:`snn.Simulator`;
    ``device`` must be ``"cpu"``). ``backend="torch"``: :class:`snn.torch_backend.TorchSimulator`
    on ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...), which also takes ``batch``,
    ``inputs`` and ``propagation`` and returns a list of results when batched. Other keyword
    arguments go to the backend's simulator. Both backends agree bit for bit in fixed mode.
    """
    if backend == "numba":
        if str(device) != "cpu":
            raise NetworkError(
                f"backend='numba' runs on the CPU only, got device={device!r}; use backend='torch'"
            )
        return _simulate_numba(network, mode, duration, **kwargs)
    if backend == "torch":
        try:
            from ..torch_backend import simulate as simulate_torch
        except ModuleNotFoundError as exc:
            if exc.name != "torch":
                raise
            raise NetworkError("backend='torch' needs PyTorch: pip install torch") from None
        return simulate_torch(network, mode, duration, device=device, **kwargs)
    raise NetworkError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
