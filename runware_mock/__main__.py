import sys

from runware_mock.cli import main

sys.exit(main())
