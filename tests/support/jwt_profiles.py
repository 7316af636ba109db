"""A profile set up for JWT Grant against the emulator: key, integration user, RSA key stored."""

from __future__ import annotations

from clmwizard.emulator import Emulator
from clmwizard.store.profile import RSA_PRIVATE_KEY, Profile
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import SecretStore

SCOPES = ["signature", "spring_read", "spring_write", "extended"]


def jwt_profile(
    emu: Emulator,
    secrets: SecretStore,
    *,
    name: str = "system",
    redirect_uri: str = "http://127.0.0.1:8765/callback",
    private_key: str | None = None,
    **changes: object,
) -> Profile:
    profile = Profile(
        name=name,
        environment="custom",
        auth_server=emu.auth_server,
        clm_auth_server=emu.clm_auth_server,
        integration_key=emu.integration_key,
        scopes=list(SCOPES),
        redirect_uri=redirect_uri,
        jwt_user_id=emu.user_id,
    )
    for key, value in changes.items():
        setattr(profile, key, value)
    ProfileStore().save(profile)
    secrets.set_many(name, {RSA_PRIVATE_KEY: private_key or emu.jwt_private_key})
    return profile


def other_rsa_key(pkcs8: bool = True) -> str:
    """An RSA private key the emulator does not trust (PKCS#8, or the older PKCS#1 form)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8
        if pkcs8
        else serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
