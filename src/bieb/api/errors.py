"""API errors: JSON with a stable code and a translated message, never an HTML page.

Body of every error response::

    {"error": {"code": "invalid_postcode", "message": "…", "details": {…}}}

Services raise ``bieb.core.errors.DomainError`` (or a subclass) with a stable code; the API
turns it into this shape. Handlers may also raise ``ApiError`` directly.
"""

from __future__ import annotations

from bieb.core.errors import DomainError


class ApiError(DomainError):
    """An error raised in an API handler: ``code`` is stable, ``message`` is translated."""
