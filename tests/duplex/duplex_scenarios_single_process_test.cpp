// Feature 13 of the acceptance catalogue (scenarios.md §1.13), the scenarios with server and
// client in this process: 13.2-13.4, 13.6-13.8 and 13.10; those with a second process are in
// duplex_scenarios_cross_process_test.cpp. Where upstream's expectation is weak or inconsistent,
// the test asserts what a user would expect and says so.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "allocation_counter.h"
#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// 13.2 Order preservation: 10 requests "Request i" sent back to back, 10 responses in order,
// none lost or duplicated.
TEST(Feature13, S13_2_OrderPreservation) {
    NameScope names;
    const std::string ch = make_channel(names, "duplex-order");
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
    const std::string ch = make_channel(names, "duplex-twenty");
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
    const std::string ch = make_channel(names, "duplex-single");
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

// 13.6 Buffer full on the response channel: the handler answers with twice the request size;
// the client sends two 4096-byte requests and does not read. The second 8192-byte response
// cannot fit the client's 10240-byte response ring, so the server blocks, and it unblocks as
// soon as the client reads one response.
TEST(Feature13, S13_6_BufferFullOnResponseChannel) {
    NameScope names;
    const std::string ch = make_channel(names, "duplex-full");
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
    const std::string ch = make_channel(names, "duplex-zerocopy");
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
    const std::string ch = make_channel(names, "duplex-xor");
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

// 13.10 Channel cleanup on dispose: 5 requests sent, 3 received, the server is disposed while
// 2 are pending. Upstream expects an exception on the pending responses. Here the handler of
// request 4 is still running when stop() is called: stop waits for it, its response is
// delivered (a response already produced is never thrown away), request 5 is never handled,
// and receiving its response throws. All shared memory is removed and a new server can reuse
// the name; the same client then reconnects by itself.
TEST(Feature13, S13_10_ChannelCleanupOnDispose) {
    NameScope names;
    const std::string ch = make_channel(names, "duplex-cleanup");
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
