"""The hdl tests import the shared test helpers of tests/ (random networks, reference core)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
