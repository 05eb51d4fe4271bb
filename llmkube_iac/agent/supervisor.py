"""The reconcile loop: desired state in, supervised runtimes and their readiness out.

All decisions happen on one thread that consumes events (desired state, child exits, health,
pressure), so there are no races between, say, an eviction and a restart. Slow work (fetch,
health polling, stopping) runs in helper threads that post events back, tagged with a generation
so a stale report about a replaced process is ignored.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from pathlib import Path

import requests
from pydantic import ValidationError

from ..fetch import FetchError
from ..runtimes import native_runtime
from ..spec.metal import DESIRED_STATE_KEY, DesiredState
from ..units import GIB
from . import exposure, keys
from . import pressure as mp
from .config import AgentConfig
from .preflight import Estimate
from .process import Child
from .services import ACTIVE, Svc, _connect, _short, _sub, back_off

log = logging.getLogger("llmkube.metal-agent")


class Agent:
    """Owns the runtimes of one host. `run()` blocks until `stop()` (or SIGTERM via the CLI)."""

    def __init__(self, cfg: AgentConfig):
        self.cfg = cfg
        self.events: queue.Queue = queue.Queue()
        self.lock = threading.RLock()
        self.services: dict[str, Svc] = {}
        self.desired: DesiredState | None = None
        self.desired_error: str | None = None
        self.pressure = mp.NORMAL
        self.pressure_block = False
        self.last_eviction = 0.0
        self.evictions = 0
        self.stopped = threading.Event()
        self.on_change = lambda: None  # the API sync sets this to wake its pusher
        self.on_event = lambda kind, reason, message, service=None: None

    # -- inputs (any thread) ---------------------------------------------------------------------
    def post(self, *event) -> None:
        self.events.put(event)

    def stop(self) -> None:
        self.post("stop")

    def desired_from_configmap(self, cm: dict | None) -> None:
        """Called by the watcher with the ConfigMap (or None when it is missing)."""
        self.post("desired", cm)

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        threading.Thread(target=self._pressure_loop, name="pressure", daemon=True).start()
        threading.Thread(target=self._liveness_loop, name="liveness", daemon=True).start()
        while True:
            try:
                event = self.events.get(timeout=self._next_timer())
            except queue.Empty:
                event = ("tick",)
            if event[0] == "stop":
                break
            with self.lock:
                getattr(self, f"_on_{event[0]}")(*event[1:])
                self._timers()
            self.on_change()
        self._shutdown()

    def _next_timer(self) -> float:
        due = [s.restart_at for s in self.services.values() if s.restart_at is not None]
        return max(0.01, min(due) - time.monotonic()) if due else 1.0

    def _timers(self) -> None:
        now = time.monotonic()
        for svc in self.services.values():
            if svc.restart_at is not None and svc.restart_at <= now and not self.pressure_block:
                svc.restart_at = None
                self._spawn(svc)

    def _on_tick(self) -> None:
        pass

    # -- desired state ---------------------------------------------------------------------------
    def _on_desired(self, cm: dict | None) -> None:
        if cm is None:
            self.desired_error = "desired-state ConfigMap not found; keeping current runtimes"
            return
        try:
            raw = (cm.get("data") or {}).get(DESIRED_STATE_KEY)
            if raw is None:
                raise ValueError(f"ConfigMap has no {DESIRED_STATE_KEY!r} key")
            desired = DesiredState.model_validate(json.loads(raw))
            if desired.host != self.cfg.host:
                raise ValueError(f"desired state is for host {desired.host!r}, this agent is {self.cfg.host!r}")
        except (ValueError, ValidationError) as err:
            self.desired_error = f"invalid desired state, nothing changed: {_short(err)}"
            self.on_event("Warning", "InvalidDesiredState", self.desired_error)
            return
        self.desired_error = None
        budget_changed = self.desired is None or self.desired.memory_budget_bytes != desired.memory_budget_bytes
        self.desired = desired
        wanted = {s.name: s for s in desired.services}
        for name in [n for n in self.services if n not in wanted]:
            self._retire(self.services.pop(name), wait=False)
        for name, state in wanted.items():
            current = self.services.get(name)
            if current and current.version == state.version_hash():
                continue
            old = None
            if current:  # same port: the old process must be gone before the new one binds (off the loop)
                old = current.child
                self._retire(current, wait=False, stop=False)
            self.services[name] = svc = Svc(state, state.version_hash())
            threading.Thread(target=self._prepare, args=(svc, old), name=f"prepare-{name}", daemon=True).start()
        for svc in self.services.values():  # memory may have been freed or the budget changed: try again
            if svc.phase == "Refused" and budget_changed:
                threading.Thread(target=self._prepare, args=(svc,), daemon=True).start()  # fit depends on budget
            elif svc.phase == "Refused" and svc.estimate.verdict != "does-not-fit":
                self._admit(svc)

    def _retire(self, svc: Svc, wait: bool, stop: bool = True) -> None:
        svc.gen, svc.ready, svc.restart_at = -1, False, None
        if svc.child and stop:
            if wait:
                svc.child.stop(self.cfg.stop_grace_seconds)
            else:
                threading.Thread(target=svc.child.stop, args=(self.cfg.stop_grace_seconds,), daemon=True).start()

    def _prepare(self, svc: Svc, predecessor: Child | None = None) -> None:
        """Stop the replaced process, fetch (sha256 verified), estimate memory: slow, so off the loop."""
        dest = self.cfg.cache_dir / svc.state.cache_key
        if predecessor:
            predecessor.stop(self.cfg.stop_grace_seconds)
        try:
            path = self.cfg.fetch(svc.state, dest)
            est = self.cfg.estimate(svc.state, path, self.budget)
            ref = svc.state.api_key_secret
            if ref:  # the runtime demands a key: without it, it must not start
                gen = svc.gen
                key = keys.wait_for_key(
                    self.read_secret,
                    ref.name,
                    ref.key,
                    lambda: svc.gen == gen and not self.stopped.is_set(),
                    lambda why: self.post("waiting", svc.state.name, gen, why),
                )
                if key is None:
                    return None
                svc.api_key_file = keys.write_key_file(self.cfg.state_dir, svc.state.name, key)
        except FetchError as err:
            return self.post("failed", svc.state.name, svc.gen, "FetchFailed", str(err))
        except keys.UnusableKey as err:
            return self.post("failed", svc.state.name, svc.gen, "ApiKeyUnusable", str(err))
        except Exception as err:  # noqa: BLE001 - any failure here is reported, never fatal to the agent
            return self.post("failed", svc.state.name, svc.gen, "PrepareFailed", _short(err))
        self.post("prepared", svc.state.name, svc.gen, path, est)

    def _on_waiting(self, name: str, gen: int, reason: str) -> None:
        svc = self._get(name, gen)
        if svc and svc.phase in ("Fetching", "Pending"):
            if svc.reason != reason and svc.phase == "Fetching":
                self.on_event("Warning", "ApiKeyUnavailable", reason, name)
            svc.phase, svc.reason = "Pending", reason

    def read_secret(self, name: str, key: str) -> str:
        """Replaced by the API sync; an agent without one cannot read Secrets."""
        raise ValueError("no API server connection to read Secrets from")

    @property
    def budget(self) -> int:
        return self.desired.memory_budget_bytes if self.desired else 0

    def _get(self, name: str, gen: int) -> Svc | None:
        svc = self.services.get(name)
        return svc if svc and svc.gen == gen else None

    def _on_failed(self, name: str, gen: int, reason: str, message: str) -> None:
        svc = self._get(name, gen)
        if svc:
            svc.phase, svc.reason = "Failed", f"{reason}: {message}"
            self.on_event("Warning", reason, message, name)

    def _on_prepared(self, name: str, gen: int, path: Path, est: Estimate) -> None:
        svc = self._get(name, gen)
        if svc:
            svc.model_path, svc.estimate = path, est
            self._admit(svc)

    def _admit(self, svc: Svc) -> None:
        """Memory pre-flight against what is already committed on this host, then spawn."""
        others = [o for o in self.services.values() if o is not svc and o.estimate and o.phase in ACTIVE]
        committed = sum(o.estimate.bytes for o in others)
        free = self.budget - committed
        if svc.estimate.verdict == "does-not-fit" or svc.estimate.bytes > free:
            held = ", ".join(f"{o.state.name} {o.estimate.bytes / GIB:.1f} GiB" for o in others) or "nothing"
            svc.phase = "Refused"
            svc.reason = (
                f"needs {svc.estimate.bytes / GIB:.2f} GiB but only {free / GIB:.2f} GiB of the "
                f"{self.budget / GIB:.2f} GiB budget is free (committed: {held}); {svc.estimate.detail}"
            )
            self.on_event("Warning", "InsufficientMemory", svc.reason, svc.state.name)
            return
        if self.pressure_block:
            svc.phase, svc.reason = "Pending", "waiting for memory pressure to clear"
            return
        self._spawn(svc)

    # -- processes -------------------------------------------------------------------------------
    def _spawn(self, svc: Svc) -> None:
        state, gen = svc.state, svc.gen
        bind = self.bind_address
        subs = {
            "{host}": bind,
            "{port}": str(state.port),
            "{model}": str(svc.model_path),
            "{api_key_file}": str(svc.api_key_file or ""),
        }
        warning = exposure.bind_warning(bind)
        if warning:
            self.on_event("Warning", "WildcardBind", warning, state.name)
        argv = self.cfg.command(state.runtime) + [_sub(a, subs) for a in state.args]
        env = {k: _sub(v, subs) for k, v in native_runtime(state.runtime).env.items()}
        log_path = self.cfg.state_dir / "logs" / f"{state.name}.log"
        svc.child = Child(state.name, argv, env, log_path, lambda pid, code: self.post("exit", state.name, gen, code))
        try:
            svc.child.start()
        except OSError as err:
            svc.child, svc.phase = None, "Failed"
            svc.reason = f"cannot start {argv[0]}: {err.strerror or err}; set --runtime {state.runtime}=COMMAND"
            self.on_event("Warning", "RuntimeNotFound", svc.reason, state.name)
            return
        svc.phase, svc.health_failures = "Starting", 0
        svc.reason = f"waiting for {state.health_path} on port {state.port}"
        threading.Thread(target=self._await_health, args=(svc, gen, bind), daemon=True).start()

    def _await_health(self, svc: Svc, gen: int, bind: str) -> None:
        url = f"http://{_connect(bind)}:{svc.state.port}{svc.state.health_path}"
        deadline = time.monotonic() + self.cfg.start_timeout_seconds
        child = svc.child
        with requests.Session() as session:
            while time.monotonic() < deadline and child.alive and svc.gen == gen:
                try:
                    if session.get(url, timeout=2).status_code == 200:
                        return self.post("healthy", svc.state.name, gen, True)
                except requests.RequestException:
                    pass
                time.sleep(self.cfg.health_poll_seconds)
        if child.alive and svc.gen == gen:
            self.post("start_timeout", svc.state.name, gen)

    def _on_healthy(self, name: str, gen: int, ok: bool) -> None:
        svc = self._get(name, gen)
        if not svc or svc.phase not in ("Starting", "Ready", "Unhealthy"):
            return
        if ok:
            if svc.phase == "Starting":  # first answer: check from this host that it answers nowhere else
                threading.Thread(
                    target=self._check_exposure,
                    args=(svc.state.name, svc.state.port),
                    daemon=True,
                    name=f"exposure-{name}",
                ).start()
            svc.phase, svc.reason, svc.ready, svc.health_failures = "Ready", "", True, 0
            return
        svc.health_failures += 1
        if svc.health_failures >= self.cfg.liveness_failures and svc.phase == "Ready":
            svc.phase, svc.ready = "Unhealthy", False
            svc.reason = (
                f"{svc.state.health_path} failed {svc.health_failures} times in a row; endpoint marked not ready"
            )

    @property
    def bind_address(self) -> str:
        """Where runtimes listen: --bind-address, else the host's declared address."""
        return self.cfg.bind_address or (self.desired.address if self.desired else "127.0.0.1")

    def _check_exposure(self, name: str, port: int) -> None:
        addresses = self.cfg.probe_addresses if self.cfg.probe_addresses is not None else exposure.local_addresses()
        warning = exposure.exposure_warning(port, self.bind_address, addresses)
        if warning:
            self.on_event("Warning", "PortExposed", warning, name)

    def _on_start_timeout(self, name: str, gen: int) -> None:
        svc = self._get(name, gen)
        if svc and svc.child:
            svc.reason = f"no healthy {svc.state.health_path} within {self.cfg.start_timeout_seconds:.0f}s; killing it"
            threading.Thread(target=svc.child.stop, args=(self.cfg.stop_grace_seconds,), daemon=True).start()

    def _on_exit(self, name: str, gen: int, code: int) -> None:
        svc = self._get(name, gen)
        if not svc or svc.child is None or svc.child.stopping and svc.phase == "Evicted":
            return
        svc.ready = False
        self.on_change()  # out of rotation first, bookkeeping after
        if back_off(svc, self.cfg, code):
            self.on_event("Warning", "CrashLoopBackOff", svc.reason, name)

    # -- memory pressure -------------------------------------------------------------------------
    def _pressure_loop(self) -> None:
        last = None
        while not self.stopped.wait(self.cfg.pressure_seconds):
            level = mp.probe(self.cfg.meminfo)
            if level != last or level == mp.CRITICAL:
                self.post("pressure", level)
                last = level

    def _on_pressure(self, level: int) -> None:
        self.pressure = level
        if level == mp.NORMAL and self.pressure_block:
            self.pressure_block = False
            for svc in self.services.values():
                if svc.phase in ("Evicted", "Pending") and svc.estimate:
                    self._admit(svc)
            return
        if level != mp.CRITICAL:
            return
        self.pressure_block = True  # no respawns until back to normal
        running = [s for s in self.services.values() if s.child and s.child.alive and not s.child.stopping]
        if len(running) <= 1 or time.monotonic() - self.last_eviction < self.cfg.evict_cooldown_seconds:
            return  # never evict the last runtime: a slow host beats a dead one
        victim = min(running, key=lambda s: (s.state.priority, -s.child.started_at))
        victim.phase, victim.ready, victim.restart_at = "Evicted", False, None
        victim.reason = f"evicted under critical memory pressure (priority {victim.state.priority}, lowest running)"
        self.evictions += 1
        self.last_eviction = time.monotonic()
        self.on_event("Warning", "Evicted", victim.reason, victim.state.name)
        self.on_change()  # out of rotation before the process goes
        threading.Thread(target=victim.child.stop, args=(self.cfg.stop_grace_seconds,), daemon=True).start()

    def _liveness_loop(self) -> None:
        session = requests.Session()
        while not self.stopped.wait(self.cfg.liveness_seconds):
            with self.lock:
                checks = [
                    (s.state.name, s.gen, s.state.port, s.state.health_path)
                    for s in self.services.values()
                    if s.phase in ("Ready", "Unhealthy")
                ]
            bind = _connect(self.bind_address)
            for name, gen, port, path in checks:
                try:
                    ok = session.get(f"http://{bind}:{port}{path}", timeout=2).status_code == 200
                except requests.RequestException:
                    ok = False
                self.post("healthy", name, gen, ok)

    # -- shutdown and status ---------------------------------------------------------------------
    def _shutdown(self) -> None:
        self.stopped.set()
        with self.lock:
            victims = list(self.services.values())
            for svc in victims:
                svc.ready, svc.phase, svc.reason = False, "Stopped", "agent shutting down"
        self.on_change()
        threads = [threading.Thread(target=self._retire, args=(s, True)) for s in victims]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def snapshot(self) -> dict:
        """Status as written to the Lease annotation and read by metrics (a consistent copy)."""
        with self.lock:
            return {
                "host": self.cfg.host,
                "desiredVersion": self.desired.version_hash() if self.desired else None,
                "error": self.desired_error,
                "pressure": mp.LEVEL_NAMES[self.pressure],
                "evictions": self.evictions,
                "memoryBudgetBytes": self.budget,
                "address": self.desired.address if self.desired else None,
                "services": {
                    n: {
                        "phase": s.phase,
                        "reason": s.reason,
                        "ready": s.ready,
                        "port": s.state.port,
                        "restarts": s.restarts,
                        "pid": s.child.pid if s.child and s.child.alive else None,
                        "estimateBytes": s.estimate.bytes if s.estimate else None,
                    }
                    for n, s in sorted(self.services.items())
                },
            }
