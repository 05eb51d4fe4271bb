"""A fleet of three sites, one stack per site: each stack reads fleet.yaml (`llmkube:fleet`), places
every fleet service the same way, and applies its own share (`pulumi up -s dc`, `-s edge-l4`,
`-s edge-metal`); the `all` stack renders every site from one program (`llmkube:fleetSite: "*"`).
The L4 edge's router federates to the datacenter's: it reads the `dc` stack's `federation` output
through a stack reference (deploy `dc` first).

    llmkube-iac check examples/fleet --stack dc
    llmkube-iac render examples/fleet --stack all --out out   # out/report.html: the fleet at a glance
"""

from llmkube_iac.components.program import run

run()
