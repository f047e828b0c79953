import sys

from migcheck.cli import main

sys.exit(main())
