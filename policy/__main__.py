"""The CrossGuard pack: every llmkube rule as a pulumi_policy policy
(see llmkube_iac/policy/crossguard/pack.py).

Runs in the Python environment where llmkube-iac is installed (`pip install -e .` at the repo root).
"""

from pulumi_policy import PolicyPack

from llmkube_iac.policy.crossguard.pack import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=list(build_policies()))
