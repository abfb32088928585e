"""``python -m liqmap`` runs the CLI."""

from liqmap.cli import main

main()
