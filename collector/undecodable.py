"""Requests that do not parse as their message are the caller's fault: INVALID_ARGUMENT.

Left to itself, gRPC answers a request it cannot deserialize with INTERNAL ("Exception
deserializing request!"), which reads as a collector bug and which agents retry forever. This
interceptor parses the request itself and turns a parse failure into INVALID_ARGUMENT.
"""
from __future__ import annotations

import grpc
from google.protobuf.message import DecodeError


class _Undecodable:
    def __init__(self, error: DecodeError):
        self.error = error


class RejectUndecodable(grpc.ServerInterceptor):
    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        parse, method = handler.request_deserializer, handler_call_details.method

        def tolerant_parse(data: bytes):
            try:
                return parse(data)
            except DecodeError as exc:
                return _Undecodable(exc)

        def guarded(behavior):
            def run(request, context):
                if isinstance(request, _Undecodable):
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                  f"the request to {method} is not a valid message: {request.error}")
                return behavior(request, context)
            return run

        if handler.response_streaming:
            make, behavior = grpc.unary_stream_rpc_method_handler, handler.unary_stream
        else:
            make, behavior = grpc.unary_unary_rpc_method_handler, handler.unary_unary
        return make(guarded(behavior), request_deserializer=tolerant_parse,
                    response_serializer=handler.response_serializer)
