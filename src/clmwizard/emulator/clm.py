"""CLM discovery and a slice of the CLM v2 API (placeholder: discovery only)."""

from __future__ import annotations

from clmwizard.emulator.faults import clm_error
from clmwizard.emulator.messages import Request, Response, json_response
from clmwizard.emulator.state import AuthState


class ClmService:
    def __init__(self, state: AuthState, *, clm_hosts: dict[str, str], web_origin: str) -> None:
        self.state = state
        self.hosts = clm_hosts
        self.web_origin = web_origin

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if request.origin == "clm_auth" and len(parts) == 4 and parts[:2] == ["api", "v2"]:
            with self.state.lock:
                token = self.state.live_access_token(request.bearer_token())
                account = self.state.account(parts[2])
            if token is None or not {"spring_read", "spring_write"} & token.grant.scopes:
                return clm_error(401, "Unauthorized")
            if account is None:
                return clm_error(404, "Account not found")
            return json_response(
                200,
                {
                    "Id": account.account_id,
                    "Name": account.account_name,
                    "ApiBaseUrl": self.hosts["general"] + "/",
                    "ApiBaseUploadUrl": self.hosts["upload"] + "/",
                    "ApiBaseDownloadUrl": self.hosts["download"] + "/",
                },
            )
        return clm_error(404, "Not found")
