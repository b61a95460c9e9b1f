"""Requests that do not parse as their message are the caller's fault: INVALID_ARGUMENT.

Left to itself, gRPC answers a request it cannot deserialize with INTERNAL ("Exception
deserializing request!"), which reads as a collector bug and which agents retry forever. This
interceptor parses the request itself and turns a parse failure into INVALID_ARGUMENT.
"""
from __future__ import annotations

import grpc
from google.protobuf.message import DecodeError

from farmwatch.collector.threads import rebuilt, sync_behavior


class _Undecodable:
    def __init__(self, error: DecodeError):
        self.error = error


def tolerant(handler: grpc.RpcMethodHandler | None, method: str):
    """`handler` with a request that does not parse answered INVALID_ARGUMENT. Only synchronous
    behaviours are wrapped (the wrapper is synchronous); the asynchronous ones are gRPC's own."""
    behavior = sync_behavior(handler)
    if behavior is None or handler.request_deserializer is None:
        return handler
    parse = handler.request_deserializer

    def tolerant_parse(data: bytes):
        try:
            return parse(data)
        except DecodeError as exc:
            return _Undecodable(exc)

    def guarded(request, context):
        if isinstance(request, _Undecodable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"the request to {method} is not a valid message: {request.error}")
        return behavior(request, context)

    return rebuilt(handler, guarded, request_deserializer=tolerant_parse)


class RejectUndecodable(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):
        return tolerant(await continuation(handler_call_details), handler_call_details.method)
