"""Split a discovered CLM base URL into what Power Automate asks for: scheme, host, base URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from clmwizard.errors import ClmWizardError
from clmwizard.store.profile import ConnectorName, Profile


@dataclass(frozen=True)
class BaseUrl:
    scheme: str  # "https", or "http" for the emulator on loopback
    host: str  # host[:port], no scheme, no slash
    base_path: str  # "/" or the URL's path without a trailing slash

    @property
    def origin_and_path(self) -> str:
        """The URL again, without a trailing slash (for routing policies)."""
        path = "" if self.base_path == "/" else self.base_path
        return f"{self.scheme}://{self.host}{path}"


def split_base_url(url: str, *, connector: str = "general") -> BaseUrl:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ClmWizardError(
            f"The CLM {connector} base URL {url!r} is not a web address clmwizard can use.",
            cause="It should look like https://apina11.springcm.com.",
            fix="Run `clmwizard login` again to discover it, or correct it in the wizard.",
            field=f"clm_hosts.{connector}",
        )
    path = parts.path.rstrip("/") or "/"
    return BaseUrl(parts.scheme, parts.netloc.lower(), path)


def require_signed_in(profile: Profile) -> tuple[str, dict[ConnectorName, BaseUrl]]:
    """The account id and the three CLM base URLs, or an error saying how to get them."""
    if profile.clm_hosts is None or profile.account_id is None:
        raise ClmWizardError(
            f"Profile {profile.name!r} has no CLM account yet.",
            cause="The CLM base URLs and the account id are found when you sign in.",
            fix=f"Run `clmwizard login --profile {profile.name} …` or open the wizard "
            f"(`clmwizard --profile {profile.name}`) and finish the sign-in first.",
            field="profile",
        )
    hosts = profile.clm_hosts
    urls: dict[ConnectorName, BaseUrl] = {
        "general": split_base_url(hosts.general, connector="general"),
        "upload": split_base_url(hosts.upload, connector="upload"),
        "download": split_base_url(hosts.download, connector="download"),
    }
    return profile.account_id, urls
