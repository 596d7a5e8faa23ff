"""Personal data other apps keep about a person, under the account's privacy rules.

Accounts knows no app below it (circulation, programming, ... import accounts, not the other
way round), yet an export must hold everything Bieb keeps about a person, switching off the
loan history must forget the old loans, and deleting an account must end what the person
has running elsewhere. So each app that keeps personal data registers a ``Provider`` from its
``AppConfig.ready()``, and the account services call every provider explicitly, inside their
own transaction:

- ``export(user) -> dict | list``: the app's part of the GDPR export (art. 15/20);
- ``forget_history(user)``: the person switched "leengeschiedenis bewaren" off;
- ``before_delete(user)``: the account is about to be anonymised; raise ``DomainError`` to
  refuse (for example while copies are still on loan), or end what runs (holds, sessions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Provider:
    name: str
    export: Callable[[Any], Any] | None = None
    forget_history: Callable[[Any], None] | None = None
    before_delete: Callable[[Any], None] | None = None


_providers: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    _providers[provider.name] = provider


def providers() -> list[Provider]:
    return [_providers[name] for name in sorted(_providers)]
