import sys

from builders.qvhighlights import main

sys.exit(main())
