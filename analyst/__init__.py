"""farmwatch-analyst: the security team's remote CLI over the collector's Query API (query.proto).

It needs only the bundle `farmwatch-collector pki issue-analyst NAME` writes and the collector's
address; it imports farmwatch.common and farmwatch.v1, never farmwatch.collector.
"""
