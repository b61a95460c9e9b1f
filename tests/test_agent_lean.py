"""The agent loads gRPC without mapping OpenSSL (agent/lean.py), and what it keeps out still
works when asked for: hashlib hashes with CPython's own code, ssl imports on demand."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

CHILD = """
import json, sys
import farmwatch.agent.cli, farmwatch.agent.run, farmwatch.agent.scan
import hashlib
def openssl_mapped():
    return sorted({line.split()[-1].rsplit("/", 1)[-1] for line in open("/proc/self/maps")
                   if "libssl" in line or "libcrypto" in line})
facts = {"modules": sorted(m for m in ("ssl", "_hashlib") if m in sys.modules), "mapped": openssl_mapped(),
         "sha256": hashlib.sha256(b"farmwatch").hexdigest()}
import ssl
ssl.create_default_context()
facts["mapped_after_ssl"] = openssl_mapped()
print(json.dumps(facts))
"""


def test_the_agent_process_maps_no_openssl_until_ssl_is_asked_for():
    facts = json.loads(subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout)
    assert facts["modules"] == [] and facts["mapped"] == []
    assert facts["sha256"] == hashlib.sha256(b"farmwatch").hexdigest()  # this process's hashlib is OpenSSL's
    assert any(name.startswith("libssl") for name in facts["mapped_after_ssl"])


SCAN_CHILD = """
import json, sys
from farmwatch.agent.scan import build_report
build_report()
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("farmwatch.agent.probes.macos", "farmwatch.agent.probes.windows")))))
"""


def test_a_linux_scan_loads_no_other_os_probe_code():
    loaded = json.loads(subprocess.run([sys.executable, "-c", SCAN_CHILD], capture_output=True, text=True, check=True).stdout)
    assert loaded == []


ARENA_CHILD = """
import ctypes, sys, threading
if sys.argv[1] == "agent":
    import farmwatch.agent.cli  # noqa: F401
def allocate():
    kept = [bytes(4096) for _ in range(200)]  # past pymalloc's 512 bytes: glibc's malloc
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per heap, on stderr
"""


def _arenas(program: str) -> int:
    done = subprocess.run([sys.executable, "-c", ARENA_CHILD, program], capture_output=True, text=True, check=True)
    return done.stderr.count("Arena ")


def test_the_agent_keeps_one_malloc_heap_however_many_threads_allocate():
    assert _arenas("plain python") > 1  # what glibc does without being told
    assert _arenas("agent") == 1
