"""``python -m builders.publish``: the command; the code is :mod:`builders.core.publish`."""

import sys

from builders.core.publish import main

if __name__ == "__main__":
    sys.exit(main())
