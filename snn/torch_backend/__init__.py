"""The torch backend: batched float and hardware-exact fixed-mode simulation on a CPU or GPU.

``snn.simulate(network, mode, backend="torch", device="cuda")`` runs through
:func:`simulate`; :class:`TorchSimulator` gives step-wise control and the batched state.
Surrogate-gradient training that deploys to the core lives in
:mod:`snn.torch_backend.training` (imported on demand). Needs PyTorch (the ``torch`` extra).
"""

from .engine import TorchSimulator, simulate

__all__ = ["TorchSimulator", "simulate"]
