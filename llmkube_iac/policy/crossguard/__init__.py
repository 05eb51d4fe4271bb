"""The CrossGuard adapter: the pure rules as `pulumi_policy` objects, and the in-process evaluator
that runs those very objects over a rendered plan.

It lives apart from the rules because `pulumi_policy` imports the pulumi SDK, and the pure layers
(spec, plan, policy rules, modelinfo, runtimes, hardware) must import without it. Nothing outside
this package imports pulumi_policy; `llmkube_iac.policy.evaluate` loads it lazily.

- `pack.py`: one pulumi_policy policy per rule (`policy/__main__.py` at the repository root serves
  them to `pulumi preview --policy-pack policy`);
- `offline.py`: `evaluate()`, the same objects called in-process the way the analyzer calls them,
  so `llmkube-iac check` and `pulumi preview --policy-pack` give the same verdicts.
"""
