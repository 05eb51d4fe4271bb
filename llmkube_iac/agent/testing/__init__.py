"""Loopback stand-ins for what cannot run here (a Kubernetes API server, llama-server), used by the
agent's tests and its latency benchmark. They speak the real protocols so the real client is used."""
