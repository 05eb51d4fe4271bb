"""The metal-agent: supervises native inference runtimes on an Apple Silicon host.

Kubernetes cannot schedule Metal workloads, so each Mac runs this agent. It reads its desired
state from a ConfigMap, runs the runtimes, and publishes EndpointSlices, a Lease and status back:
the API server stays the only shared state. Depends on the standard library, requests and pydantic.
"""
