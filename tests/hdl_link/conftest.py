"""The link tests import the shared test helpers of tests/ (random networks, the fixed-mode
reference of test_board) and of tests/hdl (the cocotb runner)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "hdl")]
