"""``bieb demo-info [--json]``: the handles a tester needs to try the demo.

Lists the demo log-ins (e-mail, password, role, organisation, card number). Later capabilities
add their handles here (item barcodes, SIP2 terminal credentials, ...).
"""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandParser

from bieb.accounts.seeding import demo_accounts
from bieb.catalog.seeding import demo_items
from bieb.circulation.sip2.demo import demo_sip2_info


def demo_info() -> dict:
    port = os.environ.get("PORT", "8000")
    return {
        "url": f"http://127.0.0.1:{port}/",
        "accounts": demo_accounts(),
        "items": demo_items(),
        "sip2": demo_sip2_info(),
    }


class Command(BaseCommand):
    help = "Print the demo accounts and other handles for testers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        info = demo_info()
        if options["json"]:
            self.stdout.write(json.dumps(info, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"\nBieb demo on {info['url']}\n")
        self.stdout.write("Demo log-ins (log in at /inloggen):")
        width = max((len(a["email"]) for a in info["accounts"]), default=10)
        for account in info["accounts"]:
            card = f"  card {account['card_number']}" if account.get("card_number") else ""
            org = f"  @ {account['organisation']}" if account.get("organisation") else ""
            self.stdout.write(
                f"  {account['role']:<22} {account['email']:<{width}}  "
                f"password {account['password']}{org}{card}"
            )
        if info["items"]:
            self.stdout.write("Item barcodes (scan them at a desk):")
            for item in info["items"]:
                self.stdout.write(
                    f"  {item['barcode']}  {item['status']:<14} {item['title']}"
                    f"  @ {item['location']}"
                )
        sip2 = info.get("sip2")
        if sip2 and sip2.get("terminal"):
            terminal = sip2["terminal"]
            self.stdout.write(f"Self-service machine (SIP2): start it with `{sip2['command']}`")
            self.stdout.write(
                f"  terminal {terminal['login']}  password {terminal['password']}"
                f"  @ {terminal['location']}  institution id (AO) {sip2['institution_id']}"
            )
            for patron in sip2["patrons"]:
                self.stdout.write(
                    f"  patron card {patron['card_number']}  password {patron['password']}"
                    f"  ({patron['role']})"
                )
            for item in sip2["items"]:
                self.stdout.write(f"  free to lend {item['barcode']}  {item['title']}")
        self.stdout.write("")
