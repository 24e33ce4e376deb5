"""``python -m lib_qfix`` is the ``qfix`` command."""

import sys

from lib_qfix.cli import main

sys.exit(main())
