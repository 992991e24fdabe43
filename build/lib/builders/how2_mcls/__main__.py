import sys

from builders.how2_mcls import main

sys.exit(main())
