"""kwizard: from a few Linux servers to a highly available Kubernetes cluster built by Kubespray."""

from __future__ import annotations

__version__ = "0.1.0"
