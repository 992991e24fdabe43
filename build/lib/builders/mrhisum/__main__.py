import sys

from builders.mrhisum import main

sys.exit(main())
