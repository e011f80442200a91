import sys

from draft.cli import main

sys.exit(main())
