"""What `clmwizard --help` says besides the flags: what the program does, and the environment it
reads. Apart from cli.py, so that the generated help_text (read without argparse) shares them."""

DESCRIPTION = """\
From a DocuSign integration key to a working Power Automate custom connector for DocuSign CLM.

Run without a command to open the wizard. `clmwizard --demo` tours it against a built-in
DocuSign emulator, no account needed. Secrets live in the OS keyring, never in files or argv.
"""

EPILOG = """\
environment:
  CLMWIZARD_CONFIG_DIR   folder for profiles (default: the platform's user config folder)
  CLMWIZARD_SECRET_KEY   the secret key for `login` / `rotate` (instead of the hidden prompt)
  CLMWIZARD_CLIPBOARD    auto (default) | osc52 (send copies to the terminal) | manual (show them)
  CLMWIZARD_DEBUG        any value: like --debug (tracebacks, secrets redacted)
  CLMWIZARD_MS_CLIENT_SECRET  a service principal's secret for `publish --service-principal`
  CLMWIZARD_CA_BUNDLE    extra CA certificates to trust for the Microsoft side (PEM)
  BROWSER                the browser `login` and the wizard open (see Python's webbrowser)
  TERM, TERM_PROGRAM, TMUX, WT_SESSION, SSH_TTY
                         read to guess whether the terminal honours OSC 52 copies
  DISPLAY, WAYLAND_DISPLAY  named when no system clipboard works (as over SSH)
  COLUMNS                the width --help wraps to (default: the terminal's)
  test only: CLMWIZARD_TEST_BROWSER_DECISION  accept | decline, for the emulator's browser
  test only: CLMWIZARD_TEST_BROWSER_CA  the emulator's CA (PEM or file) for its browser
"""
