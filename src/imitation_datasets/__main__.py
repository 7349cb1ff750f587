"""``python -m imitation_datasets`` runs the command line."""

import sys

from imitation_datasets.cli import main

sys.exit(main())
