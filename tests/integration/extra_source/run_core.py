"""`python -m tests.integration.extra_source.run_core ARGS`: `python -m core ARGS` in a
process that also has the CSV Shop source (as a deployment with an extra source would)."""

import sys

from tests.integration.extra_source import csvshop

csvshop.register()

from core.cli import main  # noqa: E402 - the source is registered before the CLI runs

sys.exit(main(sys.argv[1:]))
