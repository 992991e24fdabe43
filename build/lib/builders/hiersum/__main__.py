import sys

from builders.hiersum import main

sys.exit(main())
