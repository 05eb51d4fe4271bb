"""`python -m llmkube_iac ...` is `llmkube-iac ...` (works where the console script is not on PATH)."""

import sys

from .cli import main

sys.exit(main())
