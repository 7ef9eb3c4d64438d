"""``python -m app`` and the ``newsdesk`` console script: the CLI, with the garbage collector set before anything
heavy is imported (``app.collector``)."""

from app import collector


def main() -> None:
    collector.for_a_command()
    from app.cli import cli  # after the thresholds: importing it made a third of the collections

    try:
        cli()
    finally:
        collector.at_exit()


if __name__ == "__main__":
    main()
