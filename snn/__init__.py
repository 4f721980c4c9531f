"""snn: describe a LIF network once; simulate it, and run it bit-exactly on an FPGA core."""

from . import io, nir  # nir: snn.nir.load/save (the nir package is imported only when used)
from .connectivity import AllToAll, FixedInDegree, FixedProbability, OneToOne, Sparse
from .core_spec import CoreSpec
from .errors import FitError, NetworkError
from .network import Network, Projection
from .plasticity import PairSTDP, WindowSTDP
from .populations import LIFGroup, PoissonSource, SpikeSource
from .quantize import quantize
from .sim import Results, Simulator, simulate
from .sweep import sweep
from .trials import trial, trial_seed
from .values import Normal, Uniform

__version__ = "0.1.0"

__all__ = [
    "AllToAll",
    "FitError",
    "FixedInDegree",
    "FixedProbability",
    "LIFGroup",
    "Network",
    "NetworkError",
    "Normal",
    "OneToOne",
    "PairSTDP",
    "PoissonSource",
    "Projection",
    "Sparse",
    "SpikeSource",
    "Uniform",
    "WindowSTDP",
    "CoreSpec",
    "Results",
    "Simulator",
    "quantize",
    "simulate",
    "sweep",
    "trial",
    "trial_seed",
    "__version__",
    "io",
    "nir",
]
