"""Test-only helpers, kept out of the wheel: loopback servers that speak the real protocols (a
Kubernetes API server, llama-server, a Range-capable file server) and a tiny-GGUF generator."""
