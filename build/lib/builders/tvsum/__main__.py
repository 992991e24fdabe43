import sys

from builders.tvsum import main

sys.exit(main())
