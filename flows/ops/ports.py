"""Who listens on a TCP port: what `make server` asks before it starts a server there, and after.

Linux only (it reads /proc, as the suite's process guard does): /proc/net/tcp{,6} gives the inode of the socket
listening on a port, and the /proc/<pid>/fd links of each process name the sockets it holds. A process of
another user cannot be looked into: it is then reported as "a process this user cannot see".
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

LISTEN = "0A"  # the state column of /proc/net/tcp for a listening socket


def listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on `port`, on any address, IPv4 or IPv6."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def holders(port: int) -> list[tuple[int, str]]:
    """(pid, command line) of each process holding a socket that listens on `port`, as far as this user can see."""
    wanted = {f"socket:[{inode}]" for inode in listening_inodes(port)}
    found = []
    if not wanted:
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                found.append((int(entry.name), command))
    return found


def taken(host: str, port: int) -> bool:
    """Whether binding `host`:`port` fails: someone listens there (or on every address of that port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def describe_holders(port: int) -> str:
    """Who listens on `port`, in words, for an error message."""
    found = holders(port)
    if not found:
        return "a process this user cannot see" if listening_inodes(port) else "another socket"
    return "; ".join(f"pid {pid} ({' '.join(command.split())[:200]})" for pid, command in found)


def held_by_group(port: int, pgid: int) -> bool:
    """Whether a process of process group `pgid` (a server `make server` started, or a worker it forked) holds
    a socket listening on `port`."""
    for pid, _ in holders(port):
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pgid:
                return True
    return False
