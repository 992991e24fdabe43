import sys

from builders.youtube_highlights import main

sys.exit(main())
