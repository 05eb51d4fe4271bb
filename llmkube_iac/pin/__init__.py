"""`llmkube-iac pin`: resolve every image a stack runs to its digest and record it in the stack config.

Digests are never typed in or guessed: they come from the registry (or mirror) the site pulls from,
over the registry HTTP API v2 with its own authentication, and go into `site.imageDigests`, where
the planner's one image step appends them to exactly those references.
"""
