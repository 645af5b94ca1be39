"""The command line: one thin file per command, assembled in `main.py`."""
