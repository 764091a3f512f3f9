"""A real headless Chromium driven through the DevTools protocol, for the pages that need a signed-in user:
MLflow's basic-auth (an Authorization header on every request, as the browser sends once its login prompt is
answered) and the Prefect UI's login form (typed into, as a user does). `--dump-dom` can do neither."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import stop_group

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1600,1000"]


def chromium() -> str:
    browser = shutil.which("chromium")
    if not browser:
        pytest.skip("Chromium is not installed: `make test-system` installs it (Debian's package, as root)")
    return browser


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class Browser:
    """One Chromium in a process group of its own, stopped on exit whatever happens; one tab."""

    def __init__(self, profile: Path):
        self.profile = profile

    def __enter__(self) -> Browser:
        from websockets.sync.client import connect

        self.process = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={self.profile}",
                                         "--remote-debugging-port=0", "about:blank"], start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file, deadline = self.profile / "DevToolsActivePort", time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                assert self.process.poll() is None and time.monotonic() < deadline, "Chromium did not start"
                time.sleep(0.2)
            port = port_file.read_text().split()[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                tab = next(t for t in json.loads(answer.read()) if t["type"] == "page")
            self.socket = connect(tab["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
        except BaseException:
            stop_group(self.process.pid, leader=self.process)
            raise
        self.ids = itertools.count(1)
        return self

    def __exit__(self, *exc) -> None:
        self.socket.close()
        stop_group(self.process.pid, leader=self.process)

    def call(self, method: str, **params):
        sent = next(self.ids)
        self.socket.send(json.dumps({"id": sent, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == sent:
                assert "error" not in message, (method, message["error"])
                return message["result"]

    def headers(self, headers: dict[str, str]) -> None:
        self.call("Network.enable")
        self.call("Network.setExtraHTTPHeaders", headers=headers)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def run(self, script: str):
        return self.call("Runtime.evaluate", expression=script, returnByValue=True).get("result", {}).get("value")

    def text_once(self, words: list[str], timeout: float = 60) -> str:
        """The page's visible text once it shows every one of `words` (what it shows then, if it never does)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.run("document.body ? document.body.innerText : ''") or ""
            if all(word in text for word in words) or time.monotonic() > deadline:
                return text
            time.sleep(0.5)
