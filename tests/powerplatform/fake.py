"""A Power Apps API and a Microsoft sign-in written for the unit tests, served through
httpx.MockTransport (the injected transport): it records every request and can fail on cue.
The end-to-end tests use the emulator's local Power Platform instead."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

POWER_APPS = "https://api.powerapps.test"
FLOW = "https://api.flow.test"
AUTHORITY = "https://login.fake.test/"
BLOB = "https://store1.blob.core.test"
OID = "0a1b2c3d-0000-4000-8000-00000000a11c"
TENANT = "11111111-2222-4333-8444-555555555555"


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


@dataclass
class Fault:
    method: str
    path_part: str
    status: int
    count: int = 1
    retry_after: str | None = None
    body: str = '{"error": {"code": "Fault", "message": "injected"}}'


@dataclass
class FakePowerPlatform:
    environments: list[str] = field(default_factory=lambda: ["env-one"])
    connectors: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    validation_answer: str = ""
    redirect_in_answer: bool = True
    latency: float = 0.0
    token: str = field(default_factory=lambda: "pa-token-" + uuid.uuid4().hex)

    def __post_init__(self) -> None:
        for env in self.environments:
            self.connectors.setdefault(env, {})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def fail(self, method: str, path_part: str, status: int, **kwargs: Any) -> None:
        self.faults.append(Fault(method, path_part, status, **kwargs))

    def calls(self, method: str, path_part: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and path_part in r.url.path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        self.requests.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        for fault in self.faults:
            if (
                fault.count
                and fault.method == request.method
                and fault.path_part in str(request.url)
            ):
                fault.count -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return httpx.Response(fault.status, text=fault.body, headers=headers)
        url = request.url
        if url.host == urlsplit(BLOB).hostname:
            assert request.method == "PUT" and "sig=" in str(url.query)
            assert request.headers["x-ms-blob-type"] == "BlockBlob"
            assert "authorization" not in request.headers
            self.blobs[url.path] = request.content
            return httpx.Response(201)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": {"code": "Unauthorized", "message": "no"}})
        assert url.params.get("api-version") == "2016-11-01"
        path = url.path
        if path == "/providers/Microsoft.ProcessSimple/environments":
            return httpx.Response(
                200,
                json={
                    "value": [
                        {"name": env, "properties": {"displayName": f"Env {env}"}}
                        for env in self.environments
                    ]
                },
            )
        if path.endswith("/validateApiSwagger"):
            assert OID in path and request.headers["x-ms-origin"] == "paconn-cli"
            json.loads(request.content)
            return httpx.Response(200, text=self.validation_answer)
        if path.endswith("/generateResourceStorage"):
            env = json.loads(request.content)["environment"]["name"]
            if env not in self.connectors:
                return httpx.Response(404, json={"error": {"message": "no such environment"}})
            return httpx.Response(
                200, json={"sharedAccessSignature": f"{BLOB}/icons-{env}?sv=1&sig=abc"}
            )
        if path.startswith("/providers/Microsoft.PowerApps/apis"):
            return self._apis(request, path)
        return httpx.Response(404, text="not found")

    def _env(self, request: httpx.Request) -> str | None:
        text = request.url.params.get("$filter", "")
        if not text.startswith("environment eq '"):
            return None
        return text[len("environment eq '") :].split("'")[0]

    def _apis(self, request: httpx.Request, path: str) -> httpx.Response:
        env = self._env(request)
        if env not in self.connectors:
            return httpx.Response(404, json={"error": {"message": "environment not found"}})
        store = self.connectors[env]
        rest = path[len("/providers/Microsoft.PowerApps/apis") :].strip("/")
        if request.method == "GET" and not rest:
            return httpx.Response(200, json={"value": list(store.values())})
        if request.method == "POST" and not rest:
            body = json.loads(request.content)
            name = "shared_" + body["properties"]["displayName"].lower().replace(" ", "-")
            name += "-" + uuid.uuid4().hex[:8]
            stored = {"name": name, "id": f"/apis/{name}", "properties": body["properties"]}
            self._redirect(stored, name)
            store[name] = stored
            return httpx.Response(201, json=stored)
        if rest not in store:
            return httpx.Response(404, json={"error": {"message": "connector not found"}})
        if request.method == "GET":
            return httpx.Response(200, json=store[rest])
        if request.method == "PATCH":
            body = json.loads(request.content)
            assert "displayName" not in body["properties"]
            kept = store[rest]["properties"].get("displayName")
            store[rest]["properties"] = {**body["properties"], "displayName": kept}
            self._redirect(store[rest], rest)
            return httpx.Response(200, json=store[rest])
        return httpx.Response(405)

    def _redirect(self, stored: dict[str, Any], name: str) -> None:
        settings = stored["properties"]["connectionParameters"]["token"]["oAuthSettings"]
        if self.redirect_in_answer:
            settings["redirectUrl"] = f"https://global.consent.azure-apim.net/redirect/{name}"
        else:
            settings.pop("redirectUrl", None)

    def secret_of(self, env: str, connector_id: str) -> str:
        properties = self.connectors[env][connector_id]["properties"]
        return str(properties["connectionParameters"]["token"]["oAuthSettings"]["clientSecret"])


@dataclass
class FakeEntra:
    """Just enough Entra ID for MSAL: discovery, device code, token (device code, client
    credentials, refresh)."""

    client_id: str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    pending_polls: int = 1
    device_error: str | None = None  # e.g. "expired_token": the poll's final answer
    sp_secret: str = "sp-secret-" + "x" * 20
    issued: list[str] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    access_token: str = ""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        base = f"https://login.fake.test/{TENANT}"
        path = request.url.path
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = path.split("/")[1]
            root = f"https://login.fake.test/{tenant}"
            return httpx.Response(
                200,
                json={
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                },
            )
        form = parse_qs(request.content.decode())
        if path.endswith("/oauth2/v2.0/devicecode"):
            return httpx.Response(
                200,
                json={
                    "device_code": "dc-" + uuid.uuid4().hex,
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 0,
                    "message": "To sign in, use a web browser to open the page "
                    "https://microsoft.com/devicelogin and enter the code ABCD-EFGH.",
                },
            )
        if path.endswith("/oauth2/v2.0/token"):
            grant = form.get("grant_type", [""])[0]
            if grant.endswith("device_code"):
                if self.pending_polls > 0:
                    self.pending_polls -= 1
                    return httpx.Response(400, json={"error": "authorization_pending"})
                if self.device_error:
                    return httpx.Response(
                        400,
                        json={
                            "error": self.device_error,
                            "error_description": "AADSTS70020: The provided value for the "
                            "input parameter 'device_code' is not valid (expired).",
                            "error_codes": [70020],
                        },
                    )
                return self._user_tokens()
            if grant == "refresh_token":
                return self._user_tokens()
            if grant == "client_credentials":
                if form.get("client_secret", [""])[0] != self.sp_secret:
                    return httpx.Response(
                        401,
                        json={
                            "error": "invalid_client",
                            "error_description": "AADSTS7000215: Invalid client secret.",
                            "error_codes": [7000215],
                        },
                    )
                token = self._access({"oid": OID, "tid": TENANT, "appid": self.client_id})
                return httpx.Response(
                    200, json={"access_token": token, "token_type": "Bearer", "expires_in": 3600}
                )
        return httpx.Response(404, json={"error": "not_found"})

    def _access(self, claims: dict[str, Any]) -> str:
        token = self.access_token or _jwt({**claims, "n": uuid.uuid4().hex})
        self.issued.append(token)
        return token

    def _user_tokens(self) -> httpx.Response:
        now = int(time.time())
        claims = {
            "iss": f"https://login.fake.test/{TENANT}/v2.0",
            "aud": self.client_id,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "oid": OID,
            "tid": TENANT,
            "sub": "subject",
            "preferred_username": "maker@contoso.test",
            "name": "Maker",
        }
        client_info = base64.urlsafe_b64encode(
            json.dumps({"uid": OID, "utid": TENANT}).encode()
        ).decode()
        refresh = "rt-" + uuid.uuid4().hex
        self.issued.append(refresh)
        return httpx.Response(
            200,
            json={
                "access_token": self._access({"oid": OID, "tid": TENANT}),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "https://service.powerapps.com/.default",
                "refresh_token": refresh,
                "id_token": _jwt(claims),
                "client_info": client_info,
            },
        )
