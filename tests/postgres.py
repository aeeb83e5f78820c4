"""A throwaway PostgreSQL server for the multi-instance tests, from Debian's packages.

`.ci/run` installs them; locally the tests are skipped if no server binaries exist,
unless SKILLBOT_REQUIRE_PG=1 (CI sets it), when a missing server is a failure."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://skillbot@127.0.0.1:{self.port}/skillbot"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> Postgres:
        if os.geteuid() == 0:
            shutil.chown(self.data_dir.parent, "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "skillbot", "--auth=trust", "-E", "UTF8", "--locale=C")
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-w", "-l", str(self.data_dir / "log"), "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "skillbot", "skillbot")
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "stop")
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> Postgres | None:
    bin_dir = _bin_dir()
    if bin_dir is None:
        return None
    # Not under pytest's tmp dirs: those are private to root, and the server runs as postgres.
    workdir = Path(tempfile.mkdtemp(prefix="skillbot-pg-"))
    os.chmod(workdir, 0o755)
    return Postgres(bin_dir, workdir / "data", free_port()).start()
