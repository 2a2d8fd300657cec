"""Does every LB node serve every virtual host? One HTTP request per node x host, concurrently, diagnosed.

A request goes to the node's address and NodePort with the virtual host in the Host header, exactly what a
browser sends once DNS points the name at that node. A 404 from the controller proves it runs on the node;
only a rule for the host makes the request pass.
"""

from __future__ import annotations

import errno
import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

Outcome = Literal[
    "ok", "refused", "timeout", "unreachable", "not_found", "backend_down", "http_error", "error"
]
PROBE_HOST = "kwizard-probe.invalid"  # a name no Ingress serves: the controller's own 404 answers it
MAX_WORKERS = 64  # threads; bounds the worst case to ceil(requests / 64) x timeout


@dataclass(frozen=True)
class Target:
    node: str
    address: str


@dataclass(frozen=True)
class ProbeResult:
    node: str
    address: str
    port: int
    host: str
    outcome: Outcome
    status: int | None = None
    detail: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome == "ok"

    @property
    def answered(self) -> bool:
        """An HTTP response came back: something (the controller) listens on the node's port."""
        return self.status is not None

    @property
    def cell(self) -> str:
        """Short text for the node x host table."""
        if self.status is not None:
            return (
                f"{self.status} {self.outcome.replace('_', ' ')}" if not self.passed else f"{self.status} ok"
            )
        return self.outcome

    def diagnosis(self, https_port: int | None = None) -> str:
        """What the failure means and what to check; empty when the request passed."""
        where = f"{self.address}:{self.port}"
        ports = f"TCP {self.port}" + (f" and {https_port}" if https_port else "")
        return {
            "ok": "",
            "refused": f"connection refused on {where}: the ingress controller is not running on {self.node} "
            "or listens elsewhere (kubectl -n kube-system get pods -l app.kubernetes.io/name=kwizard-lb "
            "-o wide; kubectl -n kube-system get svc lb-service)",
            "timeout": f"no answer from {where} within the timeout: a firewall or security group drops "
            f"{ports} to the LB nodes, or {self.node} is down",
            "unreachable": f"no route to {self.address}: {self.node} is down or the network path is broken "
            f"({self.detail})",
            "not_found": f"{self.node}'s controller answered 404: there is no Ingress rule for host "
            f"{self.host} (kubectl get ingress -A; kwizard expose SERVICE --host {self.host})",
            "backend_down": f"the Ingress rule for {self.host} exists but its backend answered "
            f"{self.status}: no ready pod behind the Service (kubectl get pods,endpointslices -n NAMESPACE)",
            "http_error": f"{self.host} on {self.node} answered HTTP {self.status}",
            "error": f"request to {where} failed: {self.detail}",
        }[self.outcome]


def classify_status(status: int) -> Outcome:
    if status < 400 or status in (401, 403):  # an app asking for a login is being served
        return "ok"
    if status == 404:
        return "not_found"
    if status in (502, 503, 504):
        return "backend_down"
    return "http_error"


def probe(target: Target, port: int, host: str, timeout: float = 3.0, path: str = "/") -> ProbeResult:
    """One GET to `target`:`port` with `Host: host:port`; never raises."""
    start = time.monotonic()

    def result(outcome: Outcome, status: int | None = None, detail: str = "") -> ProbeResult:
        return ProbeResult(
            target.node,
            target.address,
            port,
            host,
            outcome,
            status,
            detail,
            round(time.monotonic() - start, 3),
        )

    connection = http.client.HTTPConnection(target.address, port, timeout=timeout)
    try:
        # A browser sends the port in Host when it is not 80; controllers match the name without it.
        connection.request("GET", path, headers={"Host": f"{host}:{port}", "User-Agent": "kwizard-verify"})
        response = connection.getresponse()
        response.read(65536)
        if host == PROBE_HOST and response.status == 404:
            return result("ok", response.status, "controller answered")  # the 404 we asked for
        return result(classify_status(response.status), response.status, response.reason)
    except ConnectionRefusedError:
        return result("refused")
    except TimeoutError:
        return result("timeout")
    except OSError as exc:
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return result("unreachable", detail=exc.strerror or str(exc))
        return result("error", detail=f"{type(exc).__name__}: {exc}")
    except http.client.HTTPException as exc:
        return result("error", detail=f"not an HTTP answer ({type(exc).__name__})")
    finally:
        connection.close()


@dataclass(frozen=True)
class VerificationReport:
    hosts: tuple[str, ...]
    nodes: tuple[Target, ...]
    results: tuple[ProbeResult, ...]

    def result(self, node: str, host: str) -> ProbeResult:
        return next(r for r in self.results if r.node == node and r.host == host)

    @property
    def failures(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failures

    def rows(self) -> list[list[str]]:
        """Header row, then one row per node: the node x host table."""
        header = ["node", *self.hosts]
        body = [
            [f"{n.node} ({n.address})", *(self.result(n.node, h).cell for h in self.hosts)]
            for n in self.nodes
        ]
        return [header, *body]

    def text(self, https_port: int | None = None) -> str:
        """The table as aligned plain text, followed by the diagnosis of every failure."""
        rows = self.rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        lines += [f"✗ {r.node} / {r.host}: {r.diagnosis(https_port)}" for r in self.failures]
        return "\n".join(lines)

    def to_data(self) -> dict[str, object]:
        """JSON-serialisable form for the run journal and the summary screen."""
        return {
            "hosts": list(self.hosts),
            "nodes": [{"node": n.node, "address": n.address} for n in self.nodes],
            "results": [
                {
                    "node": r.node,
                    "address": r.address,
                    "port": r.port,
                    "host": r.host,
                    "outcome": r.outcome,
                    "status": r.status,
                    "diagnosis": r.diagnosis(),
                }
                for r in self.results
            ],
        }


def verify(
    nodes: list[Target], hosts: list[str], port: int, timeout: float = 3.0, path: str = "/"
) -> VerificationReport:
    """Probe every node for every host concurrently (bounded by `timeout` per request)."""
    pairs = [(n, h) for n in nodes for h in hosts]
    if not pairs:
        return VerificationReport(tuple(hosts), tuple(nodes), ())
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(pairs))) as pool:
        results = list(pool.map(lambda pair: probe(pair[0], port, pair[1], timeout, path), pairs))
    return VerificationReport(tuple(hosts), tuple(nodes), tuple(results))
