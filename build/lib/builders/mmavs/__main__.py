import sys

from builders.mmavs import main

sys.exit(main())
