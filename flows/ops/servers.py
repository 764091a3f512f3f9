"""`make server` / `make stop`: a Prefect server and an MLflow tracking server for a team, on 127.0.0.1.

Each server runs in its own process group, recorded in a state file, so `stop` ends exactly what `start`
started (and the processes those servers spawned), nothing else.

Credentials, with the servers' own mechanisms (flows/server_auth.py): MLflow's basic-auth app when
MLFLOW_AUTH_ADMIN_PASSWORD is set, Prefect's API auth string when PREFECT_API_AUTH_STRING is. Both are required
on any address but loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flows.ops.auth import Credentials, auth_problem, mlflow_auth_env, without_secrets
from flows.ops.ports import describe_holders, held_by_group, taken
from training.config import redact_uri
from training.runtime.progress import log_tail

BIN = Path(sys.executable).parent


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


_processes: dict[int, subprocess.Popen] = {}


def _spawn(command: list[str], log: Path, env: dict[str, str]) -> int:
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    _processes[process.pid] = process
    return process.pid


def database_problem(url: str) -> str | None:
    """Why MLflow could not use this database (unreachable, wrong password, no such database), or None.

    Asked before any server starts: MLflow's server keeps running when its database is unreachable, and would
    only be seen not answering after the start timeout.
    """
    if url.startswith("sqlite:"):
        return None  # a file MLflow creates
    import sqlalchemy

    engine = None
    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 10} if url.startswith(
            "postgresql") else {})
        with engine.connect():
            return None
    except Exception as error:  # the driver's own message names host, port, user or database, never the password
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        return " ".join(line.strip() for line in lines if line.strip() and "sqlalche.me" not in line)
    finally:
        if engine is not None:
            engine.dispose()


def reachable(host: str) -> str:
    """The name teammates use for this machine when the servers listen on every address."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    name = socket.getfqdn()
    # getfqdn() answers "localhost" where the machine's name maps to 127.0.0.1 in /etc/hosts: no use to others.
    return socket.gethostname() if name == "localhost" or name.startswith("localhost.") else name


def local(host: str) -> str:
    """Where this machine reaches a server that listens on `host`: its health is asked here, never through a proxy."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def ports_of(args) -> dict[str, int]:
    return {"prefect": args.prefect_port, "mlflow": args.mlflow_port}


def port_problem(args) -> str | None:
    """Why a server could not listen where it is asked to (the two on one port, or a port taken), or None."""
    if args.prefect_port == args.mlflow_port:
        return f"the Prefect and MLflow servers cannot share port {args.prefect_port}; give them two"
    for name, port in ports_of(args).items():
        if taken(args.host, port):
            option = {"prefect": "PREFECT_PORT", "mlflow": "MLFLOW_PORT"}[name]
            return (f"port {port} on {args.host}, for the {name} server, is taken by {describe_holders(port)}; "
                    f"stop it, or choose another: make server {option}=...")
    return None


def start(args) -> int:
    state_file = Path(args.state)
    if state_file.exists():
        print(f"servers already started (see {state_file}); run `make stop` first", file=sys.stderr)
        return 1
    credentials = Credentials.from_environment(os.environ)
    if problem := auth_problem(args.host, credentials) or port_problem(args):
        print(problem, file=sys.stderr)
        return 1
    for url in (args.backend_store_uri, *([args.auth_store_uri] if credentials.mlflow_admin_password else [])):
        if problem := database_problem(url):
            print(f"cannot use the database {redact_uri(url)}: {problem}", file=sys.stderr)
            return 1
    state_file.parent.mkdir(parents=True, exist_ok=True)
    artifacts = Path(args.artifacts).resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    # The database URL and each server's secrets go to that server alone (below), not to every process.
    inherited = without_secrets({k: v for k, v in os.environ.items() if k != "MLFLOW_BACKEND_STORE_URI"})
    env = {**inherited, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           # The scheduler fills in upcoming runs of scheduled deployments; every 10 s instead of 60 s.
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "10"}
    logs = state_file.parent
    prefect_url = args.prefect_public_url.rstrip("/") if args.prefect_public_url else \
        f"http://{reachable(args.host)}:{args.prefect_port}"
    mlflow_url = f"http://{reachable(args.host)}:{args.mlflow_port}"
    # The Prefect UI's pages call the API at this URL from the user's browser: Prefect's default is
    # 127.0.0.1:4200, which is wrong on any other port, and on a teammate's machine.
    # PREFECT_UI_URL: the links in failure notices (flows/notices.py) point there.
    prefect_env = {**env, "PREFECT_UI_API_URL": f"{prefect_url}/api", "PREFECT_UI_URL": prefect_url,
                   **credentials.prefect_server_env()}
    mlflow_command = [str(BIN / "mlflow"), "server", "--artifacts-destination", str(artifacts), "--serve-artifacts",
                      "--host", args.host, "--port", str(args.mlflow_port), "--workers", "1"]
    mlflow_env = {**env, "MLFLOW_BACKEND_STORE_URI": args.backend_store_uri}
    if credentials.mlflow_admin_password:
        mlflow_command += ["--app-name", "basic-auth"]
        mlflow_env |= mlflow_auth_env(credentials, args.auth_store_uri, state_file.parent)
    state = {
        "prefect": {"pid": _spawn([str(BIN / "prefect"), "server", "start", "--host", args.host, "--port",
                                   str(args.prefect_port)], logs / "prefect-server.log", prefect_env),
                    "url": prefect_url, "health": f"http://{local(args.host)}:{args.prefect_port}/api/health"},
        # --serve-artifacts: workers on other machines upload artifacts through this server. The database URL
        # goes through the environment, not the command line, where `ps` would show its password to every user.
        "mlflow": {"pid": _spawn(mlflow_command, logs / "mlflow-server.log", mlflow_env),
                   "url": mlflow_url, "health": f"http://{local(args.host)}:{args.mlflow_port}/health"},
    }
    state_file.write_text(json.dumps(state, indent=2))
    deadline = time.monotonic() + args.timeout
    waiting = set(state)
    while waiting and time.monotonic() < deadline:
        # A server that died (its port taken, say) must not pass for healthy because another answers there.
        dead = sorted(name for name in state if _processes[state[name]["pid"]].poll() is not None)
        if dead:
            for name in dead:
                log = logs / f"{name}-server.log"
                print(f"{name} exited at start (its port in use? its database unreachable?); the end of {log}:\n"
                      f"{log_tail(log, 15)}", file=sys.stderr)
            stop(args)
            return 1
        waiting = {name for name in waiting if not _healthy(state[name]["health"])}
        time.sleep(0.5)
    if waiting:
        print(f"{', '.join(sorted(waiting))} did not answer within {args.timeout} s; logs in {logs}; stopping",
              file=sys.stderr)
        stop(args)
        return 1
    # What answered the health checks must be what was started here, not another server on the same port.
    for name, port in ports_of(args).items():
        if not held_by_group(port, state[name]["pid"]):
            print(f"{name}: what answers on port {port} is not the server started here but "
                  f"{describe_holders(port)}; stopping", file=sys.stderr)
            stop(args)
            return 1
    print(f"Prefect server:  {prefect_url}   (export PREFECT_API_URL={prefect_url}/api)")
    print(f"MLflow server:   {mlflow_url}   (export MLFLOW_TRACKING_URI={mlflow_url})")
    print(f"store:           {redact_uri(args.backend_store_uri)}, artifacts in {artifacts}; logs in {logs}")
    print(f"credentials:     {credentials.describe(args.auth_store_uri)}")
    return 0


def stop(args) -> int:
    state_file = Path(args.state)
    if not state_file.exists():
        print("no servers started by `make server` are running")
        return 0
    state = json.loads(state_file.read_text())
    for name, server in state.items():
        try:
            os.killpg(server["pid"], signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.killpg(server["pid"], 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server["pid"], signal.SIGKILL)
        print(f"stopped {name} ({server['url']})")
    state_file.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.ops.servers", description=__doc__)
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--state", default=".run/servers.json", help="where the started processes are recorded")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--prefect-port", type=int, default=4200)
    parser.add_argument("--mlflow-port", type=int, default=5000)
    parser.add_argument("--prefect-public-url", default=os.environ.get("PREFECT_PUBLIC_URL") or None,
                        help="the Prefect server's URL as browsers reach it, behind a proxy (https://prefect.example."
                             "com); default http://HOST:PORT")
    # From the environment by default (make server passes DB_URL so): no password on a command line.
    parser.add_argument("--backend-store-uri",
                        default=os.environ.get("MLFLOW_BACKEND_STORE_URI") or "sqlite:///mlruns/server.db",
                        help="MLflow's database: SQLite by default, or a PostgreSQL URL for a team "
                             "(postgresql://USER@HOST:5432/DB; the password from PGPASSWORD or ~/.pgpass)")
    parser.add_argument("--auth-store-uri", default=os.environ.get("MLFLOW_AUTH_STORE_URI") or
                        "sqlite:///mlruns/server-auth.db",
                        help="MLflow's user and permission database when basic-auth is on (its own, apart from "
                             "the runs'; a PostgreSQL URL as for --backend-store-uri)")
    parser.add_argument("--artifacts", default="mlruns/server-artifacts", help="where the server stores artifacts")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    return start(args) if args.command == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
