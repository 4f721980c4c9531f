"""Parameter sweeps and ensembles of one network on Dask: :func:`sweep` (``snn sweep`` on the command line).

See docs/sweeps.md. :mod:`.params` names and applies overrides, :mod:`.runner` is what a
worker runs, :mod:`.table` writes and resumes the table, :mod:`.plot` draws 1-D/2-D sweeps.
"""

from .core import SweepResult, sweep
from .params import parse_param, parse_seeds

__all__ = ["SweepResult", "parse_param", "parse_seeds", "sweep"]
