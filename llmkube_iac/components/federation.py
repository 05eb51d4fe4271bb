"""Binding a router plan's peer references to the peer stacks' outputs (Pulumi stack references), or to
a sibling site's export when one program builds both (a Fleet).

Why here: the peer's URL and addresses are outputs of the peer's own stack (plan/federation.py
exports them), so only a Pulumi resource can read them. One StackReference per peer stack; each
reference in the manifests becomes an output of it, checked on arrival (an endpoint the peer does
not export, a model group it does not serve, a URL that is not HTTPS or an address that is not a
CIDR is an error naming the fix, never a half-bound object).
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from ..plan.federation import ADDRESSES, EXPORT, URL, peer_entry
from ..spec.router import RouterSpec
from .errors import InvalidInput


def _reported(err: InvalidInput, resource: pulumi.Resource) -> InvalidInput:
    """Log the problem on the resource before raising: an error inside an output's apply reaches the language
    host wrapped by the SDK ("While processing resource ..."), so this diagnostic is what `pulumi up` shows
    cleanly; the offline engine finds the SpecError in the chain."""
    pulumi.log.error(str(err), resource)
    return err


def stack_reference_name(stack: str) -> str:
    """A bare stack name means this project's stack in this organization (`organization` on DIY backends)."""
    if "/" in stack:
        return stack
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"


def peer_lookup(
    parent: pulumi.Resource, name: str, router: RouterSpec, in_program: dict[str, dict]
) -> Callable[[str, str, str], object]:
    """lookup(stack, router, field) for bind_peer_refs: outputs of one StackReference per peer stack, or the
    export of a site built by the same program (`in_program`, by site name: a Fleet's sibling)."""
    refs: dict[str, pulumi.StackReference] = {}
    for b in router.peer_backends:
        if b.stack_name not in refs and b.stack_name not in in_program:
            full = stack_reference_name(b.stack_name)
            refs[b.stack_name] = pulumi.StackReference(
                f"{name}-peer-{b.stack_name}",  # a bare stack name has no "/": qualified ones never collide with it
                stack_name=full,
                opts=pulumi.ResourceOptions(parent=parent),
            )
    wanted: dict[tuple[str, str], list[str]] = {}
    for b in router.peer_backends:
        wanted.setdefault((b.stack_name, b.router), []).append(b.model)

    def entry_of(exported: object, stack: str, peer: str) -> dict:
        backends = [b for b in router.peer_backends if (b.stack_name, b.router) == (stack, peer)]
        where = f"routers[{router.name}].backends[{', '.join(b.name for b in backends)}]"
        try:
            entry = peer_entry(exported, stack_reference_name(stack), peer, wanted[(stack, peer)])
        except ValueError as exc:  # invalid input: the engine reports it as such, naming the backends
            raise _reported(InvalidInput([(where, str(exc))]), parent) from None
        deployed = f"{entry.get('site')} ({entry.get('jurisdiction')})"
        for b in backends:  # residency was judged on the declared site: the deployed one must be it
            if entry.get("site") != b.site or (b.jurisdiction and entry.get("jurisdiction") != b.jurisdiction):
                message = (
                    f"stack {stack_reference_name(stack)} deploys router {peer} at site {deployed}, not at "
                    f"{b.site} ({b.jurisdiction}): name the stack that deploys that site, or redeploy the peer"
                )
                raise _reported(InvalidInput([(where, message)]), parent)
        return entry

    entries: dict[tuple[str, str], pulumi.Output] = {}  # one checked entry per peer router, however often used

    def entry_output(stack: str, peer: str) -> pulumi.Output:
        if (stack, peer) not in entries:
            if stack in in_program:
                entries[(stack, peer)] = pulumi.Output.from_input(entry_of(in_program[stack], stack, peer))
            else:
                entries[(stack, peer)] = refs[stack].get_output(EXPORT).apply(lambda fed: entry_of(fed, stack, peer))
        return entries[(stack, peer)]

    def lookup(stack: str, peer: str, field: str) -> object:
        if (stack, peer) not in wanted:  # a reference this router's backends did not write
            raise InvalidInput([(f"routers[{router.name}]", f"no peer backend refers to {stack}/{peer}")])
        entry = entry_output(stack, peer)
        if field == URL:
            return entry.apply(lambda e: e[URL])
        if field == ADDRESSES:
            return entry.apply(lambda e: [{"ipBlock": {"cidr": c}} for c in e[ADDRESSES]])
        raise ValueError(f"unknown peer reference field {field!r}")

    return lookup
