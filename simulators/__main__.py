"""``python -m simulators --devices N ...``: see simulators/cli.py and simulators/README.md."""

import sys

from simulators.cli import main

if __name__ == "__main__":
    sys.exit(main())
