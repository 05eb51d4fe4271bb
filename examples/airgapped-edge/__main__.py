"""Air-gapped edge site: everything comes from inside — images from the registry mirror, charts
from its OCI registry, weights from the internal model store — and every rule of the pack passes.

Config lives in Pulumi.edge.yaml (`llmkube:site`, `llmkube:models`, `llmkube:services`), read the
same way as stacks/__main__.py: `llmkube-iac check examples/airgapped-edge --stack edge`.
"""

from llmkube_iac.components.program import run

run()
