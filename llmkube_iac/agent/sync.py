"""The agent's side of the API server: watch the desired state, publish endpoints, lease, status.

Everything here tolerates an unreachable API server: runtimes are never touched because of an
outage, and what could not be written is simply written again once the server answers.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime

import requests

from ..spec.metal import AGENT, STATUS_ANNOTATION, config_map_name, lease_name, slice_name
from .kube import ApiError, KubeClient
from .supervisor import Agent

log = logging.getLogger("llmkube.metal-agent")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ApiSync:
    """Two threads: a watcher (desired state -> agent) and a pusher (agent -> slices, lease, events)."""

    def __init__(self, agent: Agent, client: KubeClient):
        self.agent, self.client, self.cfg = agent, client, agent.cfg
        self.cm_name, self.lease_name = config_map_name(self.cfg.host), lease_name(self.cfg.host)
        self.wake = threading.Event()
        self.pushed: dict[str, tuple] = {}  # service -> (address, port, ready) as last written
        self.missing: set[str] = set()  # services whose slice does not exist (reported once)
        self.last_resync = time.monotonic()
        self.lease: dict | None = None
        self.last_status: str | None = None
        self.last_renew = 0.0
        self.heartbeat = 0.0  # wall time of the last successful Lease renewal (metrics)
        self.api_up = False
        self.pending_events: list[dict] = []
        self.lock = threading.Lock()
        self.closing = False
        self._pusher: threading.Thread | None = None
        agent.on_change = self.wake.set
        agent.on_event = self.event
        agent.read_secret = self.read_secret

    def start(self) -> None:
        threading.Thread(target=self._watch_loop, name="watch", daemon=True).start()
        self._pusher = threading.Thread(target=self._push_loop, name="push", daemon=True)
        self._pusher.start()

    def close(self, timeout: float = 5.0) -> bool:
        """After the agent stopped its runtimes: deregister (empty our slices), last status. True if done."""
        self.closing = True
        self.wake.set()
        if self._pusher:
            self._pusher.join(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.push()
                return True
            except (requests.RequestException, ApiError, ValueError) as err:
                log.warning("deregistration failed (%s); retrying", err)
                time.sleep(0.5)
        return False

    # -- desired state ---------------------------------------------------------------------------
    def _watch_loop(self) -> None:
        """List then watch from its resourceVersion; on failure back off; without watches, poll."""
        delay, watch_ok = 0.5, True
        while not self.agent.stopped.is_set():
            try:
                try:
                    cm = self.client.get("configmaps", self.cm_name)
                except ApiError as err:
                    if err.status != 404:
                        raise
                    cm = None
                self.agent.desired_from_configmap(cm)
                delay = 0.5
                rv = cm["metadata"]["resourceVersion"] if cm else "0"
                if not watch_ok:
                    self.agent.stopped.wait(self.cfg.poll_seconds)
                    watch_ok = True  # try the watch again next round
                    continue
                for ev in self.client.watch("configmaps", self.cm_name, rv, self.cfg.watch_timeout_seconds):
                    if ev.get("type") in ("ADDED", "MODIFIED"):
                        self.agent.desired_from_configmap(ev["object"])
                    elif ev.get("type") == "DELETED":
                        self.agent.desired_from_configmap(None)
                    elif ev.get("type") == "ERROR":  # e.g. 410 Gone: relist
                        break
                    if self.agent.stopped.is_set():
                        return
            except ApiError as err:
                log.warning("desired state: %s; polling every %ss", err, self.cfg.poll_seconds)
                watch_ok = False
            except (requests.RequestException, ValueError) as err:
                log.info("API server unreachable (%s); runtimes keep running, retrying in %.1fs", err, delay)
                self.api_up = False
                self.agent.stopped.wait(delay)
                delay = min(delay * 2, 5.0)

    # -- pushing ---------------------------------------------------------------------------------
    def _push_loop(self) -> None:
        while not self.closing:
            self.wake.clear()
            try:
                self.push()
                self.api_up = True
            except (requests.RequestException, ApiError, ValueError) as err:
                self.api_up = False
                log.debug("push failed: %s", err)
                self.wake.wait(1.0)
                continue
            self.wake.wait(max(0.05, self.last_renew + self.cfg.lease_renew_seconds - time.monotonic()))

    def push(self) -> None:
        snap = self.agent.snapshot()
        address = snap["address"]
        wanted = {n: (address, s["port"], s["ready"]) for n, s in snap["services"].items() if address}
        if self.closing:
            wanted = {}  # shut down: deregister
        if time.monotonic() - self.last_resync >= self.cfg.slice_resync_seconds:
            self.pushed = {n: v for n, v in self.pushed.items() if n not in wanted}  # re-check every wanted slice
            self.last_resync = time.monotonic()
        for name, spec in wanted.items():
            if self.pushed.get(name) != spec and self._put_slice(name, *spec):
                self.pushed[name] = spec
        for name in [n for n in self.pushed if n not in wanted]:
            self._put_slice(name, None, None, False)  # no endpoints: out of rotation (the slice is Pulumi's)
            self.pushed.pop(name)
        status = json.dumps(snap, sort_keys=True)
        if status != self.last_status or time.monotonic() - self.last_renew >= self.cfg.lease_renew_seconds:
            self._renew(status)
        self._flush_events()

    @staticmethod
    def _endpoints(host: str, address: str | None, port: int | None, ready: bool) -> dict:
        """The fields the agent owns in its slice: the endpoint and its readiness, the port. No address: none."""
        if address is None:
            return {"endpoints": []}
        family = "IPv6" if ipaddress.ip_address(address).version == 6 else "IPv4"
        return {
            "addressType": family,
            "endpoints": [
                {
                    "addresses": [address],
                    "hostname": host,
                    "conditions": {"ready": ready, "serving": ready, "terminating": False},
                }
            ],
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        }

    def _put_slice(self, service: str, address: str | None, port: int | None, ready: bool) -> bool:
        """Update the slice Pulumi created for this service and host (get, change the agent's fields, replace).
        The agent cannot create slices: a missing one is reported and tried again at the next resync."""
        name = slice_name(service, self.cfg.host)
        fields = self._endpoints(self.cfg.host, address, port, ready)
        for _ in range(3):
            try:
                current = self.client.get("endpointslices", name)
            except ApiError as err:
                if err.status != 404:
                    raise
                if address is not None and service not in self.missing:
                    self.missing.add(service)
                    self.event(
                        "Warning",
                        "EndpointSliceMissing",
                        f"EndpointSlice {name} does not exist: the stack creates it (run pulumi up); the "
                        f"agent only updates it and retries every {self.cfg.slice_resync_seconds:.0f}s",
                        service,
                    )
                return False
            self.missing.discard(service)
            if all(current.get(k) == v for k, v in fields.items()):
                return True
            try:
                self.client.replace("endpointslices", {**current, **fields})
                return True
            except ApiError as err:
                if err.status not in (404, 409):
                    raise
        raise ApiError(409, f"EndpointSlice {name} kept changing underneath the agent")

    def read_secret(self, name: str, key: str) -> str:
        """One key of a Secret (the API key a runtime demands); ApiError or RequestException when unreadable."""
        data = self.client.get("secrets", name).get("data") or {}
        if key not in data:
            raise ApiError(404, f"Secret {name} has no key {key!r}")
        return base64.b64decode(data[key]).decode()

    def _renew(self, status: str) -> None:
        """Heartbeat and status in one write: the Lease's renewTime and its status annotation."""
        for _ in range(3):
            if self.lease is None:
                try:
                    self.lease = self.client.get("leases", self.lease_name)
                except ApiError as err:
                    if err.status != 404:
                        raise
                    self.lease = self.client.create(
                        "leases",
                        {
                            "apiVersion": "coordination.k8s.io/v1",
                            "kind": "Lease",
                            "metadata": {"name": self.lease_name, "namespace": self.cfg.namespace},
                            "spec": {},
                        },
                    )
            lease = json.loads(json.dumps(self.lease))
            spec = lease.setdefault("spec", {})
            if spec.get("holderIdentity") != f"{AGENT}/{self.cfg.host}" or not spec.get("acquireTime"):
                spec["acquireTime"] = _now()
            spec.update(
                {
                    "holderIdentity": f"{AGENT}/{self.cfg.host}",
                    "renewTime": _now(),
                    "leaseDurationSeconds": self.cfg.lease_duration_seconds,
                }
            )
            lease["metadata"].setdefault("annotations", {})[STATUS_ANNOTATION] = status
            try:
                self.lease = self.client.replace("leases", lease)
            except ApiError as err:
                if err.status in (404, 409):
                    self.lease = None
                    continue
                raise
            self.last_status, self.last_renew, self.heartbeat = status, time.monotonic(), time.time()
            return

    # -- events ----------------------------------------------------------------------------------
    def event(self, kind: str, reason: str, message: str, service: str | None = None) -> None:
        """Queue a Kubernetes Event (on the Service, or the host's ConfigMap); sent when the API answers."""
        target = (
            {"apiVersion": "v1", "kind": "Service", "name": service}
            if service
            else {"apiVersion": "v1", "kind": "ConfigMap", "name": self.cm_name}
        )
        now = _now()
        ev = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{target['name']}.{uuid.uuid4().hex[:12]}", "namespace": self.cfg.namespace},
            "involvedObject": {**target, "namespace": self.cfg.namespace},
            "reason": reason,
            "message": message[:1000],
            "type": kind,
            "count": 1,
            "firstTimestamp": now[:19] + "Z",
            "lastTimestamp": now[:19] + "Z",
            "source": {"component": AGENT, "host": self.cfg.host},
        }
        with self.lock:
            self.pending_events = (self.pending_events + [ev])[-100:]
        self.wake.set()

    def _flush_events(self) -> None:
        while True:
            with self.lock:
                if not self.pending_events:
                    return
                ev = self.pending_events[0]
            try:
                self.client.create("events", ev)
            except ApiError as err:
                if err.status not in (403, 409, 422):
                    raise
                log.warning("event %s dropped: %s", ev["reason"], err)
            with self.lock:
                self.pending_events.pop(0)
