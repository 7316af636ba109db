"""The HTML the emulated account server shows in a browser: the consent page and error pages."""

from __future__ import annotations

from html import escape

from clmwizard.emulator.state import KNOWN_SCOPES

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       background: #f4f4f7; color: #1e1e2d; margin: 0; }
header { background: #260559; color: #fff; padding: 14px 28px; font-weight: 600; }
header small { font-weight: 400; opacity: .8; margin-left: 10px; }
main { max-width: 560px; margin: 40px auto; background: #fff; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); padding: 28px 32px; }
h1 { font-size: 22px; margin: 0 0 8px; }
.who { color: #555; margin-bottom: 18px; }
ul.scopes { padding-left: 0; list-style: none; }
ul.scopes li { padding: 8px 0; border-bottom: 1px solid #eee; }
ul.scopes code { color: #6b6b80; font-size: 12px; margin-left: 6px; }
.buttons { margin-top: 24px; display: flex; gap: 12px; justify-content: flex-end; }
button { font-size: 15px; padding: 9px 22px; border-radius: 4px; cursor: pointer; }
button.accept { background: #4c00ff; color: #fff; border: 1px solid #4c00ff; }
button.decline { background: #fff; color: #1e1e2d; border: 1px solid #999; }
p.error-message { color: #b00020; font-size: 17px; }
footer { text-align: center; color: #888; font-size: 12px; }
"""


def _page(title: str, content: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        "<body><header>DocuSign<small>clmwizard DocuSign emulator (test values only)"
        "</small></header>\n"
        f"<main>{content}</main>\n"
        "<footer>This page comes from the clmwizard DocuSign emulator running on this "
        "computer, not from DocuSign.</footer></body></html>\n"
    )


def consent_page(*, app_name: str, user_email: str, scopes: list[str], transaction: str) -> str:
    items = "\n".join(
        f"<li>{escape(KNOWN_SCOPES.get(s, s))}<code>{escape(s)}</code></li>" for s in scopes
    )
    content = (
        f"<h1>{escape(app_name)} would like to:</h1>\n"
        f'<p class="who">Signed in as {escape(user_email)} '
        "(clmwizard DocuSign emulator)</p>\n"
        f'<ul class="scopes">\n{items}\n</ul>\n'
        '<form method="post" action="/oauth/consent">\n'
        f'<input type="hidden" name="transaction_id" value="{escape(transaction)}">\n'
        '<div class="buttons">'
        '<button type="submit" class="decline" name="decision" value="decline">Decline</button>'
        '<button type="submit" class="accept" name="decision" value="accept">Accept</button>'
        "</div>\n</form>"
    )
    return _page("DocuSign: allow access", content)


def error_page(message: str) -> str:
    content = f'<h1>Something went wrong</h1>\n<p class="error-message">{escape(message)}</p>'
    return _page("DocuSign: error", content)
