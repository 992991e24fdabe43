import sys

from builders.wikihow_summaries import main

sys.exit(main())
