"""How the console entry point ends the process."""

from __future__ import annotations

import subprocess
import sys

# A daemon thread busy in cryptography's Rust code, the way a keyring call cut short by SIGTERM
# is (secretstorage decrypts with it); then the process ends through `leave`.
CHILD = """
import sys, threading, time
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from clmwizard.launch import leave

def keyring_call_still_running():
    while True:
        decryptor = Cipher(algorithms.AES(b"k" * 16), modes.CBC(b"i" * 16)).decryptor()
        decryptor.update(b"x" * 64) + decryptor.finalize()

threading.Thread(target=keyring_call_still_running, daemon=True).start()
time.sleep(float(sys.argv[1]))
print("said before leaving")
raise SystemExit(leave(143))
"""


def test_a_daemon_thread_inside_native_code_does_not_turn_an_exit_into_an_abort() -> None:
    # Without `leave`, interpreter shutdown aborts about one such process in six (SIGABRT,
    # "FATAL: exception not rethrown"): thirty of them all exiting 143 is the proof.
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, f"0.0{n % 9 + 1}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(30)
    ]
    for child in children:
        out, err = child.communicate(timeout=60)
        assert (child.returncode, out, err) == (143, "said before leaving\n", "")


def test_without_daemon_threads_the_exit_is_the_ordinary_one() -> None:
    from clmwizard.launch import leave

    assert leave(3) == 3
