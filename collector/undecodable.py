"""Requests that do not parse as their message are the caller's fault: INVALID_ARGUMENT.

Left to itself, gRPC answers a request it cannot deserialize with INTERNAL ("Exception
deserializing request!"), which reads as a collector bug and which agents retry forever. This
interceptor parses the request itself and turns a parse failure into INVALID_ARGUMENT.
"""
from __future__ import annotations

import inspect

import grpc
from google.protobuf.message import DecodeError


class _Undecodable:
    def __init__(self, error: DecodeError):
        self.error = error


def tolerant(handler: grpc.RpcMethodHandler | None, method: str):
    """`handler` with a request that does not parse answered INVALID_ARGUMENT. Only synchronous
    behaviours are wrapped (the wrapper is synchronous); the asynchronous ones are gRPC's own."""
    if handler is None or handler.request_streaming or handler.request_deserializer is None:
        return handler
    behavior = handler.unary_stream if handler.response_streaming else handler.unary_unary
    if inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior):
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

    make = grpc.unary_stream_rpc_method_handler if handler.response_streaming else grpc.unary_unary_rpc_method_handler
    return make(guarded, request_deserializer=tolerant_parse, response_serializer=handler.response_serializer)


class RejectUndecodable(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):
        return tolerant(await continuation(handler_call_details), handler_call_details.method)
