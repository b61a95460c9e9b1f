"""`python -m farmwatch.collector.cli`: the same as the `farmwatch-collector` script."""
import sys

from farmwatch.collector.cli import main

sys.exit(main())
