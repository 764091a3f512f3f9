"""A real S3-compatible server for the object-store tests: moto's server on a free loopback port, with its
authentication on (a key of an IAM user, made through the server's own IAM API; any other key is refused), in a
process group of its own that is always stopped."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support import Processes, free_port, wait_for_http

# Requests the server answers without credentials: the three that make the IAM user, its key and its policy.
SETUP_REQUESTS = 3


@dataclass(frozen=True)
class S3:
    endpoint: str
    key_id: str
    secret: str

    @property
    def env(self) -> dict[str, str]:
        """What a worker or a shell exports to reach the store: the standard AWS variables."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.key_id,
                "AWS_SECRET_ACCESS_KEY": self.secret, "AWS_DEFAULT_REGION": "us-east-1"}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.key_id,
                            aws_secret_access_key=self.secret, region_name="us-east-1")

    def put(self, bucket: str, key: str, body: bytes) -> None:
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key=key, Body=body)


@contextlib.contextmanager
def s3_server(log: Path) -> Iterator[S3]:
    import boto3

    port, processes = free_port(), Processes()
    moto = str(Path(sys.executable).parent / "moto_server")
    try:
        server = processes.start([moto, "-H", "127.0.0.1", "-p", str(port)], log=log,
                                 env={"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS),
                                      "PATH": str(Path(sys.executable).parent)})
        endpoint = f"http://127.0.0.1:{port}"
        wait_for_http(f"{endpoint}/moto-api/", server, timeout=60)
        iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="setup", aws_secret_access_key="setup",
                           region_name="us-east-1")
        iam.create_user(UserName="pipeline")
        key = iam.create_access_key(UserName="pipeline")["AccessKey"]
        iam.put_user_policy(UserName="pipeline", PolicyName="data", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        yield S3(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        processes.stop_all()
