"""`make server` / `make stop`: a Prefect server and an MLflow tracking server for a team, on 127.0.0.1.

Each server runs in its own process group, recorded in a state file, so `stop` ends exactly what `start`
started (and the processes those servers spawned), nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def start(args) -> int:
    state_file = Path(args.state)
    if state_file.exists():
        print(f"servers already started (see {state_file}); run `make stop` first", file=sys.stderr)
        return 1
    state_file.parent.mkdir(parents=True, exist_ok=True)
    artifacts = Path(args.artifacts).resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           # The scheduler fills in upcoming runs of scheduled deployments; every 10 s instead of 60 s.
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "10"}
    logs = state_file.parent
    prefect_url = f"http://{args.host}:{args.prefect_port}"
    mlflow_url = f"http://{args.host}:{args.mlflow_port}"
    state = {
        "prefect": {"pid": _spawn([str(BIN / "prefect"), "server", "start", "--host", args.host, "--port",
                                   str(args.prefect_port)], logs / "prefect-server.log", env),
                    "url": prefect_url, "health": f"{prefect_url}/api/health"},
        # --serve-artifacts: workers on other machines upload artifacts through this server.
        "mlflow": {"pid": _spawn([str(BIN / "mlflow"), "server", "--backend-store-uri", args.backend_store_uri,
                                  "--artifacts-destination", str(artifacts), "--serve-artifacts", "--host",
                                  args.host, "--port", str(args.mlflow_port), "--workers", "1"],
                                 logs / "mlflow-server.log", env),
                   "url": mlflow_url, "health": f"{mlflow_url}/health"},
    }
    state_file.write_text(json.dumps(state, indent=2))
    deadline = time.monotonic() + args.timeout
    waiting = set(state)
    while waiting and time.monotonic() < deadline:
        # A server that died (its port taken, say) must not pass for healthy because another answers there.
        dead = sorted(name for name in state if _processes[state[name]["pid"]].poll() is not None)
        if dead:
            print(f"{', '.join(dead)} exited at start (is the port in use?); see {logs}; stopping", file=sys.stderr)
            stop(args)
            return 1
        waiting = {name for name in waiting if not _healthy(state[name]["health"])}
        time.sleep(0.5)
    if waiting:
        print(f"{', '.join(sorted(waiting))} did not answer within {args.timeout} s; logs in {logs}; stopping",
              file=sys.stderr)
        stop(args)
        return 1
    print(f"Prefect server:  {prefect_url}   (export PREFECT_API_URL={prefect_url}/api)")
    print(f"MLflow server:   {mlflow_url}   (export MLFLOW_TRACKING_URI={mlflow_url})")
    print(f"store:           {args.backend_store_uri}, artifacts in {artifacts}; logs in {logs}")
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
    parser = argparse.ArgumentParser(prog="python -m flows.servers", description=__doc__)
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--state", default=".run/servers.json", help="where the started processes are recorded")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--prefect-port", type=int, default=4200)
    parser.add_argument("--mlflow-port", type=int, default=5000)
    parser.add_argument("--backend-store-uri", default="sqlite:///mlruns/server.db",
                        help="MLflow's database: SQLite by default, or a PostgreSQL URL for a team")
    parser.add_argument("--artifacts", default="mlruns/server-artifacts", help="where the server stores artifacts")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    return start(args) if args.command == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
