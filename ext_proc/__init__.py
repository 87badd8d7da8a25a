"""The Envoy external-processing service: per-request auth, routing and usage capture."""
