"""Envoy xDS: resources built from the gateway state, and the ADS server that pushes them."""
