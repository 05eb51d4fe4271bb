"""Loopback harness for the Router: fake OpenAI upstreams and the real LiteLLM proxy.

Used by the leak, adversarial and federation tests and benchmarks/router_overhead.py. Each proxy is
started with exactly the files its zone's ConfigMap carries (written out from the planner's ConfigMap
dict) and the env its Deployment sets, with in-cluster URLs and peer URLs replaced by the loopback
fakes, mounted file paths by test files and Secret values by test keys. The fakes keep every request
they receive (path, headers, body), so a test can look for protected payloads and secrets in what
reached each upstream; a fake peer Router serves HTTPS with a certificate from a test CA, and so does
the real one (peer_site.py), run with its Deployment's own args (deployment_args).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path

from llmkube_iac.plan.router_config import CONFIG_DIR
from tests.support.loopback import JsonHandler, free_port

ROOT = Path(__file__).resolve().parents[2]
_RID = re.compile(rb"rid=([A-Za-z0-9_-]+)")
INSTALL_HINT = "the pinned LiteLLM proxy is not installed: run `bash scripts/install-litellm` (creates .venv-litellm/)"


def litellm_bin() -> Path:
    """The proxy binary in the dedicated venv; a clear failure (not a skip) when it is absent."""
    venv = Path(os.environ.get("LLMKUBE_LITELLM_VENV", ROOT / ".venv-litellm"))
    binary = venv / "bin" / "litellm"
    if not binary.exists():
        raise AssertionError(f"{INSTALL_HINT} (looked for {binary})")
    return binary


class FakeUpstream:
    """An OpenAI-compatible server on 127.0.0.1 that counts every request it receives, by path.

    With `tls` (a server SSLContext) it serves HTTPS only: each connection's handshake runs first, and a
    connection whose handshake fails is counted in `handshake_failures` and never read as a request."""

    def __init__(self, name: str, tls: ssl.SSLContext | None = None):
        self.name = name
        self.tls = tls
        self.handshake_failures: list[str] = []
        self.requests: list[dict] = []  # method, path, headers (every line, in order) and body of each request
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None
        self.sockets: set = set()
        self.rids: list[str] = []  # request ids found in request bodies ("rid=<id>")
        self.seen: list[bytes] = []  # every request as received: request line, headers and body

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def start(self) -> FakeUpstream:
        upstream = self

        class Handler(JsonHandler):
            protocol_version = "HTTP/1.1"

            def _keep(self, raw: bytes) -> None:
                head = f"{self.command} {self.path}\n{self.headers}".encode("latin-1", "replace")
                with upstream.lock:
                    upstream.counts[self.path] += 1
                    upstream.seen.append(head + b"\n" + raw)
                    upstream.requests.append(
                        {"method": self.command, "path": self.path, "headers": self.headers.items(), "body": raw}
                    )
                    upstream.rids += [m.decode() for m in _RID.findall(raw)]

            def do_GET(self):
                self._keep(b"")
                self.send_json(200, {"object": "list", "data": [{"id": upstream.name, "object": "model"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                self._keep(raw)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                path = self.path.split("?")[0]
                usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
                if path.endswith("/chat/completions"):
                    if body.get("stream"):
                        return self._stream(body)
                    return self.send_json(
                        200,
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": body.get("model", "m"),
                            "usage": usage,
                            "choices": [
                                {
                                    "index": 0,
                                    "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": f"hello from {upstream.name}"},
                                }
                            ],
                        },
                    )
                if path.endswith("/completions"):
                    if body.get("stream"):
                        return self._stream_text(body)
                    return self.send_json(
                        200,
                        {
                            "id": "cmpl-1",
                            "object": "text_completion",
                            "created": int(time.time()),
                            "model": body.get("model", "m"),
                            "usage": usage,
                            "choices": [{"index": 0, "text": f"hi from {upstream.name}", "finish_reason": "stop"}],
                        },
                    )
                if path.endswith("/embeddings"):
                    return self.send_json(
                        200,
                        {
                            "object": "list",
                            "model": body.get("model", "m"),
                            "usage": {"prompt_tokens": 2, "total_tokens": 2},
                            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                        },
                    )
                if path.endswith("/responses"):
                    if body.get("stream"):
                        return self._stream_response(body)
                    return self.send_json(200, self._response(body))
                return self.send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

            def _response(self, body: dict, status: str = "completed") -> dict:
                return {
                    "id": "resp_1",
                    "object": "response",
                    "created_at": int(time.time()),
                    "status": status,
                    "parallel_tool_calls": True,
                    "tool_choice": "auto",
                    "tools": [],
                    "top_p": 1.0,
                    "model": body.get("model", "m"),
                    "output": [
                        {
                            "type": "message",
                            "id": "msg_1",
                            "status": "completed",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": f"hi from {upstream.name}", "annotations": []}],
                        }
                    ],
                    "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
                }

            def _sse(self, events: list[tuple[str | None, dict]], done: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for name, data in events:
                    head = f"event: {name}\n" if name else ""
                    self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())
                if done:
                    self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _stream_text(self, body: dict) -> None:
                base = {
                    "id": "cmpl-s",
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": body.get("model", "m"),
                }
                chunks = [
                    {**base, "choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                    for piece in ("hi ", "from ", upstream.name)
                ]
                chunks.append(
                    {
                        **base,
                        "choices": [{"index": 0, "text": "", "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                    }
                )
                self._sse([(None, c) for c in chunks], done=True)

            def _stream_response(self, body: dict) -> None:
                started = {**self._response(body, "in_progress"), "output": [], "usage": None}
                events = [("response.created", {"type": "response.created", "sequence_number": 0, "response": started})]
                for i, piece in enumerate(("hi ", "from ", upstream.name)):
                    events.append(
                        (
                            "response.output_text.delta",
                            {
                                "type": "response.output_text.delta",
                                "sequence_number": i + 1,
                                "item_id": "msg_1",
                                "output_index": 0,
                                "content_index": 0,
                                "delta": piece,
                                "logprobs": [],
                            },
                        )
                    )
                events.append(
                    (
                        "response.completed",
                        {"type": "response.completed", "sequence_number": 9, "response": self._response(body)},
                    )
                )
                self._sse(events, done=False)

            def _stream(self, body: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                base = {
                    "id": "chatcmpl-s",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model", "m"),
                }
                for piece in ("hello ", "from ", upstream.name):
                    chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                end = {
                    **base,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                }
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                with upstream.lock:
                    upstream.sockets.add(request)
                super().process_request(request, client_address)

            def finish_request(self, request, client_address):  # in the connection's own thread
                if upstream.tls is None:
                    return super().finish_request(request, client_address)
                request.settimeout(30)
                try:
                    wrapped = upstream.tls.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as exc:  # e.g. the client does not trust the certificate
                    with upstream.lock:
                        upstream.handshake_failures.append(f"{type(exc).__name__}: {exc}")
                    return None
                with upstream.lock:
                    upstream.sockets.add(wrapped)
                try:
                    return super().finish_request(wrapped, client_address)
                finally:
                    with upstream.lock:
                        upstream.sockets.discard(wrapped)
                    wrapped.close()

            def shutdown_request(self, request):
                with upstream.lock:
                    upstream.sockets.discard(request)
                super().shutdown_request(request)

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def containing(self, needle: str) -> int:
        """How many received requests contain `needle` anywhere (request line, headers or body)."""
        data = needle.encode()
        with self.lock:
            return sum(data in item for item in self.seen)

    def stop(self) -> None:
        """Kill it: the listener closes and kept-alive connections are cut, so later calls are refused."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            with self.lock:
                for sock in list(self.sockets):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
                self.sockets.clear()
            self.server = None


def write_configmap(configmap: dict, directory: Path) -> Path:
    """Write a ConfigMap's data as files, exactly as the pod's volume mount shows them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in configmap["data"].items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory / "config.yaml"


def deployment_env(deployment: dict, upstream_urls: dict[str, str], secrets: dict[tuple[str, str], str]) -> dict:
    """The Deployment's container env, with upstream URLs (and mounted file paths such as SSL_CERT_FILE) and
    Secret values replaced for loopback. A peer URL the plan leaves to its stack reference must be given."""
    env = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        name = item["name"]
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            env[name] = secrets[(ref["name"], ref["key"])]
        elif name in upstream_urls:
            env[name] = upstream_urls[name]
        elif item["value"].startswith("llmkube-peer:"):
            raise AssertionError(f"{name} is bound from a peer stack ({item['value']}): give its loopback URL")
        else:
            env[name] = item["value"]
    return env


def deployment_args(deployment: dict, mounts: dict[str, Path], port: int) -> list[str]:
    """The container's args as the pod runs them, on loopback: `--host 127.0.0.1`, `--port <port>`, and each
    path under one of the container's volume mounts (the config, the TLS key and certificate) replaced by the
    same file under the local directory `mounts` gives for that mount path. A path the test does not provide
    fails: the proxy must run with what its Deployment names, not with what the harness assumes."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
    unknown = sorted(set(mounts) - mounted)
    if unknown:
        raise AssertionError(
            f"{', '.join(unknown)} is not a volume mount of the Deployment (mounts: {sorted(mounted)})"
        )
    args, out = list(container["args"]), []
    for i, arg in enumerate(args):
        flag = args[i - 1] if i else None
        if flag == "--host":
            arg = "127.0.0.1"
        elif flag == "--port":
            arg = str(port)
        elif arg.startswith("/"):
            mount = next((m for m in mounts if arg.startswith(m.rstrip("/") + "/")), None)
            if mount is None:
                raise AssertionError(f"argument {arg} is under no mount the test provides ({sorted(mounts)})")
            arg = str(mounts[mount] / arg[len(mount) :].lstrip("/"))
        out.append(arg)
    return out


class Proxy:
    """The real LiteLLM proxy on 127.0.0.1, its stdout (with audit lines) kept in a file.

    With `deployment` it runs with that Deployment's args (deployment_args; `mounts` gives the local directory of
    each volume mount besides the config's), on `port` when given (a peer's URL may be needed before it starts).
    `ca_file`: the proxy serves HTTPS (its args say so), with a certificate that CA signed."""

    def __init__(
        self,
        config: Path,
        env: dict,
        log: Path,
        deployment: dict | None = None,
        mounts: dict[str, Path] | None = None,
        port: int | None = None,
        ca_file: Path | None = None,
    ):
        self.config, self.env, self.log = config, env, log
        self.port = port or free_port()
        self.metrics_port = free_port()  # both zones run on one host here: not the Deployment's 9464
        self.env = {**env, "LLMKUBE_METRICS_PORT": str(self.metrics_port)}
        self.proc: subprocess.Popen | None = None
        self.ca_file = ca_file
        self.args = ["--config", str(config), "--host", "127.0.0.1", "--port", str(self.port), "--num_workers", "1"]
        if deployment is not None:
            self.args = deployment_args(deployment, {CONFIG_DIR: config.parent, **(mounts or {})}, self.port)
            if not any(a == str(config) for a in self.args):
                raise AssertionError(f"the Deployment's args {self.args} do not name its config file")

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://127.0.0.1:{self.port}"

    @property
    def tls(self) -> ssl.SSLContext | None:
        """A client context trusting only the CA that signed the proxy's certificate (None: plain HTTP)."""
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None

    def start(self, timeout: float = 120) -> Proxy:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "*", **self.env}
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen(
            [str(litellm_bin()), *self.args],
            env=env,
            stdout=self.fh,
            stderr=subprocess.STDOUT,
            cwd=self.config.parent,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"litellm exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health/liveliness", timeout=2, context=self.tls) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"litellm did not become ready in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "fh", None):
            self.fh.close()

    def metrics(self) -> dict[str, float]:
        """The zone's Prometheus text, as {'name{labels}': value}."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line and not line.startswith("#")
        }

    def audit_lines(self) -> list[dict]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("{") and '"llmkube.audit"' in line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


def send(
    port: int,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes | None = None,
    timeout: float = 60,
    tls: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request to 127.0.0.1 (headers as sent, duplicates included): status, headers, body.
    With `tls`, over HTTPS verified with that context."""
    if tls is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()
