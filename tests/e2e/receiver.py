"""A chat channel's incoming webhook on 127.0.0.1, for the notices' tests."""

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator


class Receiver(http.server.ThreadingHTTPServer):
    """A chat channel's incoming webhook: records every JSON body posted to it."""

    def __init__(self):
        self.received: list[dict] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"

    def wait_for(self, words: list[str], timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for notice in self.received:
                if all(word in notice["text"] for word in words):
                    return notice
            time.sleep(0.5)
        raise AssertionError(f"no notice with {words} within {timeout:.0f} s; received: {self.received}")


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver serving on its own thread until the block ends."""
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
