import sys

from migcheck._entry import main

sys.exit(main())
