"""Dunning: what happens after a failed payment (built in issue 5, the payments part).

``payment_failed(invoice, payment)`` schedules the first retry; ``invoice_paid(invoice)``
switches a subscription switched off for non-payment on again; ``dunning_run(today)`` is the
daily job (retries, notices, and after the last step switching the subscription off).
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def payment_failed(invoice: Any, payment: Any) -> None:
    """Called by ``ledger`` in the transaction that marks ``payment`` failed."""


def invoice_paid(invoice: Any) -> None:
    """Called by ``ledger`` in the transaction that settles ``invoice``."""


def dunning_run(*, today: dt.date | None = None) -> dict[str, int]:
    return {}
