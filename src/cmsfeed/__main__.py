"""`python -m cmsfeed` runs the CLI."""

from cmsfeed.cli import main

main()
