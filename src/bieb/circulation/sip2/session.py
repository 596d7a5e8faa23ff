"""The state of one SIP2 connection: which machine logged in, where it stands, what was said last.

One ``Session`` lives exactly as long as its TCP connection and is touched by that connection's
thread only, so it needs no lock. It holds nothing secret in the clear: a patron password that
was checked once is remembered as a keyed digest (a self-service session asks for the same PIN
in 23, 63 and 11; checking the Argon2 hash each time would cost a tenth of a second per message).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

#: after this many failed logins the connection is closed (a guessing machine gets no more)
MAX_FAILED_LOGINS = 5
#: after this many unreadable frames in a row the connection is closed (not a SIP2 client)
MAX_BAD_FRAMES = 10


@dataclass
class Session:
    peer: str
    encoding: str = "utf-8"
    terminal: Any = None  # circulation.models.Terminal once logged in
    language: str = "nl"
    failed_logins: int = 0
    bad_frames: int = 0
    #: the last request frame and our answer, for a machine that repeats a frame (same AY) or
    #: sends 97 because it missed the answer
    last_request: bytes = b""
    last_response: bytes = b""
    #: time.monotonic() of the last last_seen_at write
    last_seen: float = 0.0
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _verified: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def logged_in(self) -> bool:
        return self.terminal is not None

    @property
    def location(self):
        return self.terminal.location if self.terminal is not None else None

    @property
    def institution_id(self) -> str:
        return self.terminal.location.organisation.code if self.terminal is not None else ""

    @property
    def login(self) -> str:
        return self.terminal.login if self.terminal is not None else "-"

    def log_in(self, terminal) -> None:
        self.terminal = terminal
        self.failed_logins = 0
        self._verified.clear()

    def log_out(self) -> None:
        self.terminal = None
        self._verified.clear()

    # --- patron passwords ------------------------------------------------------------------

    def _digest(self, card: str, password: str) -> bytes:
        return hmac.new(self._key, f"{card}\x00{password}".encode(), hashlib.sha256).digest()

    def password_known_good(self, card: str, password: str) -> bool:
        known = self._verified.get(card)
        return known is not None and hmac.compare_digest(known, self._digest(card, password))

    def remember_password(self, card: str, password: str) -> None:
        self._verified[card] = self._digest(card, password)

    def end_patron(self, card: str) -> None:
        """End a patron's session (35): their password must be given and checked again."""
        self._verified.pop(card, None)
        self.language = "nl"


def card_tail(card: str | None) -> str:
    """What the log may show of a card number: its last four digits."""
    card = (card or "").strip()
    return f"…{card[-4:]}" if card else "-"
