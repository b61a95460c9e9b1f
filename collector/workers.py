"""`serve --workers N`: N serving processes on one port, and their parent watching over them.

One Python process runs its servicers on one core (the GIL), so the collector runs N of them
(`CollectorServer(worker=True)`), each listening on the same port with SO_REUSEPORT: the kernel
hands each new connection to one of them. What they share lives in the database, which every
worker reads on each call: a revoked certificate is refused on its next call whichever worker
takes it, and an enrollment token is spent in one write transaction, so once across all of them.
Writes take first-come-first-served turns (storage/write_turns.py). What each worker keeps in
memory alone: device groups for the allow-list (looked up again after a minute), and the limits
that protect it from one client — per-device budgets, the enrollment rate limit, analysts' running
statements and flag streams —, which a client can therefore spend once per worker it reaches.

The parent serves nothing itself. It makes the port theirs, starts them, runs the jobs (retention,
correlation: once per collector) and starts a worker again when one dies. A port shared with
SO_REUSEPORT would let any other process of the same user share it too, so before its workers
bind, the parent checks the port is free (a plain bind, which fails against any listener) and
holds a name of its own for the port (an abstract Unix socket, released by the kernel however
the parent ends): a second collector fails on one or the other instead of splitting the agents.

Each worker holds one end of a socket pair whose other end the parent keeps: the worker says
`ready` (or why it could not start) on it, and reads end-of-file from it when the parent goes,
however it goes (SIGTERM, kill -9): the worker then stops as on SIGTERM — no new calls, running
ones finished, every report it acknowledged already committed. A worker killed loses only the
calls it was answering: nothing was acknowledged before its commit, and its agents send again.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from farmwatch.collector import pki
from farmwatch.collector.config import CollectorConfig, ConfigError
from farmwatch.collector.fleet.neighbourhood import hasher_for
from farmwatch.collector.ingest import Store
from farmwatch.collector.jobs import Jobs
from farmwatch.collector.storage import describe as describe_database
from farmwatch.collector.server import CollectorServer, cannot_listen, serve_until_signal

log = logging.getLogger("farmwatch.collector.server")
READY_WITHIN = 120.0  # seconds for a worker to import, open the database and listen, on a busy machine
RESTART_PAUSE = 10.0  # a worker that dies this soon after its start is started again only after this long
STOP_AFTER_GRACE = 20.0  # seconds past the grace period before a worker that has not stopped is killed


def default_count() -> int:
    """One worker per CPU this process may run on; 1 off Linux (see `check_count`)."""
    if not sys.platform.startswith("linux"):
        return 1
    return len(os.sched_getaffinity(0)) or 1


def check_count(count: int) -> None:
    if count > 1 and not sys.platform.startswith("linux"):
        raise ConfigError(f"serve --workers {count} needs Linux (the kernel shares one port between processes "
                          "there); use --workers 1 on this system")


@dataclasses.dataclass
class _Worker:
    index: int
    process: subprocess.Popen
    control: socket.socket  # the parent's end of the pair
    started: float


class Workers:
    """`count` serving processes on `config.listen`. Made ready to serve (raises ConfigError when
    the port is taken or a worker cannot start); `start()` runs the jobs and watches the workers,
    `stop()` stops them all. `log_setup`, a picklable callable, sets up logging in each worker."""

    def __init__(self, config: CollectorConfig, count: int, log_setup=None):
        check_count(count)
        self.ca = pki.CertificateAuthority.load(config.pki_dir)
        port, self._port_name = _claim_port(config.listen)
        self.port = port
        self.config = dataclasses.replace(config, listen=f"{config.listen.rsplit(':', 1)[0]}:{port}")
        self.count, self._log_setup = count, log_setup
        hasher_for(config)  # the Wi-Fi key, made once here rather than raced for by the workers
        self.store = Store(config.database)  # the schema, migrated once before the workers open it
        self.jobs = Jobs(self.config, self.ca)
        self._stopping = threading.Event()
        self._workers: list[_Worker] = []
        self._watcher: threading.Thread | None = None
        try:
            self._workers = [self._spawn(index) for index in range(count)]
            for worker in self._workers:
                self._await_ready(worker)
        except BaseException:
            self._stop_workers(grace=0)
            self._close()
            raise

    def start(self) -> None:
        self.jobs.start()
        self._watcher = threading.Thread(target=self._watch, name="workers", daemon=True)
        self._watcher.start()
        log.info("event=serving listen=%s port=%d database=%s workers=%d", self.config.listen, self.port,
                 describe_database(self.config.database), self.count)

    def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        self.jobs.stop()
        self._stop_workers(grace)
        self._close()
        log.info("event=stopped")

    def serve_until_signal(self, stopping: threading.Event | None = None) -> None:
        serve_until_signal(self, stopping)

    # -- the workers ----------------------------------------------------------------------------
    def _spawn(self, index: int) -> _Worker:
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen([sys.executable, "-m", "farmwatch.collector.workers", str(theirs.fileno())],
                                       stdin=subprocess.PIPE, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        with process.stdin:
            process.stdin.write(pickle.dumps((self.config, index, self._log_setup)))
        return _Worker(index, process, ours, time.monotonic())

    def _await_ready(self, worker: _Worker) -> None:
        """Returns once `worker` serves; ConfigError with its reason when it cannot."""
        worker.control.settimeout(READY_WITHIN)
        try:
            with worker.control.makefile("rb") as reader:
                said = reader.readline()
        except TimeoutError:
            said = b""
        worker.control.settimeout(None)
        message = json.loads(said) if said.startswith(b"{") else {}
        if "ready" not in message:
            raise ConfigError(message.get("error") or f"serve worker {worker.index} (pid {worker.process.pid}) "
                              "did not start; the log above says why")
        log.info("event=worker_serving worker=%d pid=%d", worker.index, worker.process.pid)

    def _watch(self) -> None:
        """Start a worker again when it ends (its control socket reads end-of-file)."""
        while not self._stopping.is_set():
            ended, _, _ = select.select([w.control for w in self._workers], [], [], 0.5)
            for control in ended:
                if not self._stopping.is_set():
                    self._replace(next(w for w in self._workers if w.control is control))

    def _replace(self, dead: _Worker) -> None:
        code = dead.process.wait()
        dead.control.close()
        log.error("event=worker_died worker=%d pid=%d exit_code=%s", dead.index, dead.process.pid, code)
        # Exit code 0: the worker was stopped by a signal of its own, most likely the one that stops
        # the whole collector too (systemd signals every process of the service): give that a moment.
        pause = code == 0 or time.monotonic() - dead.started < RESTART_PAUSE
        while not self._stopping.wait(RESTART_PAUSE if pause else 0):
            try:
                worker = self._workers[dead.index] = self._spawn(dead.index)
                break
            except OSError as exc:  # no process to be had now (memory, the process limit)
                log.error("event=worker_start_failed worker=%d error=%r", dead.index, str(exc))
                pause = True
        else:
            return  # stopping: the watch ends, and the stop finds this worker ended
        try:
            self._await_ready(worker)
        except ConfigError as exc:  # it ended: the next turn of the watch sees it and tries again
            log.error("event=worker_start_failed worker=%d error=%r", dead.index, str(exc))
            return
        log.info("event=worker_restarted worker=%d pid=%d", worker.index, worker.process.pid)

    def _stop_workers(self, grace: float) -> None:
        for worker in self._workers:
            worker.control.close()  # end-of-file: the worker stops as on SIGTERM
        deadline = time.monotonic() + grace + STOP_AFTER_GRACE
        for worker in self._workers:
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("event=worker_killed worker=%d pid=%d reason=did_not_stop", worker.index,
                          worker.process.pid)
                worker.process.kill()
                worker.process.wait()

    def _close(self) -> None:
        self._port_name.close()
        self.store.close()


# -- the port ---------------------------------------------------------------------------------------

def _claim_port(listen: str) -> tuple[int, socket.socket]:
    """The port `listen` names (a free one for port 0), checked free, and the name that keeps a
    second collector from sharing it; ConfigError as the single-process `serve` says it."""
    host, _, port_text = listen.rpartition(":")
    port, probes = int(port_text), []
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM,
                                                                   flags=socket.AI_PASSIVE):
            probe = socket.socket(family, kind, proto)
            probes.append(probe)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC does: old connections don't count
            probe.bind((address[0], port, *address[2:]))
            port = port or probe.getsockname()[1]
        name = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            name.bind(f"\0farmwatch-collector port {port}")
        except OSError:
            name.close()
            raise
    except OSError:
        raise cannot_listen(listen) from None
    finally:
        for probe in probes:
            probe.close()
    return port, name


@contextlib.contextmanager
def core_log_kept_back():
    """gRPC's C core writes a failed bind to file descriptor 2 ("E… add_port.cc … Address already in
    use") before the server can say it in one line; keep what is written there meanwhile (in memory:
    the service may have no writable temporary folder), and pass it on when the server was made."""
    try:
        kept = _memory_file()
    except OSError:  # nowhere to keep it: let it through
        yield
        return
    with kept:
        saved = os.dup(2)
        os.dup2(kept.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        kept.seek(0)  # reached only when the server was made
        os.write(2, kept.read())


def _memory_file():
    if hasattr(os, "memfd_create"):  # Linux
        return os.fdopen(os.memfd_create("farmwatch-serve-stderr"), "w+b")
    return tempfile.TemporaryFile()


# -- one worker (`python -m farmwatch.collector.workers FD`, started by `Workers`) -------------------

def _tell(control: socket.socket, **message) -> bool:
    """Say `message` to the parent; False when it has gone (or stopped listening)."""
    try:
        control.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        return False
    return True


def _worker_main(control_fd: int) -> int:
    config, index, log_setup = pickle.load(sys.stdin.buffer)
    if log_setup is not None:
        log_setup()
    control = socket.socket(fileno=control_fd)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        with core_log_kept_back():
            server = CollectorServer(config, worker=True)
    except Exception as exc:  # the parent says it, once, for the whole collector
        if not isinstance(exc, ConfigError):
            log.exception("event=worker_start_failed worker=%d", index)
        _tell(control, error=str(exc))
        return 1
    server.start()
    if not _tell(control, ready=server.port):  # the parent has gone while this worker started
        server.stop()
        return 1

    def parent_gone():
        control.recv(1)  # end-of-file: the parent stopped us, or ended without a word
        stopping.set()

    threading.Thread(target=parent_gone, name="parent", daemon=True).start()
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(int(sys.argv[1])))
