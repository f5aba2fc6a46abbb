// Feature 13 of the acceptance catalogue (scenarios.md §1.13): one test per scenario, 13.1-13.10.
// Where upstream's expectation is weak or inconsistent, the test asserts what a user would
// expect and says so.
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "allocation_counter.h"
#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// Runs an echo server (metadata 4096, payload 1 MiB) for channel `ch` in a forked child until
// the parent signals `stop`. Exit code 0 after a clean stop.
Child spawn_echo_server(const std::string& ch, Latch& ready, Latch& stop, WriterHandler handler = writer_echo_handler(),
                        BufferConfig config = server_config()) {
    return Child([=, &ready, &stop] {
        ImmutableDuplexServer server(ch, config);
        server.start_with_writer(handler);
        ready.signal();
        stop.wait(20s);
        server.stop();
        return server.is_running() ? 1 : 0;
    });
}

std::uint64_t now_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// 13.1 Basic request-response, server and client in separate processes. The client uses
// acquire/commit and puts a microsecond timestamp in the first 8 bytes, as upstream's does.
TEST(Feature13, S13_1_BasicRequestResponse) {
    NameScope names;
    const std::string ch = unique_name("duplex-basic");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    Latch ready, stop;
    Child server = spawn_echo_server(ch, ready, stop);
    ASSERT_TRUE(ready.wait(10s));

    DuplexClient client(ch, client_options());
    for (const std::size_t size : {std::size_t{1}, std::size_t{1024}, std::size_t{102400}}) {
        auto buffer = client.acquire_request_buffer(size);
        const auto expected = pattern(size, size);
        std::memcpy(buffer.data(), expected.data(), size);
        if (size >= 8) {
            const std::uint64_t stamp = now_us();
            std::memcpy(buffer.data(), &stamp, sizeof stamp);
        }
        std::vector<std::byte> sent(buffer.begin(), buffer.end());
        client.commit_request();
        auto response = client.receive_response(5s);
        ASSERT_TRUE(response) << "size " << size;
        ASSERT_EQ(response.size(), size);
        EXPECT_EQ(std::memcmp(response.data().data(), sent.data(), size), 0) << "size " << size;
        if (size >= 8) {
            std::uint64_t stamp = 0;
            std::memcpy(&stamp, response.data().data(), sizeof stamp);
            EXPECT_LE(stamp, now_us());
        }
    }
    client.close();
    stop.signal();
    EXPECT_EQ(server.wait(10s), 0);
    names.expect_clean();
}

// 13.2 Order preservation: 10 requests "Request i" sent back to back, 10 responses in order,
// none lost or duplicated.
TEST(Feature13, S13_2_OrderPreservation) {
    NameScope names;
    const std::string ch = unique_name("duplex-order");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    DuplexClient client(ch, client_options());
    for (int i = 0; i < 10; ++i) client.send_request(bytes_of("Request " + std::to_string(i)));
    EXPECT_EQ(client.pending_responses(), 10u);
    for (int i = 0; i < 10; ++i) {
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(text_of(r), "Request " + std::to_string(i));
    }
    EXPECT_EQ(client.pending_responses(), 0u);
    EXPECT_FALSE(client.receive_response(50ms)) << "an 11th response appeared";
}

// 13.3 "Concurrent" client operations: 20 requests from one thread, exactly 20 matching
// responses (v1 clients need external locking for several threads; see docs/duplex.md).
TEST(Feature13, S13_3_TwentyRequestsTwentyResponses) {
    NameScope names;
    const std::string ch = unique_name("duplex-twenty");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    DuplexClient client(ch, client_options());
    for (int i = 0; i < 20; ++i) {
        const auto data = pattern(100 + i, i);
        client.send_request(data);
    }
    int matched = 0;
    for (int i = 0; i < 20; ++i) {
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r);
        if (r.size() == 100u + i && matches_pattern(r.data().data(), r.size(), i)) ++matched;
    }
    EXPECT_EQ(matched, 20);
    EXPECT_FALSE(client.receive_response(30ms));
    EXPECT_EQ(server.requests_handled(), 20u);
}

// 13.4 single_thread mode: handler sleeps 100 ms, 3 sequential requests take >= 300 ms and the
// responses come in order.
TEST(Feature13, S13_4_SingleThreadProcessingMode) {
    NameScope names;
    const std::string ch = unique_name("duplex-single");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    std::atomic<int> concurrent{0}, max_concurrent{0};
    server.start(
        [&](const Frame& request, ResponseWriter& response) {
            const int now = ++concurrent;
            max_concurrent = std::max(max_concurrent.load(), now);
            std::this_thread::sleep_for(100ms);
            --concurrent;
            response.write_frame(request.data());
        },
        {}, ProcessingMode::single_thread);
    DuplexClient client(ch, client_options());
    const auto t0 = Clock::now();
    for (int i = 0; i < 3; ++i) client.send_request(bytes_of("req" + std::to_string(i)));
    for (int i = 0; i < 3; ++i) {
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "req" + std::to_string(i));
    }
    EXPECT_GE(ms_since(t0), 295.0);
    EXPECT_EQ(max_concurrent.load(), 1);
}

// 13.5 Server death during processing: the handler crashes 100 ms into a 1024-byte request;
// the client, waiting with a 5 s timeout, detects it and throws (well before 5 s).
TEST(Feature13, S13_5_ServerDeathDuringProcessing) {
    NameScope names;
    const std::string ch = unique_name("duplex-srvdeath");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    Latch ready, stop;
    Child server = spawn_echo_server(ch, ready, stop, [](const Frame& request, Writer& response) {
        if (request.size() == 1024) {
            std::this_thread::sleep_for(100ms);
            ::raise(SIGKILL);
        }
        response.write_frame(request.data());
    });
    ASSERT_TRUE(ready.wait(10s));
    DuplexClient client(ch, client_options());
    client.send_request(bytes_of("warm-up"));
    ASSERT_TRUE(client.receive_response(5s));

    const auto t0 = Clock::now();
    client.send_request(pattern(1024, 0));
    std::string what;
    try {
        (void)client.receive_response(5s);
        ADD_FAILURE() << "receive_response returned instead of throwing";
    } catch (const WriterDeadException& e) {
        what = e.what();
    }
    const double ms = ms_since(t0);
    std::printf("[ info ] server crash detected by the waiting client %.1f ms after the request (crash at ~100 ms)\n", ms);
    EXPECT_GE(ms, 95.0);
    EXPECT_LT(ms, 100.0 + 250.0);
    EXPECT_NE(what.find(ch), std::string::npos) << what;
    EXPECT_NE(what.find("1 request(s) remain unanswered"), std::string::npos) << what;
    EXPECT_EQ(server.wait(5s), 128 + SIGKILL);
    EXPECT_FALSE(client.is_server_connected());
    client.close();
    // The client removed the killed server's request buffer too.
    names.expect_clean();
}

// 13.6 Buffer full on the response channel: the handler answers with twice the request size;
// the client sends two 4096-byte requests and does not read. The second 8192-byte response
// cannot fit the client's 10240-byte response ring, so the server blocks, and it unblocks as
// soon as the client reads one response.
TEST(Feature13, S13_6_BufferFullOnResponseChannel) {
    NameScope names;
    const std::string ch = unique_name("duplex-full");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(10240, 1024), server_options(log));
    std::atomic<int> handlers_done{0};
    std::atomic<bool> in_second{false};
    std::atomic<double> second_write_ms{0};
    server.start_with_writer([&](const Frame& request, Writer& response) {
        std::vector<std::byte> doubled(request.size() * 2);
        std::memcpy(doubled.data(), request.data().data(), request.size());
        std::memcpy(doubled.data() + request.size(), request.data().data(), request.size());
        const bool second = handlers_done.load() == 1;
        if (second) in_second = true;
        const auto t = Clock::now();
        response.write_frame(doubled);
        if (second) second_write_ms = ms_since(t);
        in_second = false;
        ++handlers_done;
    });
    DuplexClient client(ch, client_options(10240));
    client.send_request(pattern(4096, 1));
    client.send_request(pattern(4096, 2));
    ASSERT_TRUE(eventually([&] { return in_second.load(); }, 2s));
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(in_second.load()) << "the server did not block on the full response ring";
    EXPECT_EQ(handlers_done.load(), 1);

    auto first = client.receive_response(2s);
    ASSERT_TRUE(first);
    ASSERT_EQ(first.size(), 8192u);
    EXPECT_TRUE(matches_pattern(first.data().data(), 4096, 1));
    first.release();  // frees the room
    auto second = client.receive_response(2s);
    ASSERT_TRUE(second);
    ASSERT_EQ(second.size(), 8192u);
    EXPECT_TRUE(matches_pattern(second.data().data() + 4096, 4096, 2));
    // The handler finishes right after its write returned (the client may be faster).
    EXPECT_TRUE(eventually([&] { return handlers_done.load() == 2; }, 2s));
    EXPECT_GE(second_write_ms.load(), 250.0);
    EXPECT_EQ(log.size(), 0u) << log.dump();
}

// 13.7 Zero-copy client: acquire a 4096-byte request buffer, fill a pattern, commit; the echo
// carries the pattern. The send path (acquire + fill + commit) makes no heap allocation.
TEST(Feature13, S13_7_ZeroCopyClient) {
    NameScope names;
    const std::string ch = unique_name("duplex-zerocopy");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start(echo_handler());
    DuplexClient client(ch, client_options());
    // Rounds 0-2: acquire_request_buffer + commit_request; rounds 3-5: the RAII RequestReservation.
    for (int round = 0; round < 6; ++round) {
        std::size_t allocations = 0;
        {
            zerobuffer::test::AllocationCounter counter;
            if (round < 3) {
                auto buffer = client.acquire_request_buffer(4096);
                for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<std::byte>((i * 7 + round) & 0xFF);
                (void)client.commit_request();
            } else {
                RequestReservation request = client.acquire_request(4096);
                const auto buffer = request.data();
                for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<std::byte>((i * 7 + round) & 0xFF);
                (void)request.commit();
            }
            allocations = counter.count();
        }
        EXPECT_EQ(allocations, 0u) << "round " << round;
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r);
        ASSERT_EQ(r.size(), 4096u);
        bool same = true;
        for (std::size_t i = 0; i < r.size(); ++i) same &= r.data()[i] == static_cast<std::byte>((i * 7 + round) & 0xFF);
        EXPECT_TRUE(same) << "round " << round;
    }
}

// 13.8 Immutable server handler: the request frame is read-only; the handler returns new data
// (here XOR 0xFF of a 10240-byte pattern).
TEST(Feature13, S13_8_ImmutableHandlerTransforms) {
    NameScope names;
    const std::string ch = unique_name("duplex-xor");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ImmutableDuplexServer server(ch, server_config());
    server.start_with_writer([](const Frame& request, Writer& response) {
        auto out = response.get_frame_buffer(request.size());
        for (std::size_t i = 0; i < request.size(); ++i) out[i] = request.data()[i] ^ std::byte{0xFF};
        response.commit_frame();
    });
    DuplexClient client(ch, client_options());
    const auto data = pattern(10240, 5);
    client.send_request(data);
    auto r = client.receive_response(5s);
    ASSERT_TRUE(r);
    ASSERT_EQ(r.size(), 10240u);
    for (std::size_t i = 0; i < r.size(); ++i) {
        ASSERT_EQ(r.data()[i], data[i] ^ std::byte{0xFF}) << "byte " << i;
    }
}

// 13.9 Client death during the response wait: the handler takes 600 ms (upstream: 2 s), the
// client is killed 200 ms in (upstream: 1 s). The server finishes the handler, detects the
// client's death, reports it, and serves the next client.
TEST(Feature13, S13_9_ClientDeathDuringResponseWait) {
    NameScope names;
    const std::string ch = unique_name("duplex-clidie");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    ErrorLog log;
    ImmutableDuplexServer server(ch, server_config(), server_options(log));
    std::atomic<int> finished{0};
    std::atomic<Clock::rep> finished_at{0};
    server.start_with_writer([&](const Frame& request, Writer& response) {
        if (text_of(request) == "slow") std::this_thread::sleep_for(600ms);
        finished_at = Clock::now().time_since_epoch().count();
        ++finished;
        response.write_frame(request.data());  // throws ReaderDead if it sees the dead client first
    });
    Latch sent;
    Child client_process([&] {
        DuplexClient client(ch, client_options());
        client.send_request(bytes_of("slow"));
        sent.signal();
        (void)client.receive_response(10s);
        return 3;
    });
    ASSERT_TRUE(sent.wait(10s));
    std::this_thread::sleep_for(200ms);
    const auto killed_at = Clock::now();
    client_process.kill_hard();
    auto died = log.wait_for(DuplexErrorKind::client_died, 3s);
    ASSERT_TRUE(died) << log.dump();
    const double ms = std::chrono::duration<double, std::milli>(died->when - killed_at).count();
    std::printf("[ info ] client death reported %.1f ms after the kill (handler had ~400 ms left)\n", ms);
    ASSERT_GE(finished.load(), 1) << "the handler did not finish";
    EXPECT_GE(died->when.time_since_epoch().count(), finished_at.load()) << "reported before the handler finished";
    EXPECT_LT(ms, 400.0 + 250.0);
    EXPECT_EQ(died->error.client_pid, static_cast<std::uint64_t>(client_process.pid()));
    EXPECT_EQ(client_process.wait(5s), 128 + SIGKILL);

    // Goes on serving.
    EXPECT_TRUE(server.is_running());
    DuplexClient next(ch, client_options());
    next.send_request(bytes_of("next"));
    auto r = next.receive_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "next");
    EXPECT_EQ(server.clients_served(), 2u);
}

// 13.10 Channel cleanup on dispose: 5 requests sent, 3 received, the server is disposed while
// 2 are pending. Upstream expects an exception on the pending responses. Here the handler of
// request 4 is still running when stop() is called: stop waits for it, its response is
// delivered (a response already produced is never thrown away), request 5 is never handled,
// and receiving its response throws. All shared memory is removed and a new server can reuse
// the name; the same client then reconnects by itself.
TEST(Feature13, S13_10_ChannelCleanupOnDispose) {
    NameScope names;
    const std::string ch = unique_name("duplex-cleanup");
    names.adopt(request_buffer_name(ch));
    names.adopt(response_buffer_name(ch));
    std::optional<ImmutableDuplexServer> server;
    server.emplace(ch, server_config());
    std::atomic<bool> fourth_started{false};
    server->start_with_writer([&](const Frame& request, Writer& response) {
        if (text_of(request) == "r4") {
            fourth_started = true;
            std::this_thread::sleep_for(150ms);
        }
        response.write_frame(request.data());
    });
    DuplexClient client(ch, client_options());
    for (int i = 1; i <= 5; ++i) client.send_request(bytes_of("r" + std::to_string(i)));
    for (int i = 1; i <= 3; ++i) {
        auto r = client.receive_response(5s);
        ASSERT_TRUE(r);
        EXPECT_EQ(text_of(r), "r" + std::to_string(i));
    }
    ASSERT_TRUE(eventually([&] { return fourth_started.load(); }, 2s));
    const auto t0 = Clock::now();
    server.reset();  // dispose
    const double stop_ms = ms_since(t0);
    EXPECT_LT(stop_ms, 150.0 + 200.0);

    auto fourth = client.receive_response(2s);
    ASSERT_TRUE(fourth);
    EXPECT_EQ(text_of(fourth), "r4");
    fourth.release();
    EXPECT_THROW((void)client.receive_response(2s), WriterDeadException);
    EXPECT_FALSE(client.is_server_connected());
    for (const auto& path : object_paths(request_buffer_name(ch))) {
        EXPECT_FALSE(std::filesystem::exists(path)) << "left behind: " << path;
    }

    // A new server reuses the name; the client (nothing pending any more) reconnects on send.
    ImmutableDuplexServer again(ch, server_config());
    again.start(echo_handler());
    client.send_request(bytes_of("after"));
    auto r = client.receive_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(text_of(r), "after");
    EXPECT_EQ(client.reconnects(), 1u);
    r.release();
    client.close();
    again.stop();
    names.expect_clean();
}

}  // namespace
}  // namespace zerobuffer::test::duplex
