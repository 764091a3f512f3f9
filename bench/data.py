"""Reading the team's data: a 1M-row, 50-column table from PostgreSQL and from Parquet parts on an S3-compatible
server, loaded, split and fingerprinted (content digests included) through the product's own path, each source
in a fresh process so its peak memory is its own. Reports the read time per million rows and the peak memory
above the process's start, against the table's own size (goal: about 2x).

Real servers on 127.0.0.1, started here and stopped after: a PostgreSQL cluster (Debian's package: `make
test-system`) and moto's S3 server (the test extra).

    make bench-data                      # 1M rows
    make bench-data ARGS="--rows 100000"
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record, table

COLUMNS = 50  # 49 features and the target
PARTS = 10


def synthetic(rows: int):
    """49 numeric features and a 3-class target, float64: 8 bytes a value, 400 MB at 1M rows."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, COLUMNS - 1))
    frame = pd.DataFrame(x, columns=[f"f{i:02d}" for i in range(COLUMNS - 1)])
    frame["target"] = (x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")
    return frame


def rss_mib() -> float:
    """This process's resident memory now (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """The highest resident memory while it runs, sampled every 20 ms on a thread of its own (ru_maxrss would
    also count an earlier peak, such as an import's)."""

    def __enter__(self):
        import threading

        self.start, self.peak, self.stop = rss_mib(), rss_mib(), threading.Event()

        def sample():
            while not self.stop.wait(0.02):
                self.peak = max(self.peak, rss_mib())

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, rss_mib())


def one(data: str, table_name: str | None, rows: int) -> dict:
    """In a fresh process: load, split (the fingerprint and content digests with it), time and peak memory."""
    from training.config import PipelineConfig
    from training.data.split import make_split
    from training.data.tables import load_dataset

    config = PipelineConfig(data=data, table=table_name, target="target")
    import pyarrow.parquet  # noqa: F401  (the readers' code is loaded first: what is measured is the data's)
    import s3fs  # noqa: F401
    import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

    with PeakSampler() as memory:
        began = time.perf_counter()
        dataset = load_dataset(data, "target", table=table_name)
        read_s = time.perf_counter() - began
        table_mib = dataset.frame.memory_usage(deep=True).sum() / 2**20
        split = make_split(dataset, config.fractions, config.seed)
        total_s = time.perf_counter() - began
    return {"rows": sum(split.rows.values()), "table_mib": table_mib, "read_s": read_s, "split_s": total_s - read_s,
            "start_mib": memory.start, "peak_mib": memory.peak}


def measure(data: str, table_name: str | None, rows: int, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.data", "--one", data, *(["--table", table_name]
                                                                             if table_name else []),
                           "--rows", str(rows)], capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        raise SystemExit(f"{data}: {done.stderr[-3000:]}")
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])


def load_postgres(server, frame) -> str:
    """The table into a database `bench` of `server`, with PostgreSQL's COPY (fast, no pandas in between)."""
    import psycopg

    with psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                         dbname=server.database) as connection:
        columns = ", ".join(f'"{c}" double precision' if c != "target" else '"target" bigint' for c in frame.columns)
        connection.execute(f"create table events ({columns})")
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False)
        buffer.seek(0)
        with connection.cursor().copy("copy events from stdin with (format csv)") as copy:
            while chunk := buffer.read(1 << 24):
                copy.write(chunk)
    return f"postgresql://{server.user}@{server.host}:{server.port}/{server.database}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(one(args.one, args.table, args.rows)), flush=True)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.e2e.postgres import postgres_server
    from tests.e2e.s3 import s3_server

    frame = synthetic(args.rows)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-data-") as folder:
        with postgres_server("bench") as server:
            url = load_postgres(server, frame)
            results.append(("PostgreSQL table", measure(url, "events", args.rows,
                                                        {"KERAS_MLOPS_DATA_PASSWORD": server.password})))
        with s3_server(Path(folder) / "moto.log") as s3:
            size = -(-len(frame) // PARTS)
            for i in range(PARTS):
                s3.put("bench", f"events/part={i:02d}/part-0.parquet", frame.iloc[i * size:(i + 1) * size].to_parquet())
            results.append((f"S3, {PARTS} Parquet parts", measure("s3://bench/events/", None, args.rows, s3.env)))
    rows = [{"source": name, "rows": r["rows"], "table MiB": round(r["table_mib"]),
             "read s": round(r["read_s"], 1), "read s per 1M rows": round(r["read_s"] * 1e6 / r["rows"], 1),
             "split + digests s": round(r["split_s"], 1), "peak MiB above start": round(r["peak_mib"] - r["start_mib"]),
             "peak / table": round((r["peak_mib"] - r["start_mib"]) / r["table_mib"], 2)} for name, r in results]
    record("data", f"Reading the team's data: {args.rows:,} rows x {COLUMNS} columns",
           "Load (read, validate), split and fingerprint (the content digests included) in a fresh process per "
           "source; peak resident memory above the process's start, against the table's own size in pandas.\n\n"
           + table(rows))


if __name__ == "__main__":
    main()
