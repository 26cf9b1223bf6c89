"""``python -m ticl_fpga`` runs the command line."""

import sys

from ticl_fpga.cli import main

sys.exit(main())
