"""The control plane: source of truth, admin API, xDS server, config and usage services."""
