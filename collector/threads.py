"""The collector's synchronous servicers on grpc.aio's server.

Why aio: grpcio's synchronous server reads a unary call's request inside the worker thread that
will run the handler, so a client that opens as many calls as there are workers and never sends
the request body (the bootstrap certificate is public) holds every worker until it leaves, and
every agent's report times out. grpc.aio's server reads the request on its event loop and only
then hands the handler to a thread, so a silent call costs a coroutine, not a worker.

Why not grpc.aio's own `migration_thread_pool`: its context for synchronous handlers has no
`is_active()` and no `code()`, runs `add_callback` callbacks only after a unary handler returned
(never when the client cancels, never for a stream), and drives a synchronous generator with a
thread that blocks for ever when the stream is cancelled while a response is pending. A flag
stream would then keep its worker thread and its follower slot for good. `InThreads` runs each
synchronous behaviour in the pool itself, with a context (`ThreadContext`) that keeps the
synchronous stack's meaning: `is_active()` turns false and callbacks run as soon as the call ends,
for whatever reason (answered, cancelled, deadline, server stopping).
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from concurrent import futures

import grpc

log = logging.getLogger("farmwatch.collector.threads")
_DONE = object()


class CallEnded(Exception):
    """abort() on a call that has already ended: there is no one left to tell."""


class ThreadContext:
    """What a synchronous handler may ask of its call, from a worker thread.

    Everything read from gRPC core (peer, certificate, metadata) is read on the event loop when the
    call starts: after the call ends gRPC releases it, and a worker thread still running (a handler
    outliving its cancelled call) must not touch it."""

    def __init__(self, context: grpc.aio.ServicerContext, loop: asyncio.AbstractEventLoop):
        self._context, self._loop = context, loop
        self._peer = context.peer()
        self._auth = context.auth_context()
        self._metadata = context.invocation_metadata()
        self._ended = False  # set once, under `_lock`; a plain flag: an Event per call costs the loop more
        self._lock = threading.Lock()
        self._callbacks: list = []

    # -- grpc.ServicerContext, as the synchronous stack has it ---------------------------------
    def peer(self) -> str:
        return self._peer

    def auth_context(self) -> dict:
        return self._auth

    def invocation_metadata(self):
        return self._metadata

    def time_remaining(self):
        return self._context.time_remaining()

    def code(self):
        return self._context.code()

    def details(self):
        return self._context.details()

    def set_code(self, code) -> None:
        self._context.set_code(code)

    def set_details(self, details: str) -> None:
        self._context.set_details(details)

    def is_active(self) -> bool:
        return not self._ended

    def add_callback(self, callback) -> bool:
        with self._lock:
            if self._ended:
                return False
            self._callbacks.append(callback)
            return True

    def abort(self, code: grpc.StatusCode, details: str = ""):
        """Send the status and raise, as the synchronous stack does; the exception must leave the
        handler (gRPC checks it is the one abort raised)."""
        if self._ended:
            raise CallEnded(details)
        asyncio.run_coroutine_threadsafe(self._abort(code, details), self._loop).result()
        raise AssertionError("abort returned")  # pragma: no cover

    async def _abort(self, code, details):
        if self._ended:  # checked on the loop, where the call ends: never after release
            raise CallEnded(details)
        await self._context.abort(code, details)

    # -- the call's end -----------------------------------------------------------------------
    def end(self) -> None:
        """The call is over (answered, aborted, cancelled, timed out, server stopping)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("event=call_callback_failed")


def sync_behavior(handler: grpc.RpcMethodHandler | None):
    """The synchronous behaviour of a handler that takes one request, or None when there is none to
    wrap (no handler, a client-streaming call, or an asynchronous servicer such as health's)."""
    if handler is None or handler.request_streaming:
        return None
    behavior = handler.unary_stream if handler.response_streaming else handler.unary_unary
    if inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior):
        return None
    return behavior


def rebuilt(handler: grpc.RpcMethodHandler, behavior, request_deserializer=None) -> grpc.RpcMethodHandler:
    """`handler` of the same shape with another behaviour (and request parser)."""
    make = grpc.unary_stream_rpc_method_handler if handler.response_streaming else grpc.unary_unary_rpc_method_handler
    return make(behavior, request_deserializer=request_deserializer or handler.request_deserializer,
                response_serializer=handler.response_serializer)


def _unary(behavior, pool: futures.Executor):
    async def run(request, context):
        loop = asyncio.get_running_loop()
        call = ThreadContext(context, loop)
        try:
            return await loop.run_in_executor(pool, behavior, request, call)
        finally:
            call.end()

    return run


def _stream(behavior, pool: futures.Executor):
    """A synchronous response generator, one `next()` at a time in the pool: between responses no
    thread is held (the event loop writes them, at the client's pace), and a cancelled call ends
    the generator (`close()`, so its `finally` runs) once the step in progress returns."""

    async def run(request, context):
        loop = asyncio.get_running_loop()
        call = ThreadContext(context, loop)
        responses, step = None, None
        try:
            responses = await loop.run_in_executor(pool, lambda: iter(behavior(request, call)))
            while True:
                step = pool.submit(next, responses, _DONE)
                response = await asyncio.wrap_future(step, loop=loop)
                if response is _DONE:
                    return
                yield response
        finally:
            call.end()
            if responses is not None:
                _close_after(responses, step, pool)

    return run


def _close_after(responses, step, pool: futures.Executor) -> None:
    def close(_=None):
        try:
            pool.submit(responses.close)
        except RuntimeError:  # the pool is shut down: the server is stopping
            responses.close()

    if step is None or step.done():
        close()
    else:
        step.add_done_callback(close)


def in_threads(handler: grpc.RpcMethodHandler | None, pool: futures.Executor):
    """`handler` with its synchronous behaviour run in `pool`; asynchronous ones are left alone, and
    client-streaming ones (farmwatch has none) to grpc.aio's own bridge."""
    behavior = sync_behavior(handler)
    if behavior is None:
        return handler
    return rebuilt(handler, (_stream if handler.response_streaming else _unary)(behavior, pool))


class InThreads(grpc.aio.ServerInterceptor):
    """Runs every synchronous servicer method in `pool` (see the module's docstring)."""

    def __init__(self, pool: futures.Executor):
        self.pool = pool

    async def intercept_service(self, continuation, handler_call_details):
        return in_threads(await continuation(handler_call_details), self.pool)
