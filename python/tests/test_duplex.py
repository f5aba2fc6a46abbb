"""Duplex channels: echo, metadata, error handlers, the one-response rule, reconnection after a
server restart, thread-pool ordering, handler frames and response writers after the call."""

import gc
import threading
import time

import numpy as np
import pytest

import zerobuffer_native as zb
from zerobuffer_native.duplex import DuplexChannelFactory, DuplexResponse, ProcessingMode

CFG = zb.BufferConfig(metadata_size=1024, payload_size=1 << 20)
RESP = zb.BufferConfig(metadata_size=256, payload_size=1 << 20)


def echo(frame, response):
    response.write_frame(frame.data)


@pytest.fixture
def factory():
    return DuplexChannelFactory.get_instance()


@pytest.fixture
def server(factory, name):
    servers = []

    def start(handler=echo, on_init=None, mode=ProcessingMode.SINGLE_THREAD, **options):
        ch = name("dx")
        s = factory.create_immutable_server(ch, CFG, timeout=2.0, **options)
        s.start(handler, on_init, mode)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def client_of(factory, server, **options):
    options.setdefault("response_config", RESP)
    return factory.create_client(server.channel_name, **options)


def test_echo_sequence_metadata_and_counters(factory, server):
    inits = []
    s = server(on_init=lambda md: inits.append(bytes(md)))
    assert s.is_running and s.request_reader is not None and s.request_reader.name.endswith("_request")
    with client_of(factory, s, metadata=b"hello server") as c:
        assert c.is_server_connected
        for k in range(1, 201):
            payload = bytes([k % 256]) * k
            assert c.send_request(payload) == k
            with c.receive_response(2000) as r:
                assert isinstance(r, DuplexResponse) and r.is_valid
                assert r.sequence == k and bytes(r.data) == payload and r.to_bytes() == payload and len(r) == k
        assert c.pending_responses == 0
    assert inits == [b"hello server"]
    assert s.requests_handled == 200 and s.clients_served == 1


def test_zero_copy_request_and_numpy_response(factory, server):
    s = server()
    with client_of(factory, s) as c:
        seq, buf = c.acquire_request_buffer(64)
        assert seq == 1 and len(buf) == 64
        arr = np.frombuffer(buf, dtype=np.int64)
        arr[:] = np.arange(8)
        with pytest.raises(zb.LiveViewsError):
            c.commit_request()
        del arr
        assert c.commit_request() == 1
        r = c.receive_response(2000)
        got = r.as_numpy(np.int64)
        assert (got == np.arange(8)).all()
        with pytest.raises(zb.LiveViewsError):
            r.dispose()
        del got
        r.dispose()
        seq, buf = c.acquire_request_buffer(8)
        assert seq == 2
        c.abandon_request()
        assert c.send_request(b"after") == 2


def test_receive_timeout_returns_an_invalid_response(factory, server):
    s = server()
    with client_of(factory, s) as c:
        t0 = time.monotonic()
        r = c.receive_response(100)
        assert not r.is_valid and r.data is None and len(r) == 0 and r.to_bytes() == b""
        assert 0.09 < time.monotonic() - t0 < 2
        assert not c.receive_response(0).is_valid


def test_handler_exception_reaches_the_error_handlers(factory, server):
    events = []

    def handler(frame, response):
        response.write_frame(b"answer")
        if bytes(frame) == b"boom":
            raise RuntimeError("handler exploded")

    s = server(handler)
    s.add_error_handler(events.append)
    with client_of(factory, s) as c:
        c.send_request(b"boom")
        assert bytes(c.receive_response(2000).data) == b"answer"
        c.send_request(b"fine")
        assert bytes(c.receive_response(2000).data) == b"answer"
    deadline = time.monotonic() + 5
    while len(events) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    kinds = [e.kind for e in events]
    assert kinds[0] == "handler_failed" and isinstance(events[0].exception, RuntimeError)
    assert str(events[0].exception) == "handler exploded"
    assert events[0].request == 1 and events[0].client_pid > 0
    assert kinds[1] == "client_disconnected" and isinstance(events[1].exception, zb.WriterDeadException)


def test_a_missing_response_disconnects_the_client_which_then_reconnects(factory, server):
    events = []
    s = server(lambda frame, response: None if bytes(frame) == b"skip" else response.write_frame(frame.data))
    s.add_error_handler(events.append)
    with client_of(factory, s) as c:
        c.send_request(b"skip")
        with pytest.raises(zb.WriterDeadException, match="unanswered|request"):
            c.receive_response(2000)
        assert c.send_request(b"again") == 1  # a new connection
        assert bytes(c.receive_response(2000).data) == b"again"
        assert c.reconnects == 1
    assert any(e.kind == "response_missing" for e in events)


def test_client_reconnects_after_a_server_restart(factory, name):
    ch = name("rs")
    s1 = factory.create_immutable_server(ch, CFG)
    s1.start(lambda f, r: r.write_frame(b"one"))
    with factory.create_client(ch, response_config=RESP) as c:
        c.send_request(b"x")
        assert bytes(c.receive_response(2000).data) == b"one"
        s1.stop()
        assert not c.is_server_connected
        s2 = factory.create_immutable_server(ch, CFG)
        s2.start(lambda f, r: r.write_frame(b"two"))
        try:
            c.send_request(b"y")
            assert bytes(c.receive_response(2000).data) == b"two"
            assert c.reconnects == 1
        finally:
            s2.stop()


def test_thread_pool_mode_answers_in_order(factory, server):
    def slow_echo(frame, response):
        if frame.sequence % 7 == 0:
            time.sleep(0.002)
        response.write_frame(bytes(frame)[::-1])

    s = server(slow_echo, mode=ProcessingMode.THREAD_POOL, worker_threads=3)
    with client_of(factory, s) as c:
        for k in range(300):
            c.send_request(b"req%05d" % k)
            if k % 50 == 49:
                for j in range(k - 49, k + 1):
                    with c.receive_response(5000) as r:
                        assert bytes(r.data) == (b"req%05d" % j)[::-1]


def test_start_with_writer_and_staged_frame_buffers(factory, name):
    s = factory.create_immutable_server(name("sw"), CFG)

    def handler(frame, response):
        buf = response.get_frame_buffer(len(frame) + 1)
        buf[:-1] = frame.data
        buf[-1:] = b"!"
        response.commit_frame()
        assert response.frames == 1

    s.start_with_writer(handler)
    try:
        with client_of(factory, s) as c:
            c.send_request(b"hi")
            assert bytes(c.receive_response(2000).data) == b"hi!"
    finally:
        s.stop()


def test_handler_frame_and_writer_end_with_the_call(factory, server):
    kept = {}

    def handler(frame, response):
        kept["frame"], kept["writer"] = frame, response
        kept.setdefault("arrays", []).append(frame.as_numpy())  # a view that outlives the call
        response.write_frame(frame.data)

    s = server(handler)
    with client_of(factory, s) as c:
        for k in range(50):
            c.send_request(bytes([k]) * 1000)
            c.receive_response(2000).dispose()
    # The last response reaches the client while its handler is still running: stopping the
    # server joins its thread, so every handler call has ended.
    s.stop()
    with pytest.raises(zb.ObjectClosedException):
        kept["frame"].data
    with pytest.raises(zb.ObjectClosedException):
        kept["writer"].write_frame(b"late")
    # Each leaked array still shows its own request: the binding took those frames over.
    assert [bytes(a[:1]) for a in kept["arrays"]] == [bytes([k]) for k in range(50)]
    del kept["arrays"]
    gc.collect()


def test_server_stops_promptly_and_clients_wait_for_a_server(factory, name):
    ch = name("late")
    result = {}

    def connect():
        with factory.create_client(ch, response_config=RESP, connect_timeout=5.0) as c:
            c.send_request(b"early bird")
            result["answer"] = bytes(c.receive_response(2000).data)

    t = threading.Thread(target=connect)
    t.start()
    time.sleep(0.2)
    s = factory.create_immutable_server(ch, CFG)
    s.start(echo)
    t.join(10)
    assert result["answer"] == b"early bird"
    t0 = time.monotonic()
    s.stop()
    assert time.monotonic() - t0 < 0.5 and not s.is_running and s.request_reader is None


def test_factory_and_errors(factory, name):
    assert DuplexChannelFactory.get_instance() is factory
    with pytest.raises(NotImplementedError):
        factory.create_mutable_server("x", CFG)
    with pytest.raises(zb.InvalidNameException, match="channel"):
        factory.create_immutable_server("bad/name", CFG)
    with pytest.raises(zb.BufferNotFoundException):
        factory.create_client(name("nobody"), response_config=RESP, connect_timeout=0.2)
    assert not DuplexChannelFactory.wait_exists(name("nobody"), 0.05)
    with pytest.raises(zb.InvalidArgumentException, match="mode"):
        s = factory.create_immutable_server(name("m"), CFG)
        s.start(echo, None, "sideways")
    with pytest.raises(zb.InvalidArgumentException, match="response_policy"):
        factory.create_immutable_server(name("p"), CFG, response_policy="maybe")


def test_set_and_remove_error_handlers(factory, server):
    first, second = [], []
    s = server(lambda f, r: (_ for _ in ()).throw(ValueError("no")))
    s.add_error_handler(first.append)
    s.add_error_handler(first.append)  # once only
    s.remove_error_handler(first.append)
    s.set_error_handler(second.append)
    with client_of(factory, s) as c:
        c.send_request(b"x")
        with pytest.raises(zb.WriterDeadException):
            c.receive_response(2000)
    deadline = time.monotonic() + 5
    while not second and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not first and second and isinstance(second[0].exception, ValueError)
