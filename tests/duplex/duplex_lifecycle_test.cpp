// Duplex channel: volume, sizes, restarts, crashes, handler failures, stop latency, cleanup.
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// 10,000 echo round trips between two processes, sizes 1..4096, every byte checked.
TEST(DuplexVolume, TenThousandEchoRoundTripsAcrossProcesses) {
    NameScope names;
    const std::string ch = unique_name("echo10k");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    Latch ready, stop;
    Child server_process([&] {
        ImmutableDuplexServer server(ch, server_config(256 * 1024));
        server.start(echo_handler());
        ready.signal();
        stop.wait(30s);
        server.stop();
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options(256 * 1024));
    const auto t0 = Clock::now();
    int bad = 0;
    for (int i = 0; i < 10000; ++i) {
        const std::size_t size = 1 + static_cast<std::size_t>(i * 37) % 4096;
        auto buffer = client.acquire_request_buffer(size);
        for (std::size_t k = 0; k < size; ++k) buffer[k] = static_cast<std::byte>((k + i) & 0xFF);
        client.commit_request();
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r) << "round trip " << i;
        if (r.size() != size || !matches_pattern(r.data().data(), size, static_cast<std::uint64_t>(i))) ++bad;
    }
    const double ms = ms_since(t0);
    std::printf("[ info ] 10000 round trips in %.0f ms (%.1f us each)\n", ms, ms * 1000.0 / 10000);
    EXPECT_EQ(bad, 0);
    client.close();
    stop.signal();
    EXPECT_EQ(server_process.wait(10s), 0);
    names.expect_clean();
}

// Payloads from 1 byte to 16 MiB in both directions, including the sizes around the frame
// header and block alignment.
TEST(DuplexVolume, PayloadsFromOneByteTo16MiB) {
    NameScope names;
    const std::string ch = unique_name("sizes");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    constexpr std::size_t kRing = 32 * 1024 * 1024 + 4096;
    ImmutableDuplexServer server(ch, server_config(kRing));
    server.start(echo_handler());
    DuplexClient client(ch, client_options(kRing));
    const std::size_t sizes[] = {1, 2, 15, 16, 17, 63, 64, 65, 127, 1000, 4095, 4096, 4097, 65536, 1 << 20,
                                 (4 << 20) + 3, 16 << 20};
    std::uint64_t seed = 0;
    for (const std::size_t size : sizes) {
        const auto data = pattern(size, ++seed);
        client.send_request(data);
        auto r = client.receive_response(10s);
        ASSERT_TRUE(r) << size;
        ASSERT_EQ(r.size(), size);
        EXPECT_TRUE(matches_pattern(r.data().data(), size, seed)) << "size " << size;
    }
}

// The server is stopped and a new one started while a client stays connected and idle: the
// client's next send reconnects by itself (nothing was pending), and the new server's on_init
// gets the client's metadata again.
TEST(DuplexRestart, ServerRestartUnderLiveClient) {
    NameScope names;
    const std::string ch = unique_name("srvrestart");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    std::atomic<int> inits{0};
    // Guarded by a mutex: the order between this thread and the server thread goes through
    // shared memory mapped twice in this process, which ThreadSanitizer cannot relate.
    std::mutex seen_mutex;
    std::string seen_metadata;
    auto seen = [&] {
        std::lock_guard lock(seen_mutex);
        return seen_metadata;
    };
    auto on_init = [&](std::span<const std::byte> metadata) {
        std::lock_guard lock(seen_mutex);
        seen_metadata = text_of(metadata);
        ++inits;
    };
    std::optional<ImmutableDuplexServer> server(std::in_place, ch, server_config());
    server->start(echo_handler(), on_init);
    auto options = client_options();
    options.metadata.assign(bytes_of("client-meta").begin(), bytes_of("client-meta").end());
    DuplexClient client(ch, options);
    client.send_request(bytes_of("one"));
    ASSERT_TRUE(client.receive_response(2s));
    EXPECT_EQ(inits.load(), 1);
    EXPECT_EQ(seen(), "client-meta");

    server.reset();
    EXPECT_FALSE(client.is_server_connected());
    server.emplace(ch, server_config());
    server->start(echo_handler(), on_init);
    {
        std::lock_guard lock(seen_mutex);
        seen_metadata.clear();
    }
    client.send_request(bytes_of("two"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "two");
    EXPECT_EQ(client.reconnects(), 1u);
    EXPECT_EQ(inits.load(), 2);
    EXPECT_EQ(seen(), "client-meta");
    EXPECT_TRUE(client.is_server_connected());
}

// A server process is SIGKILLed while the client is idle; the client notices within 250 ms
// (is_server_connected), and its next send goes to the replacement server.
TEST(DuplexRestart, ServerKilledAndReplacedUnderLiveClient) {
    NameScope names;
    const std::string ch = unique_name("srvkill");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    Latch ready, stop;
    Child first([&] {
        ImmutableDuplexServer server(ch, server_config());
        server.start(echo_handler());
        ready.signal();
        stop.wait(30s);
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("before"));
    ASSERT_TRUE(client.receive_response(2s));
    const auto killed_at = Clock::now();
    first.kill_hard();
    ASSERT_TRUE(eventually([&] { return !client.is_server_connected(); }, 2s));
    const double ms = ms_since(killed_at);
    std::printf("[ info ] idle client saw the server's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);

    ImmutableDuplexServer second(ch, server_config());  // reclaims the killed server's buffer
    second.start(echo_handler());
    client.send_request(bytes_of("after"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "after");
    EXPECT_EQ(client.reconnects(), 1u);
    EXPECT_EQ(first.wait(5s), 128 + SIGKILL);
}

// A server process is SIGKILLed while the client waits for a response: receive_response throws
// within 250 ms of the kill. The next send waits for (and finds) a new server.
TEST(DuplexRestart, ServerSigkillDetectedByWaitingClientWithin250ms) {
    NameScope names;
    const std::string ch = unique_name("srvkill2");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    Latch ready, stop, handling;
    Child server_process([&] {
        ImmutableDuplexServer server(ch, server_config());
        server.start_with_writer([&](const Frame&, Writer&) {
            handling.signal();
            std::this_thread::sleep_for(30s);
        });
        ready.signal();
        stop.wait(30s);
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("hang"));
    ASSERT_TRUE(handling.wait(5s));
    std::atomic<bool> killed{false};
    Clock::time_point killed_at;
    std::thread killer([&] {
        std::this_thread::sleep_for(100ms);
        killed_at = Clock::now();
        killed = true;
        server_process.kill_hard();
    });
    bool threw = false;
    try {
        (void)client.receive_response(5s);
    } catch (const WriterDeadException&) {
        threw = true;
    }
    const auto detected_at = Clock::now();
    killer.join();
    ASSERT_TRUE(threw);
    ASSERT_TRUE(killed.load());
    const double ms = std::chrono::duration<double, std::milli>(detected_at - killed_at).count();
    std::printf("[ info ] waiting client detected the server's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);
    EXPECT_EQ(server_process.wait(5s), 128 + SIGKILL);

    // The next send reconnects to a new server (started a little later: the client waits).
    std::thread starter([&] {
        std::this_thread::sleep_for(100ms);
        ImmutableDuplexServer replacement(ch, server_config());
        replacement.start(echo_handler());
        std::this_thread::sleep_for(1500ms);
    });
    client.send_request(bytes_of("again"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "again");
    r.release();
    starter.join();
    client.close();
    names.expect_clean();
}

// Client processes come and go under one live server: a graceful exit, then a SIGKILL. The
// server reports each (client_disconnected, client_died within 250 ms), removes the killed
// client's response buffer, and serves the next client, which starts from a clean channel.
TEST(DuplexRestart, ClientRestartUnderLiveServer) {
    NameScope names;
    const std::string ch = unique_name("clirestart");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::vector<std::string> metadata_seen;
    std::mutex meta_mutex;
    server.start(echo_handler(), [&](std::span<const std::byte> m) {
        std::lock_guard lock(meta_mutex);
        metadata_seen.push_back(text_of(m));
    });

    auto run_client = [&](const std::string& meta, int requests, bool hang) {
        return Child([=] {
            auto o = client_options();
            o.metadata.assign(bytes_of(meta).begin(), bytes_of(meta).end());
            DuplexClient client(ch, o);
            for (int i = 0; i < requests; ++i) {
                client.send_request(bytes_of(meta + std::to_string(i)));
                auto r = client.receive_response(5s);
                if (!r || text_of(r) != meta + std::to_string(i)) return 1;
            }
            if (hang) std::this_thread::sleep_for(30s);
            return 0;
        });
    };

    Child graceful = run_client("first", 5, false);
    EXPECT_EQ(graceful.wait(10s), 0);
    ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();

    Child doomed = run_client("second", 3, true);
    ASSERT_TRUE(eventually([&] { return server.requests_handled() == 8; }, 5s));
    const auto killed_at = Clock::now();
    doomed.kill_hard();
    auto died = log.wait_for(DuplexErrorKind::client_died, 2s);
    ASSERT_TRUE(died) << log.dump();
    const double ms = std::chrono::duration<double, std::milli>(died->when - killed_at).count();
    std::printf("[ info ] server reported the client's SIGKILL after %.1f ms\n", ms);
    EXPECT_LT(ms, 250.0);
    EXPECT_EQ(died->error.request, 3u);
    // The killed client's CH_response was reclaimed by the server.
    for (const auto& path : object_paths(response_buffer_name(ch))) {
        EXPECT_FALSE(std::filesystem::exists(path)) << "left behind: " << path;
    }

    Child third = run_client("third", 4, false);
    EXPECT_EQ(third.wait(10s), 0);
    EXPECT_EQ(doomed.wait(5s), 128 + SIGKILL);
    ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();
    EXPECT_EQ(server.clients_served(), 3u);
    EXPECT_EQ(server.requests_handled(), 12u);
    {
        std::lock_guard lock(meta_mutex);
        EXPECT_EQ(metadata_seen, (std::vector<std::string>{"first", "second", "third"}));
    }
    EXPECT_TRUE(server.is_running());
    server.stop();
    names.expect_clean();
}

// The same process closes its client and opens a new one on a live server.
TEST(DuplexRestart, ClientReopenedInSameProcess) {
    NameScope names;
    const std::string ch = unique_name("reopen");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    server.start(echo_handler());
    for (int round = 0; round < 3; ++round) {
        DuplexClient client(ch, client_options());
        for (int i = 0; i < 3; ++i) {
            client.send_request(bytes_of("round" + std::to_string(round) + "." + std::to_string(i)));
            auto r = client.receive_response(2s);
            ASSERT_TRUE(r);
            EXPECT_EQ(text_of(r), "round" + std::to_string(round) + "." + std::to_string(i));
        }
        client.close();
        ASSERT_TRUE(log.wait_for(DuplexErrorKind::client_disconnected, 2s)) << log.dump();
    }
    EXPECT_EQ(server.clients_served(), 3u);
    EXPECT_EQ(log.count(DuplexErrorKind::protocol_error), 0u) << log.dump();
}

// A handler that throws before writing breaks the one-response rule: the error is reported,
// the client receives every earlier response and then WriterDead for the failed request, and
// its next send reconnects. The server keeps running.
TEST(DuplexHandlerFailure, ThrowingHandlerIsReportedAndClientResynchronises) {
    NameScope names;
    const std::string ch = unique_name("throws");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    server.start_with_writer([](const Frame& request, Writer& response) {
        if (text_of(request) == "boom") throw std::runtime_error("handler exploded");
        response.write_frame(request.data());
    });
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("a"));
    client.send_request(bytes_of("boom"));

    auto failed = log.wait_for(DuplexErrorKind::handler_failed);
    ASSERT_TRUE(failed) << log.dump();
    EXPECT_EQ(failed->error.request, 2u);
    EXPECT_NE(failed->error.message.find("handler exploded"), std::string::npos) << failed->error.message;
    ASSERT_TRUE(failed->error.exception);
    EXPECT_THROW(std::rethrow_exception(failed->error.exception), std::runtime_error);
    auto missing = log.wait_for(DuplexErrorKind::response_missing);
    ASSERT_TRUE(missing) << log.dump();
    EXPECT_EQ(missing->error.request, 2u);

    // Sending while two requests are unanswered on a dropped connection: refused, nothing sent.
    std::string what;
    try {
        client.send_request(bytes_of("c"));
    } catch (const ReaderDeadException& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("2 request(s) still unanswered"), std::string::npos) << what;
    // The response written before the failure is still delivered, then the stream ends.
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "a");
    r.release();
    what.clear();
    try {
        (void)client.receive_response(2s);
    } catch (const WriterDeadException& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("1 request(s) remain unanswered"), std::string::npos) << what;
    // Never a mismatched response: the next request gets its own answer.
    client.send_request(bytes_of("d"));
    auto d = client.receive_response(2s);
    ASSERT_TRUE(d);
    EXPECT_EQ(text_of(d), "d");
    EXPECT_TRUE(server.is_running());
    EXPECT_EQ(client.reconnects(), 1u);
}

// A handler that throws after writing its one response keeps the connection: only reported.
TEST(DuplexHandlerFailure, ThrowAfterRespondingKeepsTheConnection) {
    NameScope names;
    const std::string ch = unique_name("throwlate");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    server.start_with_writer([](const Frame& request, Writer& response) {
        response.write_frame(request.data());
        if (text_of(request) == "late") throw std::logic_error("after the response");
    });
    DuplexClient client(ch, client_options());
    for (const char* s : {"x", "late", "y"}) {
        client.send_request(bytes_of(s));
        auto r = client.receive_response(2s);
        ASSERT_TRUE(r) << s;
        EXPECT_EQ(text_of(r), s);
    }
    EXPECT_EQ(log.count(DuplexErrorKind::handler_failed), 1u) << log.dump();
    EXPECT_EQ(log.count(DuplexErrorKind::response_missing), 0u) << log.dump();
    EXPECT_EQ(client.reconnects(), 0u);
}

// No response, or two responses, break the FIFO pairing: reported and the client is
// disconnected. With ResponsePolicy::unchecked the server sends whatever the handler wrote.
TEST(DuplexHandlerFailure, MissingAndExtraResponses) {
    NameScope names;
    const std::string ch = unique_name("policy");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    auto handler = [](const Frame& request, Writer& response) {
        const std::string s = text_of(request);
        if (s == "none") return;
        response.write_frame(request.data());
        if (s == "two") response.write_frame(request.data());
    };
    {
        ImmutableDuplexServer server(ch, server_config(), server_options(log));
        server.start_with_writer(handler);
        DuplexClient client(ch, client_options());
        client.send_request(bytes_of("none"));
        EXPECT_THROW((void)client.receive_response(2s), WriterDeadException);
        ASSERT_TRUE(log.wait_for(DuplexErrorKind::response_missing)) << log.dump();
        client.send_request(bytes_of("two"));
        auto first = client.receive_response(2s);
        ASSERT_TRUE(first);
        EXPECT_EQ(text_of(first), "two");
        ASSERT_TRUE(log.wait_for(DuplexErrorKind::too_many_responses)) << log.dump();
        // The extra frame is in the ring, but the connection has ended: the next send starts a
        // fresh connection, so the extra can never be taken for the answer to "ok".
        client.send_request(bytes_of("ok"));
        auto ok = client.receive_response(2s);
        ASSERT_TRUE(ok);
        EXPECT_EQ(text_of(ok), "ok");
    }
    {
        auto options = server_options(log);
        options.response_policy = ResponsePolicy::unchecked;
        ImmutableDuplexServer server(ch, server_config(), options);
        server.start_with_writer(handler);
        DuplexClient client(ch, client_options());
        client.send_request(bytes_of("two"));
        for (int i = 0; i < 2; ++i) {
            auto r = client.receive_response(2s);
            ASSERT_TRUE(r);
            EXPECT_EQ(text_of(r), "two");
        }
        client.send_request(bytes_of("none"));
        EXPECT_FALSE(client.receive_response(100ms));
        EXPECT_TRUE(client.is_server_connected());
        EXPECT_EQ(log.count(DuplexErrorKind::too_many_responses), 1u) << log.dump();
        EXPECT_EQ(log.count(DuplexErrorKind::response_missing), 1u) << log.dump();
    }
    names.expect_clean();
}

// on_init runs once per client connection with the client's metadata; an exception from it is
// reported and serving goes on.
TEST(DuplexInit, OnInitGetsMetadataOnceAndMayThrow) {
    NameScope names;
    const std::string ch = unique_name("oninit");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::vector<std::string> seen;
    server.start(echo_handler(), [&](std::span<const std::byte> m) {
        seen.push_back(text_of(m));
        if (text_of(m) == "bad") throw std::runtime_error("init refused");
    });
    {
        DuplexClient client(ch, client_options());
        client.set_metadata(bytes_of("hello-meta"));
        EXPECT_THROW(client.set_metadata(bytes_of("again")), MetadataAlreadyWrittenException);
        for (int i = 0; i < 3; ++i) {
            client.send_request(bytes_of("x"));
            ASSERT_TRUE(client.receive_response(2s));
        }
    }
    {
        DuplexClient client(ch, client_options());
        client.set_metadata(bytes_of("bad"));
        client.send_request(bytes_of("y"));
        auto r = client.receive_response(2s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "y");
    }
    {
        DuplexClient client(ch, client_options());  // no metadata: on_init gets an empty span
        client.send_request(bytes_of("z"));
        ASSERT_TRUE(client.receive_response(2s));
    }
    server.stop();
    EXPECT_EQ(seen, (std::vector<std::string>{"hello-meta", "bad", ""}));
    EXPECT_EQ(log.count(DuplexErrorKind::init_failed), 1u) << log.dump();
}

// stop() returns within the 100 ms target (idle server, with and without a client) and leaves
// nothing of the server behind.
TEST(DuplexStop, StopLatencyAndCleanup) {
    NameScope names;
    const std::string ch = unique_name("stoplat");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    double worst = 0;
    for (const ProcessingMode mode : {ProcessingMode::single_thread, ProcessingMode::thread_pool}) {
        for (const bool with_client : {false, true}) {
            ImmutableDuplexServer server(ch, server_config());
            server.start([](const Frame& request, ResponseWriter& response) { response.write_frame(request.data()); },
                         {}, mode);
            std::optional<DuplexClient> client;
            if (with_client) {
                client.emplace(ch, client_options());
                client->send_request(bytes_of("x"));
                ASSERT_TRUE(client->receive_response(2s));
            }
            std::this_thread::sleep_for(30ms);  // let the server settle into its idle wait
            const auto t0 = Clock::now();
            server.stop();
            const double ms = ms_since(t0);
            worst = std::max(worst, ms);
            std::printf("[ info ] stop() took %.2f ms (%s, %s)\n", ms,
                        mode == ProcessingMode::single_thread ? "single_thread" : "thread_pool",
                        with_client ? "client connected" : "no client");
            EXPECT_FALSE(server.is_running());
            for (const auto& path : object_paths(request_buffer_name(ch))) {
                EXPECT_FALSE(std::filesystem::exists(path)) << "left behind: " << path;
            }
            if (client) {
                EXPECT_FALSE(client->is_server_connected());
                client->close();
            }
        }
    }
    // Target 100 ms; asserted with margin for a loaded 2-core machine.
    EXPECT_LT(worst, 100.0 + 150.0);
    names.expect_clean();
}

// Stop from inside a handler does not deadlock; the server stops after the handler returns.
TEST(DuplexStop, StopFromInsideHandler) {
    NameScope names;
    const std::string ch = unique_name("stopin");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start_with_writer([&](const Frame& request, Writer& response) {
        response.write_frame(request.data());
        server.stop();
    });
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("last"));
    auto r = client.receive_response(2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "last");
    EXPECT_TRUE(eventually([&] { return !server.is_running(); }, 2s));
    server.stop();  // joins
    client.close();
    names.expect_clean();
}

}  // namespace
}  // namespace zerobuffer::test::duplex
