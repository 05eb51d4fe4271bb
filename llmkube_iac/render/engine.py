"""The offline engine: run a Pulumi program under the SDK's mock monitor, collect every resource,
write the manifests like pulumi-kubernetes' renderYamlToDirectory, evaluate the policy rules.

No Pulumi CLI, no cluster: what `llmkube-iac render` and `check` run, and what CI runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import os
import runpy
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..plan.objects import site_of
from ..spec.errors import SpecError
from .project import Project, load_project
from .resources import RenderedResource


@dataclass
class RenderResult:
    project: Project
    resources: list[RenderedResource]
    policy_results: list = field(default_factory=list)
    cluster: object = None  # cluster.ClusterModel: what a cluster would refuse, and the apply order

    @property
    def cluster_findings(self) -> list:
        return list(self.cluster.findings) if self.cluster is not None else []

    @property
    def manifests(self) -> list[dict]:
        return [r.manifest for r in self.resources if r.manifest is not None]

    @property
    def charts(self) -> list[RenderedResource]:
        return [r for r in self.resources if r.remote]


class ProgramError(RuntimeError):
    """The program itself failed (not invalid llmkube input): the message carries its error."""


def run_program(project: Project) -> list[RenderedResource]:
    """Execute the program in a fresh context and event loop; return what it registered."""
    return contextvars.Context().run(_run_isolated, project)


def run_callable(
    build, project: str = "test", stack: str = "test", config: dict | None = None, secret_keys: tuple[str, ...] = ()
) -> list[RenderedResource]:
    """Run `build()` as a Pulumi program (the same recording engine, no program file); for tests and tools."""
    fake = Project(project, Path.cwd(), Path.cwd() / "__main__.py", stack, dict(config or {}), list(secret_keys))
    return contextvars.Context().run(_run_isolated, fake, build)


def _run_isolated(project: Project, build=None) -> list[RenderedResource]:
    import pulumi
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func

    from .monitor import RecordingMonitor
    from .stack_refs import stack_outputs

    try:
        previous = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # not the main thread and no loop set
        previous = None
    loop = asyncio.new_event_loop()
    # a failing program leaves tasks and futures behind: its error is reported once, by render_program
    loop.set_exception_handler(lambda _loop, _context: None)
    asyncio.set_event_loop(loop)
    monitor = RecordingMonitor(partial(stack_outputs, project))
    diagnostics = Diagnostics()  # what the program logs (pulumi.log): shown once it has run, like the engine's
    pulumi.runtime.set_all_config(project.config, project.secret_keys)
    # a DIY backend's organization is "organization" (stack references name it: <org>/<project>/<stack>)
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=project.name,
        stack=project.stack,
        preview=True,
        monitor=monitor,
        organization="organization",
        logger=diagnostics.logger,
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    old_cwd, old_path = os.getcwd(), list(sys.path)
    # the engine runs the program in its `main` directory (pulumi pkg/engine getPwdMain), so relative
    # paths in the program and its config (renderDir, a kubeconfig path) mean the same thing here
    os.chdir(project.main.parent)
    sys.path.insert(0, str(project.main.parent))
    body = build or (lambda: runpy.run_path(str(project.main), run_name="__main__"))
    try:
        with warnings.catch_warnings():
            # a failed program leaves the SDK's output coroutines unawaited: its error is reported, not these
            warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
            try:
                loop.run_until_complete(run_pulumi_func(body))
            finally:
                _drain(loop)
                if sys.exc_info()[0] is not None:
                    gc.collect()  # the unawaited coroutines warn when collected: here, under the filter
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        loop.close()
        # callers (tests, a notebook) keep the loop they had
        asyncio.set_event_loop(previous if previous is not None and not previous.is_closed() else None)
    diagnostics.show()  # a failed program's own error is reported instead (render_program)
    records = sorted(monitor.records, key=lambda r: r.urn)  # registration order is async: sort for stable output
    _assign_sites(records)
    return records


class Diagnostics(logging.Handler):
    """The program's pulumi.log messages (the SDK's mock engine logs them to the logger given to set_mocks)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.logger = logging.Logger("llmkube_iac.render.program")  # not registered: no global state touched
        self.logger.addHandler(self)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")

    def show(self) -> None:
        for message in self.messages:
            print(f"program {message}", file=sys.stderr)


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a failed program left pending, so closing the loop logs nothing."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _assign_sites(records: list[RenderedResource]) -> None:
    """Each resource goes to its site's directory: the site it or its nearest ancestor names
    (plan/objects.site_of), else the logical name of its provider, else `default`."""
    by_urn = {r.urn: r for r in records}
    for r in records:
        site = site_of(r, by_urn.get)
        if site is None and r.provider and r.provider.count("::") >= 3:
            site = r.provider.split("::")[3]
        r.site = site or "default"


def render_program(
    program_dir: str | Path,
    stack: str | None = None,
    out_dir: str | Path | None = None,
    policy_config: dict | None = None,
    evaluate_policies: bool = True,
) -> RenderResult:
    """Load, run, evaluate and (when out_dir is given) write; SpecError for invalid input."""
    project = load_project(program_dir, stack)
    with fewer_collections():
        return _render(project, out_dir, policy_config, evaluate_policies)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run a render with the cyclic garbage collector triggered less often, and restore it after.

    Why: almost everything a render allocates lives until it ends (each resource's records, outputs and
    futures, the manifests, the cluster model), so the collector's default thresholds (700, 10, 10) keep
    re-scanning a growing heap that holds little garbage: measured at 50 sites x 20 services it was the
    largest single cost of the render. Collection still runs (a program's cyclic garbage is freed), only less
    often; the heap grows by a few megabytes (benchmarks/fleet_scale.py)."""
    previous = gc.get_threshold()
    gc.set_threshold(200_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _render(project: Project, out_dir, policy_config, evaluate_policies: bool) -> RenderResult:
    try:
        resources = run_program(project)
    except SpecError:
        raise
    except SystemExit as exc:
        raise ProgramError(f"the program exited (sys.exit({exc.code!r})) before it finished") from None
    except Exception as exc:  # noqa: BLE001 — surface the program's own failure as one message
        cause = _spec_error_in(exc)
        if cause is not None:
            raise cause from None
        raise ProgramError(program_failure(exc, project)) from exc
    from .cluster import build

    result = RenderResult(project, resources, cluster=build(resources))
    if evaluate_policies:
        from ..policy import evaluate

        result.policy_results = list(evaluate(resources, policy_config))
    if out_dir is not None:
        from .writer import write_output

        write_output(result, Path(out_dir))
    return result


def program_failure(exc: BaseException, project: Project) -> str:
    """One line: what the program raised and where in the project's own files."""
    from ..spec.errors import shorten

    if isinstance(exc, SyntaxError):
        where = Path(exc.filename or str(project.main))
        return f"{_rel(where, project)} line {exc.lineno}: SyntaxError: {exc.msg}"
    where = ""
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame inside the project directory
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.is_relative_to(project.directory):
            where = f" (at {_rel(path, project)} line {tb.tb_lineno})"
        tb = tb.tb_next
    message = " ".join(str(exc).split())  # one line, whatever the exception's text
    return f"the program raised {type(exc).__name__}: {shorten(message, 300)}{where}"


def _rel(path: Path, project: Project) -> str:
    try:
        return str(path.resolve().relative_to(project.directory))
    except ValueError:
        return str(path)


def _spec_error_in(exc: BaseException) -> SpecError | None:
    """The invalid-input error behind a program failure: ours, or a spec model the program built itself."""
    from pydantic import ValidationError

    from ..spec.errors import from_validation_error

    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, SpecError):
            return exc
        if isinstance(exc, ValidationError):
            return from_validation_error(exc, exc.title)
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
