import sys

from builders.vmsmo import main

sys.exit(main())
