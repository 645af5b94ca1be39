"""`python -m dlexpert ...`: the same command line as `dlexpert ...` (torchrun launches workers this way)."""

from dlexpert.cli.main import main

main()
