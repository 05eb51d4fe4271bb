"""gpu-fit-unknown (stack, advisory): a service whose fit the estimator cannot judge is reported.

Governance that cannot judge says so, naming the missing facts and how to supply them; at
air-gapped sites `gpu-fit` itself refuses an unjudged fit, so this rule leaves them to it."""

from __future__ import annotations

from ..base import Rule, Violation
from ..view import StackView
from .gpu_fit import _fits, _unknown_message


def check_fit_unknown(view: StackView, cfg: dict):
    for site, svc, verdict, _, missing, _ in _fits(view):
        if verdict == "unknown" and not (site.spec.air_gapped and cfg.get("skipAirGappedSites", True)):
            yield Violation(
                _unknown_message(f"service {svc.spec.name} at site {site.spec.name}", missing, False), svc.res.urn
            )


RULE = Rule(
    "gpu-fit-unknown",
    "A service whose fit the estimator cannot judge (facts missing) is reported, naming the "
    "missing facts: governance that cannot judge says so (at air-gapped sites gpu-fit itself refuses it).",
    "advisory",
    "Name the model as in the catalog (`llmkube-iac catalog`), make its header readable at plan time (file/pvc "
    "source, site.modelStores, site.hfEndpoint) or declare sizeGiB and the accelerator product; the message "
    "names what is missing.",
    "stack",
    check_fit_unknown,
    {
        "skipAirGappedSites": {
            "type": "boolean",
            "default": True,
            "description": "Leave air-gapped sites to gpu-fit (which refuses unknown there)",
        }
    },
)
