"""`python -m tests.powerplatform.browser_stand_in URL`: the browser MSAL opens for an
interactive sign-in. It returns at once and, in the background, follows the emulator's sign-in
to MSAL's loopback listener (a query redirect, or a form_post page it submits), trusting only
$CLMWIZARD_CA_BUNDLE."""

from __future__ import annotations

import html
import os
import re
import ssl
import subprocess
import sys

import httpx


def main(url: str) -> None:
    context = ssl.create_default_context(cafile=os.environ["CLMWIZARD_CA_BUNDLE"])
    with httpx.Client(verify=context, trust_env=False, timeout=10) as client:
        answer = client.get(url, follow_redirects=True)
        form = re.search(r'<form method="post" action="([^"]+)">', answer.text)
        if form:
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', answer.text))
            fields = {html.unescape(k): html.unescape(v) for k, v in fields.items()}
            client.post(html.unescape(form.group(1)), data=fields)


if __name__ == "__main__":
    if sys.argv[2:] == ["--now"]:
        main(sys.argv[1])
    else:  # return at once, as a real browser does: MSAL listens only after opening it
        subprocess.Popen([sys.executable, "-m", __spec__.name, sys.argv[1], "--now"])
