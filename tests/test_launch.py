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
leave(143)
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


def test_threads_that_are_not_daemons_are_waited_for_as_at_an_ordinary_exit() -> None:
    child = """
import threading, time
from clmwizard.launch import leave

def last_write():
    time.sleep(0.3)
    print("written", flush=True)

threading.Thread(target=last_write).start()
leave(5)
"""
    ran = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert (ran.returncode, ran.stdout, ran.stderr) == (5, "written\n", "")
