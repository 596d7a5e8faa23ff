"""``bieb billing``: the money side of Abonnement 2.0.

    bieb billing run --date YYYY-MM-DD                     invoices and credit notes due by then
    bieb billing sepa-export --date YYYY-MM-DD --out FILE  the pain.008 collection file
    bieb billing sepa-import FILE                          the bank's returns and rejects
    bieb billing dunning [--date YYYY-MM-DD]               retries, reminders, switching off
    bieb billing settle --month YYYY-MM [--rule R]         share a month's money between libraries
    bieb billing jobs [--date YYYY-MM-DD]                  the nightly round (tasks.run_daily_jobs)
    bieb billing passes --municipality CBS --valid-until D FILE  a municipality's stadspas list

Each prints a JSON report. All are safe to run twice: a second run creates nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.core.errors import DomainError


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Billing: the billing run, SEPA files, dunning and settlement between libraries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", metavar="{run,sepa-export,sepa-import,dunning,settle,jobs,passes}"
        )
        run = sub.add_parser("run", help="create the invoices and credit notes due by a date")
        run.add_argument("--date", required=True)
        export = sub.add_parser("sepa-export", help="write the direct-debit collection file")
        export.add_argument("--date", required=True, help="the collection date")
        export.add_argument("--out", required=True, help="the pain.008.001.02 file to write")
        imp = sub.add_parser("sepa-import", help="read the bank's return or reject file")
        imp.add_argument("file")
        dun = sub.add_parser("dunning", help="retries, reminders and switching off")
        dun.add_argument("--date", default=None)
        settle = sub.add_parser("settle", help="share a month's money between organisations")
        settle.add_argument("--month", required=True, help="YYYY-MM")
        settle.add_argument("--rule", default=None, help="municipality or usage")
        jobs = sub.add_parser("jobs", help="run the nightly round now")
        jobs.add_argument("--date", default=None)
        passes = sub.add_parser("passes", help="load a municipality's valid stadspas codes")
        passes.add_argument("--municipality", required=True, help="CBS code, e.g. GM0363")
        passes.add_argument("--valid-until", required=True)
        passes.add_argument("file", help="one code per line")

    def handle(self, *args, **options) -> None:
        command = options["subcommand"]
        try:
            if command == "run":
                from bieb.subscriptions import invoicing

                report = invoicing.billing_run(today=_date(options["date"]))
            elif command == "sepa-export":
                from bieb.subscriptions import sepa

                report = sepa.sepa_export(
                    collection_date=_date(options["date"]), out=Path(options["out"])
                )
            elif command == "sepa-import":
                from bieb.subscriptions import sepa

                report = sepa.sepa_import(Path(options["file"]))
            elif command == "dunning":
                from bieb.subscriptions import dunning

                report = dunning.dunning_run(today=_date(options["date"]))
            elif command == "settle":
                from bieb.subscriptions import settlement

                report = settlement.settlement_make(month=options["month"], rule=options["rule"])
            elif command == "passes":
                from bieb.network.models import Municipality
                from bieb.subscriptions import services

                municipality = Municipality.objects.filter(
                    cbs_code=options["municipality"].upper()
                ).first()
                if municipality is None:
                    raise CommandError(f"unknown municipality {options['municipality']!r}")
                with Path(options["file"]).open(encoding="utf-8") as lines:
                    loaded = services.municipal_passes_load(
                        municipality=municipality,
                        codes=lines,
                        valid_until=_date(options["valid_until"]),
                    )
                report = {"municipality": municipality.cbs_code, "codes": loaded}
            elif command == "jobs":
                from bieb.subscriptions import tasks

                report = tasks.run_daily_jobs(_date(options["date"]))
            else:
                self.print_help("bieb", "billing")
                return
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(json.dumps(report, indent=2, default=str))
