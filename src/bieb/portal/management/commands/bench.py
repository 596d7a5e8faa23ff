"""``bieb bench NAME``: run a benchmark and print one JSON object.

Each app may offer benchmarks in ``bieb.<app>.benchmarks`` as ``BENCHMARKS = {name: fn}``;
``fn(options) -> dict`` builds its own data, measures, and reports the naive or peer approach
measured in the same run. Benchmarks report; tests do not time.
"""

from __future__ import annotations

import importlib
import json
import platform
import time
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bieb.core import clock


def available_benchmarks() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    found: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("bieb."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.benchmarks")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.benchmarks":
                continue
            raise
        found.update(getattr(module, "BENCHMARKS", {}))
    return found


class Command(BaseCommand):
    help = "Run a benchmark and print one JSON object with its figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="benchmark name; omit to list them")
        parser.add_argument("--size", type=int, default=None, help="override the data size")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--sizes", default=None, help="comma-separated data sizes (search)")
        parser.add_argument("--marc", default=None, help="MARC file for benchmarks that import")
        parser.add_argument("--repeat", type=int, default=None, help="rounds of the query mix")

    def handle(self, *args, name: str | None, **options) -> None:
        benchmarks = available_benchmarks()
        if not name:
            self.stdout.write(json.dumps({"benchmarks": sorted(benchmarks)}))
            return
        if name not in benchmarks:
            raise CommandError(f"unknown benchmark {name!r}; choose from {sorted(benchmarks)}")
        started = time.perf_counter()
        figures = benchmarks[name](
            {key: options[key] for key in ("size", "seed", "sizes", "marc", "repeat")}
        )
        report = {
            "benchmark": name,
            "database": connection.vendor,
            "python": platform.python_version(),
            "machine": f"{platform.machine()} ({platform.system()})",
            "ran_at": clock.now().isoformat(timespec="seconds"),
            "seconds_total": round(time.perf_counter() - started, 3),
            **figures,
        }
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
