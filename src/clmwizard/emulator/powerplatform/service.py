"""The local Power Platform: state, routing by origin, test controls and the JSON-line values."""

from __future__ import annotations

import copy
import dataclasses
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clmwizard.emulator.http_types import Request, Response
from clmwizard.emulator.powerplatform import connections, consent, entra, flows, powerapps, runner
from clmwizard.emulator.powerplatform.records import Platform, PlatformRecords
from clmwizard.emulator.powerplatform.state import (
    AZURE_CLI_CLIENT_ID,
    Environment,
    PowerPlatformState,
    Principal,
    new_guid,
)
from clmwizard.emulator.state import Clock

# The emulator origins of this side; all of them serve TLS.
PP_ORIGINS = ("entra", "powerapps", "flow", "blob", "consent")
STORAGE_ACCOUNT = "clmwizardemu"
# A public client id of "our own app registration", beside the Azure CLI's.
APP_REGISTRATION_CLIENT_ID = "6b3a9e1c-2f4d-4c8e-9a7b-1d5e3f7a9c21"


class PowerPlatform:
    """The Power Platform side of one emulator. `origins` maps each PP origin to its URL."""

    def __init__(
        self,
        clock: Clock,
        origins: dict[str, str],
        ca_pem: str,
        register_redirect: Callable[[str], None] | None = None,
    ) -> None:
        self.origins = origins
        self.ca_cert = ca_pem
        tenant = new_guid()
        sandbox = new_guid()
        self.state = PowerPlatformState(
            clock=clock,
            tenant=tenant,
            user=Principal(oid=new_guid(), name="Alex Morgan", upn="alex.morgan@example.com"),
            service_principal=Principal(
                oid=new_guid(), name="clmwizard-pipeline", app_id=new_guid()
            ),
            client_secret="Qx8~" + secrets.token_urlsafe(30),
            public_client_ids={AZURE_CLI_CLIENT_ID, APP_REGISTRATION_CLIENT_ID},
            environments={
                f"Default-{tenant}": Environment(
                    f"Default-{tenant}", "Northwind Traders (default)"
                ),
                sandbox: Environment(sandbox, "Northwind Sandbox"),
            },
            storage_account=STORAGE_ACCOUNT,
            entra_origin=origins["entra"],
        )
        self.subdomain_blob_urls = False
        self.state.redirect_base = f"{origins['consent']}/redirect"
        self.records = PlatformRecords()
        self.platform = Platform(self.state, self.records, origins, ca_pem)
        # --auto-register-redirects: each connector's redirect URL is registered on the
        # DocuSign integration key as soon as the connector exists (off by default, as at
        # DocuSign, where the user registers it).
        self.auto_register_redirects = False
        self._register_redirect = register_redirect

    # -- what clients need -------------------------------------------------------------------

    @property
    def tenant(self) -> str:
        return self.state.tenant

    @property
    def authority(self) -> str:
        """`{entra origin}/{tenant}`: give MSAL this with instance_discovery=False."""
        return f"{self.origins['entra']}/{self.state.tenant}"

    @property
    def authority_host(self) -> str:
        return self.origins["entra"]

    @property
    def client_id(self) -> str:
        """The service principal's application (client) id."""
        app_id = self.state.service_principal.app_id
        assert app_id is not None
        return app_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    @property
    def service_principal_oid(self) -> str:
        return self.state.service_principal.oid

    @property
    def public_client_id(self) -> str:
        """The Azure CLI's client id (paconn's default); `APP_REGISTRATION_CLIENT_ID` works too."""
        return AZURE_CLI_CLIENT_ID

    @property
    def user_oid(self) -> str:
        return self.state.user.oid

    @property
    def user_principal_name(self) -> str:
        assert self.state.user.upn is not None
        return self.state.user.upn

    @property
    def power_apps_url(self) -> str:
        return self.origins["powerapps"]

    @property
    def flow_url(self) -> str:
        return self.origins["flow"]

    @property
    def blob_url(self) -> str:
        return self.origins["blob"]

    @property
    def environments(self) -> list[str]:
        with self.state.lock:
            return list(self.state.environments)

    @property
    def default_environment(self) -> str:
        return f"Default-{self.state.tenant}"

    @property
    def storage_host(self) -> str:
        """The `<account>.blob.localhost` name the leaf certificate carries too."""
        return f"{STORAGE_ACCOUNT}.blob.localhost"

    def info(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "tenant": self.tenant,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "public_client_id": self.public_client_id,
            "user_principal_name": self.user_principal_name,
            "power_apps_url": self.power_apps_url,
            "flow_url": self.flow_url,
            "consent_url": self.consent_url,
            "environments": self.environments,
            "ca_cert": self.ca_cert,
        }

    # -- serving -----------------------------------------------------------------------------

    def blob_base(self) -> str:
        """Where SAS URLs point: path-style (`https://127.0.0.1:P/<account>`, as Azurite
        serves it) unless `subdomain_blob_urls` is on (`https://<account>.blob.localhost:P`,
        the shape of real storage and the one paconn's uploader insists on)."""
        origin = self.origins["blob"]
        if self.subdomain_blob_urls:
            port = urlsplit(origin).port
            return f"https://{self.storage_host}:{port}"
        return f"{origin}/{STORAGE_ACCOUNT}"

    def handle(self, request: Request) -> Response:
        match request.origin:
            case "entra":
                return entra.handle(self.state, request)
            case "powerapps":
                if connections.claims(request):
                    return connections.handle(self.platform, request)
                answer = powerapps.handle_powerapps(self.state, request, self.blob_base())
                if request.method in ("POST", "PATCH") and answer.status < 300:
                    self._auto_register()
                return answer
            case "flow":
                return flows.handle(self.platform, request)
            case "consent":
                return consent.handle(self.platform, request)
        return powerapps.handle_blob(self.state, request)

    def _auto_register(self) -> None:
        if not self.auto_register_redirects or self._register_redirect is None:
            return
        for url in self.redirect_urls():
            self._register_redirect(url)

    def redirect_urls(self) -> list[str]:
        """Every stored connector's redirect URL (each resolves to the consent origin)."""
        found: list[str] = []
        for record in self.connectors():
            for parameter in record["properties"].get("connectionParameters", {}).values():
                settings = parameter.get("oAuthSettings") if isinstance(parameter, dict) else None
                url = settings.get("redirectUrl") if isinstance(settings, dict) else None
                if isinstance(url, str) and url not in found:
                    found.append(url)
        return found

    # -- connections, flows and the clock ----------------------------------------------------

    @property
    def consent_url(self) -> str:
        return self.origins["consent"]

    def set_platform(self, **changes: Any) -> dict[str, Any]:
        """Change the unconfirmed behaviours (records.Switches) and `auto_register_redirects`;
        returns them all."""
        with self.state.lock:
            if "auto_register_redirects" in changes:
                self.auto_register_redirects = bool(changes.pop("auto_register_redirects"))
            self.records.switches = self.records.switches.changed(**changes)
            answer = dataclasses.asdict(self.records.switches)
        if self.auto_register_redirects:
            self._auto_register()
        return {**answer, "auto_register_redirects": self.auto_register_redirects}

    def connections(self) -> list[dict[str, Any]]:
        """Every connection as the API shows it (statuses; never tokens)."""
        with self.state.lock:
            stored = list(self.records.connections.values())
        return [connections.view(self.platform, c) for c in stored]

    def flows(self) -> list[dict[str, Any]]:
        """Every flow with its runs, newest run first (as the runs list answers)."""
        with self.state.lock:
            stored = list(self.records.flows.values())
        return [flows.summary(self.platform, f) for f in stored]

    def advance_clock(self, seconds: float) -> int:
        """Move the emulator clock; every Recurrence trigger due on the way fires at its time.
        Returns how many runs fired."""
        return runner.advance(self.platform, seconds)

    # -- test controls -----------------------------------------------------------------------

    def _device_code(self, user_code: str | None) -> Any:
        pending = [c for c in self.state.device_codes.values() if c.status == "pending"]
        if user_code is not None:
            pending = [c for c in pending if c.user_code == user_code.strip().upper()]
        if not pending:
            raise ValueError("no pending device code" + (f" {user_code}" if user_code else ""))
        return pending[-1]

    def approve_device_code(self, user_code: str | None = None) -> str:
        """Sign the emulated user in on the device code (the newest pending one by default)."""
        with self.state.lock:
            flow = self._device_code(user_code)
            flow.status = "approved"
            return str(flow.user_code)

    def decline_device_code(self, user_code: str | None = None) -> str:
        with self.state.lock:
            flow = self._device_code(user_code)
            flow.status = "declined"
            return str(flow.user_code)

    def forget_device_code(self, user_code: str | None = None) -> str:
        """Entra no longer knows the device code: its next poll is `bad_verification_code`."""
        with self.state.lock:
            flow = self._device_code(user_code)
            del self.state.device_codes[flow.device_code]
            return str(flow.user_code)

    def pending_device_codes(self) -> list[str]:
        with self.state.lock:
            return [c.user_code for c in self.state.device_codes.values() if c.status == "pending"]

    def issued_device_codes(self) -> list[str]:
        """Every device code issued so far, whatever became of it (oldest first)."""
        with self.state.lock:
            return [c.user_code for c in self.state.device_codes.values()]

    def set_policies(
        self,
        *,
        admin_consent_required: bool | None = None,
        conditional_access_blocked: bool | None = None,
        auto_approve_device_codes: bool | None = None,
        certification_rules: bool | None = None,
        device_code_interval: int | None = None,
        subdomain_blob_urls: bool | None = None,
    ) -> dict[str, Any]:
        with self.state.lock:
            if admin_consent_required is not None:
                self.state.admin_consent_required = bool(admin_consent_required)
            if conditional_access_blocked is not None:
                self.state.conditional_access_blocked = bool(conditional_access_blocked)
            if auto_approve_device_codes is not None:
                self.state.auto_approve_device_codes = bool(auto_approve_device_codes)
            if certification_rules is not None:
                self.state.certification_rules = bool(certification_rules)
            if device_code_interval is not None:
                if not 0 <= int(device_code_interval) <= 60:
                    raise ValueError("device_code_interval must be 0 to 60 seconds")
                self.state.device_code_interval = int(device_code_interval)
            if subdomain_blob_urls is not None:
                self.subdomain_blob_urls = bool(subdomain_blob_urls)
            return {
                "admin_consent_required": self.state.admin_consent_required,
                "conditional_access_blocked": self.state.conditional_access_blocked,
                "auto_approve_device_codes": self.state.auto_approve_device_codes,
                "certification_rules": self.state.certification_rules,
                "device_code_interval": self.state.device_code_interval,
                "subdomain_blob_urls": self.subdomain_blob_urls,
            }

    def set_behaviour(self, **changes: Any) -> dict[str, Any]:
        """Switch the APIs' unconfirmed behaviours (state.ApiBehaviour: page_size,
        honour_custom_filter, patch_answer, validation_format, validation_findings, ...)."""
        with self.state.lock:
            behaviour = self.state.api
            for name, value in changes.items():
                if not hasattr(behaviour, name):
                    raise ValueError(f"no behaviour {name!r}")
                setattr(behaviour, name, value)
            if not 1 <= behaviour.page_size <= 5000:
                raise ValueError("page_size must be 1 to 5000")
            if behaviour.patch_answer not in ("connector", "empty", "204"):
                raise ValueError("patch_answer must be connector, empty or 204")
            return dict(vars(behaviour))

    def revoke_access_tokens(self) -> None:
        """Every access token issued so far stops working (a new signing key), as after an
        administrator revoked sessions; refresh tokens still work."""
        with self.state.lock:
            self.state.signing_key = secrets.token_bytes(32)

    def set_maker(self, environment: str, allowed: bool) -> None:
        """Give or take the maker role in `environment` (403 on its connectors without it)."""
        with self.state.lock:
            self.state.environments[environment].makers = allowed

    def add_environment(self, display_name: str) -> str:
        with self.state.lock:
            name = new_guid()
            self.state.environments[name] = Environment(name, display_name)
            return name

    def connectors(self, environment: str | None = None) -> list[dict[str, Any]]:
        """The stored connectors (with openApiDefinition and clientSecrets), newest last."""
        with self.state.lock:
            envs = (
                [self.state.environments[environment]]
                if environment
                else list(self.state.environments.values())
            )
            return [copy.deepcopy(r) for env in envs for r in env.connectors.values()]

    def blob(self, url: str) -> bytes | None:
        """The bytes stored at a blob URL this emulator handed out (path or subdomain style)."""
        split = urlsplit(url)
        request = Request(
            origin="blob",
            base_url=self.origins["blob"],
            method="GET",
            path=split.path,
            query=parse_qs(split.query),
            headers={"host": split.netloc},
        )
        answer = powerapps.handle_blob(self.state, request)
        return answer.body if answer.status == 200 else None

    def issued_secrets(self) -> set[str]:
        with self.state.lock:
            return self.state.issued_secrets() | self.records.secrets()

    def control(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """HTTP controls under /_emulator/powerplatform/ on the auth server."""
        match (method, path):
            case ("GET", ""):
                return self.info()
            case ("POST", "device-codes/approve"):
                return {"approved": self.approve_device_code(body.get("user_code"))}
            case ("POST", "device-codes/decline"):
                return {"declined": self.decline_device_code(body.get("user_code"))}
            case ("GET", "device-codes"):
                return {"pending": self.pending_device_codes()}
            case ("POST", "policies"):
                return self.set_policies(**body)
            case ("POST", "behaviour"):
                return self.set_behaviour(**body)
            case ("POST", "makers"):
                self.set_maker(str(body["environment"]), bool(body["allowed"]))
                return {"environment": body["environment"], "allowed": bool(body["allowed"])}
            case ("POST", "environments"):
                return {"name": self.add_environment(str(body["display_name"]))}
            case ("GET", "connectors"):
                return self.connectors()
            case ("POST", "platform"):
                return self.set_platform(**body)
            case ("GET", "platform"):
                return self.set_platform()
            case ("GET", "connections"):
                return self.connections()
            case ("GET", "flows"):
                return self.flows()
            case ("GET", "redirect-urls"):
                return {"redirect_urls": self.redirect_urls()}
        return None
