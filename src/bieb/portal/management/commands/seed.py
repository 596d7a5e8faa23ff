"""``bieb seed --profile demo|bench [--seed N]``: fill the database with demo or national data.

Idempotent and deterministic: running it twice neither fails nor duplicates, and the same seed
gives the same data. Each app seeds its own tables through its own ``seeding`` module, in the
order of the app dependencies.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from bieb.accounts import seeding as accounts_seeding
from bieb.catalog import seeding as catalog_seeding
from bieb.circulation import seeding as circulation_seeding
from bieb.circulation.sip2 import demo as sip2_demo
from bieb.community import seeding as community_seeding
from bieb.network import seeding as network_seeding
from bieb.programming import seeding as programming_seeding
from bieb.subscriptions import seeding as subscriptions_seeding

SEEDERS = [
    ("network", network_seeding.seed_network),
    ("accounts", accounts_seeding.seed_people),
    ("subscriptions", subscriptions_seeding.seed_subscriptions),
    ("catalog", catalog_seeding.seed_catalog),
    ("circulation", circulation_seeding.seed_circulation),
    ("sip2", sip2_demo.seed_sip2),
    ("programming", programming_seeding.seed_programming),
    ("community", community_seeding.seed_community),
]


class Command(BaseCommand):
    help = "Seed demo data (small, for trying Bieb) or bench data (national scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--profile", choices=["demo", "bench"], default="demo")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")

    def handle(self, *args, profile: str, seed: int, **options) -> None:
        for name, seeder in SEEDERS:
            started = time.perf_counter()
            seeder(profile=profile, seed=seed)
            elapsed = time.perf_counter() - started
            self.stdout.write(f"seeded {name} ({profile}, seed {seed}) in {elapsed:.1f}s")
