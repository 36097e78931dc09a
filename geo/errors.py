"""The one shape of an error the caller is told about: a stable `code`, a zh-Hans/English `message`, structured
`details` and the HTTP `status` it maps to. Apps subclass it to say where the error comes from."""

from __future__ import annotations


class CodedError(ValueError):
    """Input or a request that cannot be used; the API turns it into `{"error": {"code", "message", "details"}}`."""

    def __init__(self, code: str, message: str, details: dict | None = None, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.status = status
