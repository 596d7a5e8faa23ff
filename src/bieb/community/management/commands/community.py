"""``bieb community``: the background side of the community library.

    bieb community jobs [--date YYYY-MM-DD]   run the daily round now (handovers not picked up)

The task worker (``bieb circulation worker``) runs the round every morning at 07:00.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.community import tasks


class Command(BaseCommand):
    help = "Community background work: the daily round of handovers not picked up."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="{jobs}")
        jobs = subcommands.add_parser("jobs", help="run the daily round now")
        jobs.add_argument("--date", default=None, help="the day to run it for (YYYY-MM-DD)")

    def handle(self, *args, **options) -> None:
        if options["subcommand"] != "jobs":
            self.print_help("bieb", "community")
            return
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date takes YYYY-MM-DD") from exc
        self.stdout.write(json.dumps(tasks.run_round(day), indent=2))
