"""``python -m app``: the same CLI as the ``newsdesk`` console script."""

from app.cli import main

main()
