"""``python -m app`` and the ``newsdesk`` console script: the CLI, with the garbage collector set
(``app.collector``) and langsmith's generated API types deferred (``app.deferred_imports``) before anything heavy is
imported."""

from app import collector, deferred_imports


def main() -> None:
    collector.for_a_command()
    deferred_imports.install()
    from app.cli import cli  # after both: importing it made a third of the collections

    try:
        cli()
    finally:
        collector.at_exit()


if __name__ == "__main__":
    main()
