"""`python -m farmwatch.collector.cli`: the same as the `farmwatch-collector` script."""
import sys

from farmwatch.collector.program import main

sys.exit(main())
