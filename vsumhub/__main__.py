import sys

from vsumhub.cli import main

sys.exit(main())
