"""``python -m crnt_devstack.mailcatcher``."""

import sys

from crnt_devstack.mailcatcher.cli import main

sys.exit(main())
