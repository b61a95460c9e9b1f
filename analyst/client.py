"""The Query API over mutual TLS, as the analyst's bundle allows: each call's answer decoded to the
dicts the collector's own CLI prints, each refusal turned into one sentence saying what to do next."""
from __future__ import annotations

import json

import grpc

from farmwatch.analyst.identity import Bundle
from farmwatch.v1 import query_pb2, query_pb2_grpc

CALL_TIMEOUT = 60.0  # seconds; the collector bounds its own SQL at 10


class QueryFailed(Exception):
    """A call that did not answer; the message says why and what to do next."""


class Client:
    def __init__(self, address: str, bundle: Bundle, server_name: str = "", timeout: float = CALL_TIMEOUT):
        credentials = grpc.ssl_channel_credentials(root_certificates=bundle.ca_pem, private_key=bundle.key_pem,
                                                   certificate_chain=bundle.cert_pem)
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        self.address, self.bundle, self.timeout = address, bundle, timeout
        self._channel = grpc.secure_channel(address, credentials, options=options)
        self._stub = query_pb2_grpc.QueryStub(self._channel)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._channel.close()

    # -- calls: what each returns is what `farmwatch-collector COMMAND --json` prints ---------------
    def devices(self, verdict: str = "", user: str = "", cluster: str = "") -> tuple[list[dict], list[str], bool]:
        return _rows(self._call(self._stub.Devices, query_pb2.DevicesRequest(verdict=verdict, user=user,
                                                                            cluster_id=cluster)))

    def device(self, device_id: str) -> dict:
        return json.loads(self._call(self._stub.Device, query_pb2.DeviceRequest(device_id=device_id)).json)

    def flags(self) -> tuple[list[dict], list[str], bool]:
        return _rows(self._call(self._stub.Flags, query_pb2.FlagsRequest()))

    def clusters(self, include_inactive: bool = False, min_score: int = 0) -> tuple[list[dict], list[str], bool]:
        return _rows(self._call(self._stub.Clusters, query_pb2.ClustersRequest(include_inactive=include_inactive,
                                                                              min_score=min_score)))

    def cluster(self, cluster_id: str) -> dict:
        return json.loads(self._call(self._stub.Cluster, query_pb2.ClusterRequest(cluster_id=cluster_id)).json)

    def sql(self, statement: str, max_rows: int = 0) -> tuple[list[dict], list[str], bool]:
        return _rows(self._call(self._stub.Sql, query_pb2.SqlRequest(sql=statement, max_rows=max_rows)))

    def triage(self, device_id: str, state: str = "", assignee: str | None = None, note: str = "") -> dict:
        """The device's triage after recording the change given (none: only show it)."""
        request = query_pb2.TriageRequest(device_id=device_id, state=state, note=note)
        if assignee is not None:
            request.assignee = assignee
        return json.loads(self._call(self._stub.Triage, request).json)

    def follow(self, skip_current: bool = False, poll_seconds: int = 0):
        """Each flag event as the JSON line `export jsonl` writes, until the caller stops iterating."""
        stream = self._stub.FollowFlags(query_pb2.FollowFlagsRequest(skip_current=skip_current,
                                                                     poll_seconds=poll_seconds))
        try:
            for event in stream:
                yield event.json
        except grpc.RpcError as exc:
            raise QueryFailed(self._explain(exc)) from exc
        finally:
            stream.cancel()

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise QueryFailed(self._explain(exc)) from exc

    def _explain(self, error: grpc.RpcError) -> str:
        return explain(error.code(), error.details() or "", self.address)


def _rows(answer: query_pb2.Rows) -> tuple[list[dict], list[str], bool]:
    """The rows as dicts (each cell JSON-decoded, so numbers stay numbers), the columns, and whether
    the collector left rows out because one answer could not carry them."""
    return [json.loads(row) for row in answer.rows], list(answer.columns), answer.truncated


# How a TLS server that turns our certificate down looks from here: it closes the socket mid-handshake
# (gRPC says "Socket closed"), or sends an alert.
_HANDSHAKE_CUT = ("socket closed", "handshake", "ssl", "tls")
_NEW_BUNDLE = ("ask the collector's admin for a new bundle (`farmwatch-collector pki issue-analyst NAME`) "
               "and pass it with --identity")


def explain(code: grpc.StatusCode, details: str, address: str) -> str:
    """A refusal in words, with the next step."""
    lowered = details.lower()
    if code == grpc.StatusCode.UNAVAILABLE and "certificate_verify_failed" in lowered:
        return (f"the collector at {address} shows a certificate the CA in your bundle did not sign ({details}): "
                "check --connect names the collector that issued your bundle, or ask its admin for a bundle "
                "of that collector (`farmwatch-collector pki issue-analyst NAME`)")
    if code == grpc.StatusCode.UNAVAILABLE and any(word in lowered for word in _HANDSHAKE_CUT):
        return (f"the collector at {address} refused your certificate during the TLS handshake ({details}): it "
                f"has expired, or another collector's CA signed it; {_NEW_BUNDLE}")
    if code == grpc.StatusCode.UNAVAILABLE:
        return (f"cannot reach the collector at {address} ({details}); check the host and port (the collector's "
                "`serve --listen`), that it is running, and that no firewall is in the way")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"the collector at {address} did not answer in time; try again, or narrow the question"
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return f"the collector refused your certificate: {details}; {_NEW_BUNDLE}"
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return f"the collector refused this identity: {details}; {_NEW_BUNDLE}"
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return (f"the collector at {address} does not offer this call ({details}); it may be older than "
                "farmwatch-analyst: upgrade the collector")
    return details or f"the collector answered {code.name}"
