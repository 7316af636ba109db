"""No RSA key material anywhere: `clmwizard jwt` (every outcome, --debug included) and
`credentials` without --reveal, searched in the config folder, stdout/stderr, every log record
(DEBUG, httpx and httpcore included) and this process's argv and environment."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest

from clmwizard.cli import main
from clmwizard.docusign.jwt import check_profile_jwt
from clmwizard.emulator import Emulator
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import KeyringSecretStore
from tests.docusign.helpers import redirect_location
from tests.qualities.security.leaks import (
    Needles,
    files_under,
    find,
    kind_of,
    log_text,
    process_texts,
)
from tests.support.jwt_profiles import jwt_profile, other_rsa_key
from tests.support.keyrings import MemoryKeyring


def test_jwt_and_credentials_leak_no_rsa_key(
    memory_keyring: MemoryKeyring,
    config_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs: dict[str, str] = {}
    wrong = other_rsa_key()
    secrets = KeyringSecretStore(memory_keyring)

    def run(label: str, *argv: str) -> int:
        code = main(list(argv))
        out, err = capfd.readouterr()
        outputs[f"{label} (stdout)"] = out
        outputs[f"{label} (stderr)"] = err
        return code

    with Emulator() as emu:
        jwt_profile(emu, secrets)
        assert run("jwt consent needed", "jwt", "--profile", "system") == 3
        url = next(
            line.strip()
            for line in outputs["jwt consent needed (stdout)"].splitlines()
            if "/oauth/auth?" in line
        )
        redirect_location(url)
        assert run("jwt given", "--debug", "jwt", "--profile", "system") == 0
        for fmt in ("text", "json", "yaml"):
            assert (
                run(f"credentials {fmt}", "credentials", "--profile", "system", "--format", fmt)
                == 0
            )
        jwt_profile(emu, secrets, name="wrongkey", private_key=wrong)
        assert run("jwt wrong key", "--debug", "jwt", "--profile", "wrongkey") == 1
        jwt_profile(emu, secrets, name="stranger", jwt_user_id=str(uuid.uuid4()))
        assert run("jwt unknown user", "--debug", "jwt", "--profile", "stranger") == 1

        async def skewed() -> None:
            async with httpx.AsyncClient() as client:
                await check_profile_jwt(
                    "system", ProfileStore(), secrets, client, clock=lambda: time.time() + 7200
                )

        import asyncio

        with pytest.raises(Exception) as caught:
            asyncio.run(skewed())
        outputs["clock skew error"] = caught.value.render()  # type: ignore[attr-defined]

        needles = Needles()
        needles.add_pem("emulator RSA key", emu.jwt_private_key)
        needles.add_pem("wrong RSA key", wrong)
        # the codes of the consent page went through this test's own stand-in browser
        issued = emu.issued_secrets() - {emu.jwt_private_key}
        access = sorted(t for t in issued if kind_of(t, {5: "access"}) == "access")
        assert access
        for index, token in enumerate(access):
            needles.add(f"access token {index}", token)

    haystacks: dict[str, str | bytes] = {
        **files_under(config_dir),
        **outputs,
        **log_text(caplog.records),
        **process_texts([os.getpid()]),
    }
    assert len(needles) > 50
    hits = find(needles, haystacks)
    assert hits == [], "\n".join(hits)
