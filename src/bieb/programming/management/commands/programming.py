"""``bieb programming``: the background side of programming.

    bieb programming jobs     run the round now (expired offers and payments, reminders)

The task worker (``bieb circulation worker``) runs the round every quarter of an hour.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser

from bieb.programming import tasks


class Command(BaseCommand):
    help = "Programming background work: the round of expired offers and reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="{jobs}")
        subcommands.add_parser("jobs", help="run the round now and print its report")

    def handle(self, *args, **options) -> None:
        if options["subcommand"] == "jobs":
            self.stdout.write(json.dumps(tasks.run_round(), indent=2))
        else:
            self.print_help("bieb", "programming")
