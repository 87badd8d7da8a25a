"""Names the control plane pushes to Envoy and ext_proc reads back: one definition for both.

A model served by several deployments has a cluster of its own, one endpoint per deployment,
each with the deployment id in its metadata (`omg.deployment_id`). An upstream header-mutation
filter copies it into `x-omg-endpoint` on every attempt, before the upstream-level ext_proc.
(`auto_host_rewrite` would be too late: Envoy applies it after the upstream filters ran.)
"""

from __future__ import annotations

import hashlib
import re

ENDPOINT_DOMAIN = ".omg.internal"
ENDPOINT_HEADER = "x-omg-endpoint"
ENDPOINT_METADATA = ("omg", "deployment_id")


def endpoint_hostname(deployment_id: str) -> str:
    """Shown in Envoy's /clusters next to the address: which deployment a host is."""
    return f"{deployment_id}{ENDPOINT_DOMAIN}"


def model_cluster_name(model: str) -> str:
    """Readable and unique: Envoy's /clusters output splits on ':', so names avoid it."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model)[:40]
    digest = hashlib.sha256(model.encode()).hexdigest()[:8]
    return f"omg_model_{safe}_{digest}"
