"""httpx clients for the Microsoft side: one async client for the Power Apps API and the icon
storage, one sync client handed to MSAL (so MSAL never reads REQUESTS_CA_BUNDLE and trusts
exactly what clmwizard trusts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clmwizard.errors import UsageError

if TYPE_CHECKING:
    import ssl

    import httpx

TIMEOUT = 30.0


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's trust store, plus `ca_bundle` when given: a PEM file, or PEM text itself
    (what `clmwizard emulator` prints as `power_platform.ca_cert`)."""
    import ssl

    context = ssl.create_default_context()
    if ca_bundle:
        try:
            if ca_bundle.lstrip().startswith("-----BEGIN"):
                context.load_verify_locations(cadata=ca_bundle)
            else:
                context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            raise UsageError(
                f"Could not read the CA bundle {ca_bundle}.",
                cause=f"{str(error)[:200]}.",
                fix="Point CLMWIZARD_CA_BUNDLE at a readable PEM file (or set it to the PEM "
                "text), or unset it.",
                field="ca_bundle",
            ) from None
    return context


def make_async_client(ca_bundle: str | None, *, timeout: float = TIMEOUT) -> httpx.AsyncClient:
    import httpx

    from clmwizard.docusign.http import USER_AGENT

    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=ssl_context(ca_bundle),
    )


def make_sync_client(ca_bundle: str | None, *, timeout: float = TIMEOUT) -> httpx.Client:
    import httpx

    from clmwizard.docusign.http import USER_AGENT

    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=ssl_context(ca_bundle),
    )


class MsalHttpClient:
    """The `http_client` MSAL accepts (requests-like get/post), backed by an httpx.Client."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        return self.client.get(url, params=params, headers=headers, timeout=_timeout(kwargs))

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        if isinstance(data, (str, bytes)):
            return self.client.post(
                url, params=params, content=data, headers=headers, timeout=_timeout(kwargs)
            )
        return self.client.post(
            url, params=params, data=data, headers=headers, timeout=_timeout(kwargs)
        )

    def close(self) -> None:
        self.client.close()


def _timeout(kwargs: dict[str, Any]) -> Any:
    timeout = kwargs.get("timeout")
    return TIMEOUT if timeout is None else timeout
