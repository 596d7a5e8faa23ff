"""The error type services raise for refusals a caller can explain to a person.

``code`` is stable (API clients and tests rely on it); ``message`` is translated text that says
what to do next; ``status`` is the HTTP status the API answers with; ``details`` holds
field-level facts (for example ``{"field": "postcode"}``).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        if status is not None:
            self.status = status
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403
