import sys

from builders.eccv16 import main

sys.exit(main())
