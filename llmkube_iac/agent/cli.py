"""`llmkube-metal-agent`: run the agent on a host, or print its launchd job.

    llmkube-metal-agent run --host studio-1 --kubeconfig ~/.kube/llmkube-studio-1.yaml
    llmkube-metal-agent print-launchd --host studio-1 --kubeconfig ... \
        > ~/Library/LaunchAgents/dev.llmkube.metal-agent.plist
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from pathlib import Path

from ..runtimes import native_runtimes
from . import launchd, metrics
from .config import AgentConfig
from .exposure import bind_warning
from .kube import Credentials, KubeClient, load_kubeconfig
from .supervisor import Agent
from .sync import ApiSync


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="llmkube-metal-agent", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "print-launchd"):
        s = sub.add_parser(name)
        s.add_argument("--host", required=True, help="metal host name as declared in the site's metalHosts")
        s.add_argument("--namespace", default="llmkube")
        s.add_argument("--kubeconfig", help="kubeconfig with the host's ServiceAccount token or client certificate")
        s.add_argument("--context")
        s.add_argument("--server", help="API server URL (with --token-file instead of a kubeconfig)")
        s.add_argument("--token-file", help="file holding a bearer token (re-read on every request)")
        s.add_argument("--ca-file", help="CA bundle for the API server (with --server)")
        s.add_argument("--cache-dir", default=str(Path.home() / "Library/Caches/llmkube/models"))
        s.add_argument("--state-dir", default=str(Path.home() / "Library/Application Support/llmkube"))
        s.add_argument(
            "--runtime",
            action="append",
            default=[],
            metavar="NAME=COMMAND",
            help=f"command for a native runtime ({', '.join(native_runtimes())}), e.g. "
            "llama-server=/opt/homebrew/bin/llama-server",
        )
        s.add_argument(
            "--bind-address",
            help="address runtimes listen on (default: the host's declared address); never a wildcard such as 0.0.0.0",
        )
        s.add_argument("--metrics-address", default="0.0.0.0")
        s.add_argument("--metrics-port", type=int, default=9464)
        s.add_argument("--meminfo", help="read memory pressure from this meminfo file (Linux/testing)")
        s.add_argument("--lease-renew-seconds", type=float, default=5.0)
        s.add_argument("-v", "--verbose", action="store_true")
    sub.choices["print-launchd"].add_argument(
        "--program",
        default=sys.argv[0] if sys.argv else "llmkube-metal-agent",
        help="path of the installed llmkube-metal-agent",
    )
    sub.choices["print-launchd"].add_argument("--log-dir", default="/usr/local/var/log/llmkube")
    return p


def config_from_args(args: argparse.Namespace) -> AgentConfig:
    if args.bind_address is not None and bind_warning(args.bind_address):
        raise SystemExit(f"--bind-address {args.bind_address!r}: {bind_warning(args.bind_address)}")
    runtimes: dict[str, list[str]] = {}  # overrides of the registry's native commands
    known = native_runtimes()
    for item in args.runtime:
        name, _, command = item.partition("=")
        try:
            argv = shlex.split(command)
        except ValueError as err:  # unbalanced quotes
            raise SystemExit(f"--runtime {item!r}: {err}") from None
        if name not in known or not argv:
            raise SystemExit(f"--runtime {item!r}: expected NAME=COMMAND with NAME one of {', '.join(known)}")
        runtimes[name] = argv
    return AgentConfig(
        host=args.host,
        namespace=args.namespace,
        cache_dir=Path(args.cache_dir).expanduser(),
        state_dir=Path(args.state_dir).expanduser(),
        runtimes=runtimes,
        bind_address=args.bind_address,
        metrics_address=args.metrics_address,
        metrics_port=args.metrics_port or None,
        meminfo=args.meminfo,
        lease_renew_seconds=args.lease_renew_seconds,
    )


def credentials_from_args(args: argparse.Namespace) -> Credentials:
    if args.kubeconfig:
        return load_kubeconfig(args.kubeconfig, args.context)
    if args.server and args.token_file:
        return Credentials(server=args.server.rstrip("/"), token_file=args.token_file, verify=args.ca_file or True)
    raise SystemExit("give --kubeconfig, or --server with --token-file, so the agent can reach the API server")


def run(cfg: AgentConfig, client: KubeClient, stop: threading.Event | None = None) -> tuple[Agent, ApiSync]:
    """Start an agent (loop on a thread) with its API sync and metrics; used by the CLI, tests, benchmark."""
    agent = Agent(cfg)
    sync = ApiSync(agent, client)
    if cfg.metrics_port is not None:
        agent.metrics_server = metrics.serve(
            cfg.metrics_address, cfg.metrics_port, lambda: metrics.render(agent.snapshot(), sync.heartbeat, sync.api_up)
        )
    agent.thread = threading.Thread(target=agent.run, name="reconcile", daemon=True)
    agent.thread.start()
    sync.start()
    return agent, sync


def shutdown(agent: Agent, sync: ApiSync, timeout: float = 30.0) -> None:
    """Stop runtimes gracefully, then deregister their endpoints."""
    agent.stop()
    agent.thread.join(timeout)
    sync.close()
    server = getattr(agent, "metrics_server", None)
    if server:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "print-launchd":
        program = [args.program, "run"] + [
            a
            for a in (argv if argv is not None else sys.argv[1:])[1:]
            if a not in ("--program", args.program, "--log-dir", args.log_dir)
        ]
        sys.stdout.write(launchd.plist(program, log_dir=args.log_dir))
        return 0
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    cfg = config_from_args(args)
    agent, sync = run(cfg, KubeClient(credentials_from_args(args), cfg.namespace))
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    shutdown(agent, sync, timeout=cfg.stop_grace_seconds + 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
