"""``bieb sip2``: the SIP2 server for self-service machines and the machines' accounts.

    bieb sip2 serve [--host 127.0.0.1] [--port 6001] [--encoding utf-8] [--idle-timeout 1800]
    bieb sip2 terminal-add --location SLUG --login LOGIN [--name NAME]
    bieb sip2 terminal-list [--location SLUG]
    bieb sip2 terminal-reset-password --login LOGIN
    bieb sip2 terminal-disable --login LOGIN / terminal-enable --login LOGIN

A new or reset password is printed once and stored only as a hash. See docs/sip2.md.
"""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bieb.circulation.models import Terminal
from bieb.circulation.sip2 import server as sip2_server
from bieb.circulation.sip2.terminals import (
    terminal_create,
    terminal_reset_password,
    terminal_set_active,
)
from bieb.core.errors import DomainError
from bieb.network.models import Location

SUBCOMMANDS = (
    "serve",
    "terminal-add",
    "terminal-list",
    "terminal-reset-password",
    "terminal-disable",
    "terminal-enable",
)


class Command(BaseCommand):
    help = "SIP2 server for self-service machines, and the machines' accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", metavar="{" + ",".join(SUBCOMMANDS) + "}")
        serve = sub.add_parser("serve", help="serve SIP2 over TCP until Ctrl-C or SIGTERM")
        serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
        serve.add_argument("--port", type=int, default=sip2_server.DEFAULT_PORT)
        serve.add_argument(
            "--encoding",
            default="utf-8",
            help="character set of the machines (utf-8, or cp850 for older machines)",
        )
        serve.add_argument(
            "--idle-timeout",
            type=float,
            default=sip2_server.IDLE_TIMEOUT,
            help="seconds before a quiet machine is disconnected",
        )
        serve.add_argument(
            "--login-timeout",
            type=float,
            default=sip2_server.LOGIN_TIMEOUT,
            help="seconds a connection may stay without logging in",
        )
        serve.add_argument("--max-connections", type=int, default=sip2_server.MAX_CONNECTIONS)
        add = sub.add_parser("terminal-add", help="create a machine account; prints its password")
        add.add_argument("--location", required=True, help="slug of the machine's location")
        add.add_argument("--login", required=True, help="the machine's login (CN)")
        add.add_argument("--name", default="", help="a name staff recognise")
        listing = sub.add_parser("terminal-list", help="list machine accounts")
        listing.add_argument("--location", default=None, help="only at this location (slug)")
        for name, text in (
            ("terminal-reset-password", "give a machine a new password; prints it"),
            ("terminal-disable", "switch a machine account off"),
            ("terminal-enable", "switch a machine account on"),
        ):
            sub.add_parser(name, help=text).add_argument("--login", required=True)

    def handle(self, *args, subcommand: str | None = None, **options) -> None:
        if subcommand == "serve":
            self._serve(options)
        elif subcommand == "terminal-add":
            self._add(options)
        elif subcommand == "terminal-list":
            self._list(options)
        elif subcommand in ("terminal-reset-password", "terminal-disable", "terminal-enable"):
            self._change(subcommand, options["login"])
        else:
            self.stdout.write(self.create_parser("bieb", "sip2").format_help())

    def _serve(self, options) -> None:
        logging.getLogger("bieb.circulation.sip2").setLevel(
            logging.DEBUG if options["verbosity"] > 1 else logging.INFO
        )

        def ready(server) -> None:
            host = server.server_address[0]
            self.stdout.write(f"SIP2 server listening on {host}:{server.port} (Ctrl-C stops)")
            self.stdout.flush()

        try:
            sip2_server.serve(
                options["host"],
                options["port"],
                encoding=options["encoding"],
                idle_timeout=options["idle_timeout"],
                login_timeout=options["login_timeout"],
                max_connections=options["max_connections"],
                ready=ready,
            )
        except LookupError as exc:
            raise CommandError(f"unknown encoding {options['encoding']!r}") from exc
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc

    def _add(self, options) -> None:
        location = (
            Location.objects.select_related("organisation").filter(slug=options["location"]).first()
        )
        if location is None:
            raise CommandError(f"no location with slug {options['location']!r}")
        try:
            terminal, password = terminal_create(
                location=location, login=options["login"], name=options["name"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._print_credentials(terminal, password)

    def _print_credentials(self, terminal: Terminal, password: str) -> None:
        location = terminal.location
        self.stdout.write(f"terminal {terminal.login} at {location.name} ({location.slug})")
        self.stdout.write(f"  institution id (AO): {location.organisation.code}")
        self.stdout.write(f"  login (CN):          {terminal.login}")
        self.stdout.write(f"  password (CO):       {password}")
        self.stdout.write("The password is shown only now; store it in the machine.")

    def _list(self, options) -> None:
        terminals = Terminal.objects.select_related("location__organisation").order_by(
            "location__organisation__code", "location__slug", "login"
        )
        if options["location"]:
            terminals = terminals.filter(location__slug=options["location"])
        for terminal in terminals:
            seen = (
                terminal.last_seen_at.isoformat(timespec="seconds")
                if terminal.last_seen_at
                else "-"
            )
            state = "active" if terminal.is_active else "off"
            self.stdout.write(
                f"{terminal.location.organisation.code:<6} {terminal.login:<24} {state:<6} "
                f"{terminal.location.slug:<40} last seen {seen}"
            )

    def _change(self, subcommand: str, login: str) -> None:
        terminal = (
            Terminal.objects.select_related("location__organisation").filter(login=login).first()
        )
        if terminal is None:
            raise CommandError(f"no terminal with login {login!r}")
        if subcommand == "terminal-reset-password":
            self._print_credentials(terminal, terminal_reset_password(terminal))
            return
        terminal_set_active(terminal, active=subcommand == "terminal-enable")
        self.stdout.write(f"terminal {login}: {'active' if terminal.is_active else 'off'}")
