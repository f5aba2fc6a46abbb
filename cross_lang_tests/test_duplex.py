"""Duplex channels across languages (contract section 7): an echo server of one language, a
client of the other, 1,000 requests of mixed sizes; every response must equal its request, in
order (correlation is FIFO only)."""

import pytest

from xl import NATIVE_AVAILABLE, assert_clean, check

SIZES = "mixed:1:4096:77"
REQUESTS = 1000


def test_cpp_server_python_client(zb):
    ch = zb.channel("dx")
    server = zb.spawn("cpp", "duplex-server",
                      [ch, "-n", REQUESTS, "--sizes", SIZES, "--verify", "sequential", "--metadata-size", 1024,
                       "--payload-size", "1M", "--max-ms", 90000], label="cpp-server").wait_ready()
    client = zb.run("py", "duplex-client", [ch, "-n", REQUESTS, "--sizes", SIZES, "--timeout-ms", 10000],
                    timeout=120, label="py-client")
    assert_clean(client, requests_sent=REQUESTS, responses_received=REQUESTS)
    res = server.result(60)
    # The Python client has no metadata API: our on_init runs once, with empty metadata.
    assert_clean(res, requests_handled=REQUESTS, requests_checked=REQUESTS, clients_served=1, init_calls=1,
                 init_metadata_size=0)


def test_python_server_cpp_client(zb):
    ch = zb.channel("dx")
    server = zb.spawn("py", "duplex-server",
                      [ch, "-n", REQUESTS, "--sizes", SIZES, "--verify", "sequential", "--metadata-size", 1024,
                       "--payload-size", "1M", "--metadata-bytes", 200, "--max-ms", 90000],
                      label="py-server").wait_ready()
    client = zb.run("cpp", "duplex-client", [ch, "-n", REQUESTS, "--sizes", SIZES, "--timeout-ms", 10000,
                                             "--metadata-bytes", 200, "--response-payload-size", "1M"],
                    timeout=120, label="cpp-client")
    assert_clean(client, requests_sent=REQUESTS, responses_received=REQUESTS)
    res = server.result(60)
    # Our client's metadata reaches the Python server's on_init (after the first request). The
    # Python server stops by itself once our client has left (WriterDead on its request reader).
    assert_clean(res, requests_handled=REQUESTS, init_calls=1, init_metadata_size=200, stopped_by_itself=True)
    check(res, res["client_disconnects"] == 1, "the client's departure should reach the error handler once")


def test_cpp_server_in_pool_mode_python_client(zb):
    """Our server in ThreadPool mode still answers a Python client strictly in request order."""
    ch = zb.channel("dxp")
    server = zb.spawn("cpp", "duplex-server",
                      [ch, "-n", 300, "--sizes", SIZES, "--verify", "sequential", "--mode", "pool",
                       "--metadata-size", 1024, "--payload-size", "1M", "--max-ms", 90000],
                      label="cpp-server").wait_ready()
    client = zb.run("py", "duplex-client", [ch, "-n", 300, "--sizes", SIZES, "--timeout-ms", 10000],
                    timeout=120, label="py-client")
    assert_clean(client, responses_received=300)
    assert_clean(server.result(60), requests_handled=300)


# ---------------------------------------------------------------------------------------------
# zerobuffer_native (through pypeer.py, imported as zerobuffer) against both other peers
# ---------------------------------------------------------------------------------------------
NATIVE_PAIRS = [("native", "py"), ("py", "native"), ("native", "cpp"), ("cpp", "native")]


@pytest.mark.skipif(not NATIVE_AVAILABLE, reason="zerobuffer_native is not installed in this venv")
@pytest.mark.parametrize("server_lang,client_lang", NATIVE_PAIRS,
                         ids=[f"{s}_server-{c}_client" for s, c in NATIVE_PAIRS])
def test_native_duplex_echo(zb, server_lang, client_lang):
    ch = zb.channel("dxn")
    server_args = [ch, "-n", REQUESTS, "--sizes", SIZES, "--verify", "sequential", "--metadata-size", 1024,
                   "--payload-size", "1M", "--max-ms", 90000]
    client_args = [ch, "-n", REQUESTS, "--sizes", SIZES, "--timeout-ms", 10000]
    if client_lang == "cpp":  # only our C++ client has a metadata option and a response-size option
        server_args += ["--metadata-bytes", 200]
        client_args += ["--metadata-bytes", 200, "--response-payload-size", "1M"]
    server = zb.spawn(server_lang, "duplex-server", server_args, label=f"{server_lang}-server").wait_ready()
    client = zb.run(client_lang, "duplex-client", client_args, timeout=120, label=f"{client_lang}-client")
    assert_clean(client, requests_sent=REQUESTS, responses_received=REQUESTS)
    res = server.result(60)
    assert_clean(res, requests_handled=REQUESTS)
    if server_lang == "native":
        # Our server serves the next client instead of stopping; the departure reached the error handler.
        check(res, res["package"] == "zerobuffer_native", "pypeer.py must have run zerobuffer_native")
        assert_clean(res, stopped_by_itself=False, client_disconnects=1,
                     init_calls=1 if client_lang == "cpp" else 0)
    elif server_lang == "py":
        assert_clean(res, stopped_by_itself=True, client_disconnects=1, init_calls=0)
    else:
        assert_clean(res, clients_served=1, requests_checked=REQUESTS)
    if client_lang == "native":
        check(client, client["package"] == "zerobuffer_native", "pypeer.py must have run zerobuffer_native")


@pytest.mark.skipif(not NATIVE_AVAILABLE, reason="zerobuffer_native is not installed in this venv")
def test_cpp_server_in_pool_mode_native_client(zb):
    ch = zb.channel("dxpn")
    server = zb.spawn("cpp", "duplex-server",
                      [ch, "-n", 300, "--sizes", SIZES, "--verify", "sequential", "--mode", "pool",
                       "--metadata-size", 1024, "--payload-size", "1M", "--max-ms", 90000],
                      label="cpp-server").wait_ready()
    client = zb.run("native", "duplex-client", [ch, "-n", 300, "--sizes", SIZES, "--timeout-ms", 10000],
                    timeout=120, label="native-client")
    assert_clean(client, responses_received=300)
    assert_clean(server.result(60), requests_handled=300)
