"""Hardware economics a site declares, so the plan can state what a served token costs.

Why declared and not looked up: prices, amortisation and electricity are the operator's facts
(contracts, tariffs, the building's PUE); the library only combines them with the published
memory bandwidth of the device (plan/cost.py). Nothing is assumed when a fact is missing: the
cost is then reported as unknown.
"""

from __future__ import annotations

from pydantic import Field

from .base import SpecModel


class DeviceEconomics(SpecModel):
    """What one device (a GPU of a pool, or one Apple Silicon host) costs to own and to run."""

    price_dollars: float = Field(
        gt=0, description="Purchase price of one device in US dollars (for a metal host: the whole machine)"
    )
    amortisation_years: float = Field(
        4, gt=0, le=20, description="Years over which the purchase price is written off (straight line)"
    )
    power_watts: float = Field(
        gt=0,
        description="Power drawn by one device under inference load, in watts (board power, or the host's "
        "wall power for a metal host)",
    )
    bandwidth_gb_s: float | None = Field(
        None,
        alias="bandwidthGBs",
        gt=0,
        description="Peak memory bandwidth of one device in GB/s; unset: the accelerator table's published figure "
        "for the pool's product (llmkube_iac/modelinfo/accelerators.py)",
    )


class SiteEconomics(SpecModel):
    """Site-wide running costs and the throughput model's knobs."""

    electricity_dollars_per_kwh: float = Field(
        gt=0, alias="electricityDollarsPerKWh", description="Electricity price in US dollars per kWh"
    )
    pue: float = Field(
        1.4,
        ge=1,
        le=5,
        description="Power usage effectiveness of the site (facility power / IT power); 1.0 for a machine on a desk",
    )
    bandwidth_efficiency: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Share of peak memory bandwidth decoding achieves (the roofline's efficiency factor)",
    )
    utilisation: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Share of the hours a replica is decoding at full batch: the cost per token divides the hourly "
        "cost by the tokens of these hours (1.0 = the cost at saturation, a lower bound)",
    )
