import sys

from builders.bliss import main

sys.exit(main())
