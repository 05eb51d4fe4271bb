"""The per-site program: `pulumi up -s <site>` (or `llmkube-iac render stacks --stack <site>`)."""

from llmkube_iac.components.program import run

run()
