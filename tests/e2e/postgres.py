"""A real PostgreSQL server for the end-to-end tests: Debian's package (`make test-system` installs it), a
throwaway cluster on a free loopback port with a password, stopped and removed afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support import free_port


def postgres_bin() -> Path:
    """The folder of initdb and pg_ctl; the test is skipped, saying how to install them, where there are none."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        import pytest

        pytest.skip("PostgreSQL is not installed: `make test-system` installs it (Debian's package, as root)")
    return found[-1].parent


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                             dbname=self.database) as connection:
            return connection.execute(sql).fetchall()


@contextlib.contextmanager
def postgres_server(database: str = "mlflow") -> Iterator[Postgres]:
    """initdb + pg_ctl start on a free port (password auth, loopback only); always stopped and removed."""
    bin_dir = postgres_bin()
    # PostgreSQL refuses to run as root: as root (CI), the cluster belongs to Debian's `postgres` user.
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Under /tmp, not pytest's tmp_path: that is private to the test's user, and `postgres` must reach it.
    folder = Path(tempfile.mkdtemp(prefix="keras-mlops-pg-"))
    data, password_file = folder / "data", folder / "password"
    server = Postgres("127.0.0.1", free_port(), "mlflow", secrets.token_hex(12), database)
    password_file.write_text(server.password)
    if as_owner:
        shutil.chown(folder, "postgres")
        shutil.chown(password_file, "postgres")
    started = False
    try:
        subprocess.run([*as_owner, str(bin_dir / "initdb"), "-D", str(data), "-U", server.user, "-E", "UTF8",
                        "--auth=scram-sha-256", f"--pwfile={password_file}"], check=True, capture_output=True,
                       timeout=120)
        options = f"-p {server.port} -k {folder} -c listen_addresses={server.host}"
        started = True  # from here on it may be running, even if pg_ctl gives up waiting for it
        subprocess.run([*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                        "-o", options, "-w", "-t", "60", "start"], check=True, capture_output=True, timeout=120)
        subprocess.run([str(bin_dir / "createdb"), "-h", server.host, "-p", str(server.port), "-U", server.user,
                        database], check=True, capture_output=True, timeout=60,
                       env={**os.environ, "PGPASSWORD": server.password})
        yield server
    finally:
        if started:
            subprocess.run([*as_owner, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
