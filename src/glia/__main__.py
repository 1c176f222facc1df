"""``python -m glia``: the same as the ``glia`` command."""

from .cli import main

main()
