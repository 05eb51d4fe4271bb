"""Is a runtime reachable from more of the network than it should be? Checks the agent can make itself.

A metal host's runtime must listen on the host's declared address only, and the host firewall
should admit that port only from the cluster's nodes (docs/metal-agent.md). The agent cannot read
the firewall without root, but it can notice the two mistakes that matter: a wildcard bind address,
and the port answering on another of the host's own addresses (a runtime bound to every interface,
whatever the configuration says). Both become Warning events on the service.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import socket
import subprocess
from collections.abc import Iterable

WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


def bind_warning(bind: str) -> str | None:
    """A warning when the runtime is told to listen on every interface."""
    if bind.strip() in WILDCARDS:
        return (
            f"the runtime listens on every interface ({bind or 'unset'}): bind it to the host's declared "
            "address (metalHosts[].address, or --bind-address) and allow its port in the host firewall only "
            "from the cluster's nodes"
        )
    return None


def local_addresses() -> list[str]:
    """The host's own IP addresses (ifconfig or ip, else its hostname's), loopback included; no link-local v6."""
    text = ""
    for cmd in (["ifconfig", "-a"], ["ip", "-o", "addr", "show"]):
        if shutil.which(cmd[0]):
            try:
                text = subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
            except (OSError, subprocess.SubprocessError):
                continue
            if text:
                break
    found = re.findall(r"\binet6?\s+(?:addr:)?([0-9a-fA-F.:]+)", text)
    try:
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)]
    except OSError:
        pass
    out = ["127.0.0.1"]
    for a in found:
        try:
            ip = ipaddress.ip_address(a.split("%")[0])
        except ValueError:
            continue
        if not (ip.version == 6 and ip.is_link_local) and str(ip) not in out:
            out.append(str(ip))
    return out


def reachable_on(port: int, addresses: Iterable[str], timeout: float = 0.5) -> list[str]:
    """The addresses among `addresses` on which something accepts TCP connections on `port`."""
    hits = []
    for address in addresses:
        try:
            with socket.create_connection((address, port), timeout=timeout):
                hits.append(address)
        except OSError:
            pass
    return hits


def _resolved(bind: str) -> set[str]:
    try:
        return {bind} | {info[4][0] for info in socket.getaddrinfo(bind, None)}
    except OSError:
        return {bind}


def exposure_warning(port: int, bind: str, addresses: Iterable[str]) -> str | None:
    """A warning when the runtime's port answers on an address of this host other than the one it binds."""
    mine = _resolved(bind)
    others = [a for a in addresses if a not in mine]
    hits = reachable_on(port, others)
    if hits:
        return (
            f"port {port} also answers on {', '.join(hits)} although the runtime should listen on {bind} only: "
            "it is bound wider than configured; restrict it and allow the port in the host firewall only from "
            "the cluster's nodes"
        )
    return None
