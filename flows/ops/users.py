"""`make user`: add a user to the team's MLflow server (basic-auth on) and give them a permission on the
pipeline's experiment and registered model, through MLflow's own auth API.

Run as the MLflow admin: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD are the
admin's. The new user's password comes from MLFLOW_NEW_USER_PASSWORD, or is asked for; never a command line.

    python -m flows.ops.users alice --permission READ
    python -m flows.ops.users pipeline --permission EDIT   # the identity the workers run as

READ browses runs and models; EDIT also logs runs and registers versions and moves aliases; MANAGE also grants.
Everyone authenticated reads everything (MLflow's default_permission, READ); what does not exist yet is managed
by whoever creates it (the workers' user, on the first pipeline run).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")


def new_password(name: str) -> str:
    password = os.environ.get("MLFLOW_NEW_USER_PASSWORD") or ""
    if not password and sys.stdin.isatty():
        password = getpass.getpass(f"password for {name} (12 characters or more): ")
    if len(password) < 12:
        raise SystemExit("the new user's password (MLFLOW_NEW_USER_PASSWORD, or typed when asked) must have at "
                         "least 12 characters")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.ops.users", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("--permission", choices=PERMISSIONS, default="READ")
    parser.add_argument("--experiment", default="keras-mlops")
    parser.add_argument("--model", default="keras-mlops-model")
    args = parser.parse_args(argv)
    uri = os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri.startswith(("http://", "https://")):
        print("MLFLOW_TRACKING_URI must be the team's MLflow server (http://HOST:5000)", file=sys.stderr)
        return 1
    from training.tracking.access import add_user
    from training.tracking.errors import TrackingError

    try:
        for line in add_user(uri, args.name, lambda: new_password(args.name), args.permission, args.experiment,
                             args.model):
            print(line)
    except TrackingError as error:
        print(f"MLflow refused: {error.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
