"""The public API mirrors zerobuffer-ipc 1.3.0 (module, class, function, argument and exception
names), and the type stubs cover the extension module."""

import ast
import inspect
import pathlib

import pytest

import zerobuffer_native as zb
import zerobuffer_native.duplex as zbd
import zerobuffer_native.exceptions as zbe

peer = pytest.importorskip("zerobuffer", reason="zerobuffer-ipc is not installed")
import zerobuffer.duplex as peer_duplex  # noqa: E402
import zerobuffer.exceptions as peer_exceptions  # noqa: E402

CLASSES = ["Reader", "Writer", "Frame", "BufferConfig", "DuplexClient", "ImmutableDuplexServer",
           "DuplexChannelFactory", "DuplexResponse", "ErrorEventArgs"]


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def test_every_peer_name_exists():
    assert set(peer.__all__) <= set(zb.__all__)
    assert set(peer_duplex.__all__) <= set(zbd.__all__)
    peer_exc = {n for n in dir(peer_exceptions) if n.endswith(("Exception", "Error"))}
    assert peer_exc <= set(zbe.__all__)
    for n in peer_exc:
        assert issubclass(getattr(zbe, n), zbe.ZeroBufferException)
    assert [m.name for m in peer_duplex.ProcessingMode] == [m.name for m in zbd.ProcessingMode]
    assert [m.value for m in peer_duplex.ProcessingMode] == [m.value for m in zbd.ProcessingMode]


@pytest.mark.parametrize("cls", CLASSES)
def test_every_peer_member_exists(cls):
    ours, theirs = getattr(zb, cls), getattr(peer, cls)
    missing = public(theirs) - public(ours)
    if cls in ("Frame",):
        missing -= set()  # Frame has every member
    assert not missing, f"{cls} lacks {sorted(missing)}"


def _params(fn):
    return [p for p in inspect.signature(fn).parameters if p != "self"]


@pytest.mark.parametrize("cls,method", [
    ("DuplexChannelFactory", "create_immutable_server"), ("DuplexChannelFactory", "create_client"),
    ("DuplexClient", "send_request"), ("DuplexClient", "acquire_request_buffer"),
    ("DuplexClient", "receive_response"), ("DuplexClient", "release_response"),
    ("ImmutableDuplexServer", "start"), ("ImmutableDuplexServer", "add_error_handler"),
    ("ImmutableDuplexServer", "__init__"), ("DuplexClient", "__init__"), ("BufferConfig", "__init__"),
    ("ErrorEventArgs", "__init__"),
])
def test_python_level_signatures_start_like_the_peers(cls, method):
    ours, theirs = _params(getattr(getattr(zb, cls), method)), _params(getattr(getattr(peer, cls), method))
    assert ours[:len(theirs)] == theirs, (ours, theirs)


def test_native_methods_take_the_peers_keyword_arguments(name):
    n = name()
    with zb.Reader(name=n, config=zb.BufferConfig(metadata_size=64, payload_size=4096)) as r:
        with zb.Writer(name=n) as w:
            w.write_frame(data=b"x")
            assert r.read_frame(timeout=1.0).sequence == 1
            assert r.is_writer_connected(timeout_ms=10)
            buf = w.get_frame_buffer(size=1)
            buf[:] = b"y"
            w.commit_frame()
            r.release_frame(frame=r.read_frame(timeout=1.0))
            w.set_metadata(data=b"m")


def test_stubs_cover_the_extension_module():
    stub = pathlib.Path(zb.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    declared = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    declared |= {t.id for node in tree.body if isinstance(node, ast.AnnAssign) for t in [node.target]}
    actual = {n for n in dir(zb._native) if not n.startswith("__")}
    assert actual == declared
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = {b.name for b in node.body if isinstance(b, ast.FunctionDef)}
            real = {m for m in dir(getattr(zb._native, node.name)) if not m.startswith("__")}
            assert real <= members, f"{node.name}: {sorted(real - members)} missing from the stub"
    assert pathlib.Path(zb.__file__).with_name("py.typed").exists()


def test_topics_place_is_reserved():
    from zerobuffer_native import topics
    with pytest.raises(NotImplementedError):
        topics.Publisher("x")
    with pytest.raises(NotImplementedError):
        topics.Subscriber("x")
