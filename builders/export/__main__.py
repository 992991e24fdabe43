import sys

from builders.export import main

sys.exit(main())
