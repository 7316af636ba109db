"""Injected faults: latency, error statuses, dropped connections, malformed bodies, and a hostile
server's answers (overridden fields, deep or huge JSON, bad gzip, dripping bytes)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from clmwizard.emulator import hostile
from clmwizard.emulator.http_types import JSON_TYPE, Response, json_response
from clmwizard.emulator.state import new_guid

DOCUSIGN_ORIGINS = ("auth", "clm_auth", "general", "upload", "download")
POWER_PLATFORM_ORIGINS = ("entra", "powerapps", "flow", "blob", "consent")
ORIGINS = DOCUSIGN_ORIGINS + POWER_PLATFORM_ORIGINS
CLM_ORIGINS = ("clm_auth", "general", "upload", "download")

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_OAUTH_ERRORS = {429: "temporarily_unavailable", 503: "temporarily_unavailable"}
CLM_RATE_LIMIT_CODE = 103  # CLM's ErrorCode for "rate limit exceeded" (documented)
CLM_VALIDATION_CODE = 101  # CLM's ErrorCode for "validation failed" (documented)
CLM_OTHER_CODE = 100  # unconfirmed: CLM's ErrorCode for other failures
CLM_RATE_LIMIT = 6250  # calls per 15 minutes (documented)


@dataclass
class Fault:
    origin: str
    path_prefix: str
    status: int | None = None
    count: int = 1  # requests still to affect; 0 or less: every request until cleared
    latency: float = 0.0
    drop: bool = False
    malformed: bool = False
    retry_after: int | None = None
    # A hostile or broken server (see hostile.py):
    payload: Any = None  # answer with this JSON instead (status: `status` or 200)
    fields: dict[str, Any] | None = None  # merged into the real JSON answer
    nested: int = 0  # answer with JSON lists nested this deep
    huge: int = 0  # answer with a JSON body of this many bytes
    bad_gzip: bool = False  # label the answer gzip, its body not decompressing
    drip: float = 0.0  # send the answer one byte every `drip` seconds
    text: str | None = None  # answer with this text (status: `status` or 200): a portal's page
    content_type: str = "text/html; charset=utf-8"  # of `text`
    location: str | None = None  # answer with a redirect there (status: `status` or 302)

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.latency < 0 or self.drip < 0:
            raise ValueError("latency and drip must not be negative")
        if self.nested < 0 or self.huge < 0:
            raise ValueError("nested and huge must not be negative")
        if self.fields is not None and not isinstance(self.fields, dict):
            raise ValueError("fields must be a JSON object")

    def response(self, path: str) -> Response | None:
        """The faulty answer, or None when this fault only adds latency."""
        if self.drop:
            return Response(0, drop=True)
        if self.payload is not None:
            return json_response(self.status or 200, self.payload)
        if self.text is not None:
            return hostile.text(self.status or 200, self.text, self.content_type)
        if self.location is not None:
            return hostile.redirect(self.status or 302, self.location)
        if self.nested:
            return hostile.nested(self.nested)
        if self.huge:
            return hostile.huge(self.huge)
        if self.status is not None:
            answer = error_body(self.origin, self.status)
        elif self.malformed:
            answer = Response(200, b'{"Href": "' + path.encode() + b'", "Items": [{"Name": "Con')
            answer.headers.append(("Content-Type", JSON_TYPE))
        else:
            return None
        if self.origin in CLM_ORIGINS and self.status == 429:
            # CLM says when to come back with X-RateLimit-Reset (a date), not Retry-After.
            from email.utils import formatdate

            wait = self.retry_after if self.retry_after is not None else 60
            answer.headers.append(("X-RateLimit-Limit", str(CLM_RATE_LIMIT)))
            answer.headers.append(
                ("X-RateLimit-Reset", formatdate(time.time() + wait, usegmt=True))
            )
        elif self.retry_after is not None:
            answer.headers.append(("Retry-After", str(self.retry_after)))
        return answer

    def transform(self, answer: Response) -> Response:
        """The answer (real or faulty) as this fault changes it on the way out."""
        if answer.drop:
            return answer
        if self.fields is not None:
            answer = hostile.with_fields(answer, self.fields)
        if self.bad_gzip:
            answer = hostile.bad_gzip(answer)
        if self.drip:
            answer = hostile.dripping(answer, self.drip)
        return answer


def error_body(origin: str, status: int) -> Response:
    reason = _REASONS.get(status, "Error")
    if origin in POWER_PLATFORM_ORIGINS:
        return power_platform_error(origin, status, f"{reason} (injected by the emulator).")
    if origin in CLM_ORIGINS:
        return clm_error(status, f"{reason} (injected by the emulator).", reason)
    error = _OAUTH_ERRORS.get(status, "server_error" if status >= 500 else "invalid_request")
    return json_response(
        status, {"error": error, "error_description": f"{reason} (injected by the emulator)."}
    )


def power_platform_error(origin: str, status: int, message: str) -> Response:
    """An injected error in the shape of the Power Platform origin that answers it."""
    if origin == "blob":
        code = "ServerBusy" if status in (429, 503) else "InternalError"
        body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        body += f"<Message>{message}</Message></Error>"
        return Response(status, body.encode(), [("Content-Type", "application/xml")])
    if origin == "entra":
        error = "temporarily_unavailable" if status in (429, 503) else "server_error"
        return json_response(
            status,
            {
                "error": error,
                "error_description": f"AADSTS90033: {message}",
                "error_codes": [90033],
            },
        )
    code = "TooManyRequests" if status == 429 else _REASONS.get(status, "Error").replace(" ", "")
    return json_response(status, {"error": {"code": code, "message": message}})


def clm_error(
    status: int,
    user_message: str,
    developer_message: str = "",
    *,
    error_code: int | None = None,
    validation: list[dict[str, object]] | None = None,
) -> Response:
    """An error in CLM's shape: {"Error": {...}} plus ValidationErrors on 422."""
    if error_code is None:
        error_code = {429: CLM_RATE_LIMIT_CODE, 422: CLM_VALIDATION_CODE}.get(
            status, CLM_OTHER_CODE
        )
    payload: dict[str, object] = {
        "Error": {
            "HttpStatusCode": status,
            "UserMessage": user_message,
            "DeveloperMessage": developer_message or user_message,
            "ErrorCode": error_code,
            "ReferenceId": new_guid(),
        }
    }
    if validation is not None:
        payload["ValidationErrors"] = validation
    return json_response(status, payload)


class FaultTable:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, origin: str, path: str) -> Fault | None:
        """The first fault matching this request, counting the request against it."""
        with self._lock:
            for fault in self._faults:
                if fault.origin == origin and path.startswith(fault.path_prefix):
                    if fault.count > 0:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None
