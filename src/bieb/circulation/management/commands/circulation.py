"""``bieb circulation``: the background side of circulation.

    bieb circulation worker [--interval SECONDS]   run the task worker (notices, nightly round)
    bieb circulation jobs [--date YYYY-MM-DD]      run the nightly round now and print its report

The worker is django-tasks' database worker; at start it queues the nightly round
(``tasks.daily_jobs`` at 02:00 Amsterdam time) and subscriptions' round (03:00: billing,
direct debits, dunning) and programming's quarter-hourly round (expired offers, reminders) and the community's
morning round (handovers not picked up) unless they are queued, and each round queues its next. ``jobs`` is for cron or for running a day by hand; it is safe to run twice (renewals
and expiries are conditional updates, notices are unique per loan/hold and date).
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.circulation import tasks
from bieb.community import tasks as community_tasks
from bieb.programming import tasks as programming_tasks
from bieb.subscriptions import tasks as subscription_tasks


class Command(BaseCommand):
    help = "Circulation background work: the task worker and the nightly round."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="{worker,jobs}")
        worker = subcommands.add_parser("worker", help="run the task worker (blocks)")
        worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        worker.add_argument(
            "--batch", action="store_true", help="run what is due now, then stop (for tests)"
        )
        jobs = subcommands.add_parser("jobs", help="run the nightly round now")
        jobs.add_argument("--date", default=None, help="the day to run it for (YYYY-MM-DD)")

    def handle(self, *args, **options) -> None:
        if options["subcommand"] == "worker":
            tasks.schedule_daily_jobs()
            subscription_tasks.schedule_daily_jobs()
            programming_tasks.schedule_round()
            community_tasks.schedule_round()
            arguments = ["--interval", str(options["interval"]), "--no-reload"]
            if options["batch"]:
                arguments += ["--batch", "--no-startup-delay"]
            call_command("db_worker", *arguments, verbosity=options["verbosity"])
        elif options["subcommand"] == "jobs":
            day = None
            if options["date"]:
                try:
                    day = dt.date.fromisoformat(options["date"])
                except ValueError as exc:
                    raise CommandError("--date takes YYYY-MM-DD") from exc
            self.stdout.write(json.dumps(tasks.run_daily_jobs(day), indent=2))
        else:
            self.print_help("bieb", "circulation")
