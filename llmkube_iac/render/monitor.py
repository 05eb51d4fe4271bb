"""A mock resource monitor that records what the real engine would receive.

It answers RegisterResource like the SDK's MockMonitor with mocks that echo inputs as outputs,
but hands the request's own (already serialised) properties back instead of re-serialising
them, and records parent, provider and the remote flag, which the stock mock hides. Secret
values are replaced by a placeholder before anything is recorded, so they never reach YAML.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks, _sync_await
from pulumi.runtime.proto import resource_pb2

from ..plan.objects import ROUTER_TYPE, plain
from ..spec.errors import SpecError
from .project import SECRET_PLACEHOLDER
from .resources import RenderedResource

_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's special-value signature key
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _NoMocks(Mocks):
    def new_resource(self, args):  # pragma: no cover - RegisterResource is answered directly
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}, None


def from_wire(value):
    """Wire properties -> plain JSON values: secrets hidden, unknowns marked, 2.0 -> 2 (`plain`)."""
    if isinstance(value, dict):
        if _SIG in value:
            if value[_SIG] == _SECRET_SIG:
                return SECRET_PLACEHOLDER
            return from_wire(value.get("value"))  # resource references / assets: keep their value
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if value == _UNKNOWN:
        return "[unknown]"
    return plain(value)


def from_struct(struct) -> dict:
    """`from_wire(json_format.MessageToDict(struct))` in one pass over the protobuf Struct: the same values,
    key order and errors, without building the intermediate JSON object of every resource's inputs."""
    fields = struct.fields
    out = {}
    for key in fields:  # every field, in the map's order, as MessageToDict does (and with its errors)
        out[key] = _value(fields[key])
    if _SIG in out:
        if out[_SIG] == _SECRET_SIG:
            return SECRET_PLACEHOLDER  # type: ignore[return-value]  # a secret, hidden
        return out.get("value")  # type: ignore[no-any-return]  # resource references / assets: their value
    return out


def _value(value):
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return "[unknown]" if text == _UNKNOWN else text
    if kind == "struct_value":
        return from_struct(value.struct_value)
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number):
            raise ValueError("Fail to serialize Infinity for Value.number_value, which would parse as string_value")
        if math.isnan(number):
            raise ValueError("Fail to serialize NaN for Value.number_value, which would parse as string_value")
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_value(v) for v in value.list_value.values]
    return None  # null_value, or unset


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class RecordingMonitor(MockMonitor):
    def __init__(self, stack_outputs: Callable[[str], dict] | None = None):
        """`stack_outputs(name)`: what a stack reference to `name` reads (render/stack_refs.py)."""
        super().__init__(_NoMocks())
        self.records: list[RenderedResource] = []
        self.stack_outputs = stack_outputs

    def ReadResource(self, request):
        """A StackReference reads the referenced stack's outputs (the engine reads them from its state)."""
        if request.type != STACK_REFERENCE:
            return super().ReadResource(request)
        if self.stack_outputs is None:
            raise ValueError(f"stack reference {request.id}: no project to read stacks from")
        try:
            outputs = self.stack_outputs(request.id)
        except SpecError as err:  # named after the router backends that made the reference, like any spec error
            path = self._referrer(request)
            if path is None:
                raise
            raise SpecError([(path, f"{p}: {m}" if p else m) for p, m in err.problems]) from None
        state = {"name": request.id, "outputs": outputs, "secretOutputNames": []}
        urn = self.make_urn(request.parent, request.type, request.name)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, request.id, state)
        self.records.append(
            RenderedResource(urn=urn, type=request.type, name=request.name, props=state, parent=request.parent or None)
        )
        props = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=props)

    def _referrer(self, request) -> str | None:
        """`routers[<router>].backends[<names>]`: the peer backends of the Router that read this stack."""
        parent = next((r for r in self.records if r.urn == request.parent and r.type == ROUTER_TYPE), None)
        spec = parent.props.get("spec") if parent is not None else None
        if not isinstance(spec, dict):
            return None
        stack = request.id.rpartition("/")[2]
        names = [
            str(b.get("name"))
            for b in spec.get("backends") or []
            if isinstance(b, dict) and "site" in b and str(b.get("stack") or b.get("site")).rpartition("/")[2] == stack
        ]
        return f"routers[{spec.get('name')}].backends[{', '.join(names)}]" if names else None

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        id_ = f"{request.name}-id" if request.custom else ""
        props = from_struct(request.object)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, props)
        self.records.append(
            RenderedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                props=props,
                parent=request.parent or None,
                provider=request.provider or None,
                custom=bool(request.custom),
                remote=bool(request.remote),
                dependencies=sorted(request.dependencies),
                protect=bool(request.protect),
                plain_props=True,
            )
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=request.object)
