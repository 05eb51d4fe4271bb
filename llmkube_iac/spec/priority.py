"""Service priorities: one table for what a priority means everywhere it matters.

A priority orders eviction on a metal host (rank: batch 0 .. critical 4), becomes a Kubernetes
PriorityClass (its value and whether it may preempt) and is a label; the spec's `Priority` type
accepts exactly the table's names. Routers have a class of their own, above all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Priority = Literal["critical", "high", "normal", "low", "batch"]  # highest first


@dataclass(frozen=True)
class PriorityLevel:
    rank: int  # eviction order on a metal host: the lowest running rank goes first
    class_value: int  # the PriorityClass value the scheduler compares
    preempts: bool = True  # False: PriorityClass preemptionPolicy Never (waits instead of evicting others)


PRIORITIES: dict[str, PriorityLevel] = {
    "critical": PriorityLevel(4, 1_000_000),
    "high": PriorityLevel(3, 100_000),
    "normal": PriorityLevel(2, 10_000),
    "low": PriorityLevel(1, 1_000),
    "batch": PriorityLevel(0, 100, preempts=False),
}
if tuple(PRIORITIES) != get_args(Priority):  # the type and the table must name the same priorities
    raise ImportError(f"spec/priority.py: Priority {get_args(Priority)} and PRIORITIES {tuple(PRIORITIES)} differ")

PRIORITY_RANK = {name: level.rank for name, level in PRIORITIES.items()}
# Routers run above every inference priority: the scheduler never preempts a gateway pod to place a model server.
GATEWAY_PRIORITY_CLASS, GATEWAY_CLASS_VALUE = "llmkube-gateway", 2_000_000
if GATEWAY_CLASS_VALUE <= max(level.class_value for level in PRIORITIES.values()):
    raise ImportError("spec/priority.py: the gateway's PriorityClass must rank above every inference priority")


def priority_class_name(priority: str) -> str:
    """The PriorityClass a site creates for a priority and its pods name."""
    return f"llmkube-{priority}"
