"""``python -m snn`` is the ``snn`` console script."""

import sys

from .cli import main

sys.exit(main())
