"""The SDK's MockMonitor, extended to record what the real engine would receive.

The stock mock hides the parent, provider and remote flag of each registration; the renderer
needs them for plan.json, for the per-site directories and for policy evaluation.
"""
from __future__ import annotations

from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from .resources import RenderedResource, normalise_numbers


class RecordingMocks(Mocks):
    """Accept every resource, echo its inputs as outputs (what a preview shows)."""

    def new_resource(self, args: MockResourceArgs):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs):
        return {}, None


class RecordingMonitor(MockMonitor):
    def __init__(self):
        super().__init__(RecordingMocks())
        self.records: list[RenderedResource] = []
        self._pending: dict[str, tuple] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            state = self.resources[response.urn].state
            self.records.append(RenderedResource(
                urn=response.urn, type=request.type, name=request.name,
                props=normalise_numbers(state),
                parent=request.parent or None, provider=request.provider or None,
                custom=bool(request.custom), remote=bool(request.remote),
            ))
        return response
