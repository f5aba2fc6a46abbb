// Feature 13: Duplex Channel (catalogue §1.13), peers that die, block or go away: server death
// during processing, a full response channel, client death during the response wait, cleanup
// on dispose (13.5, 13.6, 13.9, 13.10; the round trips are in feature_13_duplex_round_trips.cpp).
// Scenarios about processes (MP/KILL) run the server or the client in a forked child (forked
// before any thread of this process starts); the others run server and client in this process.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include <csignal>
#include <unistd.h>

#include "feature_13_duplex_fixture.h"

namespace zerobuffer::scenario {
namespace {

// 13.5: the server process crashes (SIGKILL from inside its handler, 100 ms into a 1024 B
// request); the client waiting with a 5 s timeout learns of the death with WriterDead.
TEST_F(Feature13_DuplexChannel, Scenario_13_05_ServerDeathDuringProcessing) {
    ASSERT_TRUE(start_server_process("duplex-server-death", config(4096, 1u << 20), [](const Frame& req, Writer& w) {
        if (req.size() == 1024) {
            std::this_thread::sleep_for(100ms);
            ::raise(SIGKILL);
        }
        w.write_frame(req.data());
    }));
    DuplexClient client(channel(), small_client());
    client.send_request(pattern(1024, 1));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(client.receive_response(5s), WriterDeadException);
    const double waited = ms_since(t0);
    std::printf("[ figures  ] server death detected after %.0f ms\n", waited);
    EXPECT_LT(waited, 4900.0) << "the death must be detected, not the timeout waited out";
    EXPECT_EQ(server_exit_code(), 128 + SIGKILL);
    EXPECT_FALSE(client.is_server_connected());
}

// 13.6: the client's response ring (10240 B) holds one 8192 B response; the handler answers
// each 4096 B request with twice its size. With the client not reading, the server blocks on
// the second response and resumes as soon as the client takes the first.
TEST_F(Feature13_DuplexChannel, Scenario_13_06_BufferFullOnResponseChannel) {
    ASSERT_TRUE(start_server_process("duplex-resp-full", config(1024, 10240), [](const Frame& req, Writer& w) {
        std::vector<std::byte> doubled(req.size() * 2);
        std::memcpy(doubled.data(), req.data().data(), req.size());
        std::memcpy(doubled.data() + req.size(), req.data().data(), req.size());
        w.write_frame(doubled);
    }));
    DuplexClientOptions options = small_client();
    options.response_config = config(1024, 10240);
    DuplexClient client(channel(), options);

    client.send_request(pattern(4096, 1));
    client.send_request(pattern(4096, 2));
    ShmView response_ring(response_buffer_name(channel()));
    ASSERT_TRUE(eventually([&] { return response_ring.load(&protocol::Oieb::payload_written_count) >= 1; }, 5s));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(response_ring.load(&protocol::Oieb::payload_written_count), 1u)
        << "the second 8192 B response cannot fit while the first is unread";

    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t seed = 1; seed <= 2; ++seed) {
        Frame r = client.receive_response(5s);
        ASSERT_TRUE(r.valid()) << "response " << seed;
        ASSERT_EQ(r.size(), 8192u);
        EXPECT_TRUE(matches_pattern(r.data().data(), 4096, seed));
        EXPECT_TRUE(matches_pattern(r.data().data() + 4096, 4096, seed));
    }
    std::printf("[ figures  ] the blocked response arrived %.1f ms after the client started reading\n", ms_since(t0));
    EXPECT_LT(ms_since(t0), 2000.0);
}

// 13.9: the handler takes 1 s (upstream: 2 s) and the client process is SIGKILLed 0.5 s in
// (upstream: 1 s). The server finishes the handler, learns of the death when it writes the
// response (reported through its error handler) and serves the next client.
TEST_F(Feature13_DuplexChannel, Scenario_13_09_ClientDeathDuringResponseWait) {
    const auto channel = new_channel("duplex-client-death");
    Latch go, sent;
    Child client_process([&]() -> int {
        require(go.wait(10s).has_value(), "go signal");
        DuplexClient client(channel, small_client());
        client.send_request(bytes_of("slow"));
        sent.signal();
        Frame r = client.receive_response(10s);  // killed while waiting here
        return 3;
    });

    std::mutex errors_lock;
    std::vector<DuplexError> errors;
    std::atomic<int> handled{0};
    DuplexServerOptions options;
    options.on_error = [&](const DuplexError& e) {
        std::lock_guard guard(errors_lock);
        errors.push_back(e);
    };
    ImmutableDuplexServer server(channel, config(4096, 1u << 20), options);
    server.start_with_writer([&](const Frame& req, Writer& w) {
        if (text_of(req) == "slow") std::this_thread::sleep_for(1s);
        w.write_frame(req.data());
        ++handled;
    });
    go.signal();
    ASSERT_TRUE(sent.wait(10s));
    std::this_thread::sleep_for(500ms);
    kill_and_reap(client_process);

    ASSERT_TRUE(eventually(
        [&] {
            std::lock_guard guard(errors_lock);
            return !errors.empty();
        },
        5s))
        << "the server never reported the dead client";
    {
        std::lock_guard guard(errors_lock);
        for (const auto& e : errors) std::printf("[ error    ] %s: %s\n", to_string(e.kind), e.message.c_str());
        const auto& first = errors.front();
        EXPECT_TRUE(first.kind == DuplexErrorKind::client_died || first.kind == DuplexErrorKind::response_write_failed)
            << to_string(first.kind);
    }
    EXPECT_TRUE(server.is_running()) << "the server must go on serving";

    DuplexClient next(channel, small_client());
    next.send_request(bytes_of("next"));
    Frame r = next.receive_response(5s);
    ASSERT_TRUE(r.valid()) << "the next client was not served";
    EXPECT_EQ(text_of(r), "next");
    EXPECT_GE(server.clients_served(), 2u);
    r.release();
    next.close();
    server.stop();
}

// 13.10: five requests sent, three responses received, then the server is disposed while two
// are still being handled. The client gets every response the server wrote before it left and
// then WriterDead for the rest; the channel's shared memory is removed; a new server can use
// the same name.
TEST_F(Feature13_DuplexChannel, Scenario_13_10_ChannelCleanupOnDispose) {
    const auto channel = new_channel("duplex-dispose");
    std::atomic<int> started{0};
    {
        auto server = std::make_unique<ImmutableDuplexServer>(channel, config(4096, 1u << 20));
        server->start_with_writer([&](const Frame& req, Writer& w) {
            if (++started > 3) std::this_thread::sleep_for(300ms);  // requests 4 and 5 are slow
            w.write_frame(req.data());
        });
        DuplexClient client(channel, small_client());
        for (int i = 1; i <= 5; ++i) client.send_request(bytes_of("request " + std::to_string(i)));
        for (int i = 1; i <= 3; ++i) {
            Frame r = client.receive_response(5s);
            ASSERT_TRUE(r.valid());
            EXPECT_EQ(text_of(r), "request " + std::to_string(i));
        }
        ASSERT_TRUE(eventually([&] { return started.load() >= 4; }, 5s));
        server.reset();  // dispose while requests 4 and 5 are pending
        EXPECT_TRUE(no_objects_left(request_buffer_name(channel))) << "CH_request must be removed";

        int delivered = 3;
        bool writer_dead = false;
        try {
            for (int i = 4; i <= 5; ++i) {
                Frame r = client.receive_response(2s);
                ASSERT_TRUE(r.valid()) << "a pending response neither arrived nor failed";
                EXPECT_EQ(text_of(r), "request " + std::to_string(i));
                ++delivered;
            }
        } catch (const WriterDeadException& e) {
            writer_dead = true;
            std::printf("[ message  ] %s\n", e.what());
        }
        std::printf("[ figures  ] %d of 5 responses delivered before the server was gone\n", delivered);
        EXPECT_TRUE(writer_dead) << "the pending responses must end in an exception";
        EXPECT_LT(delivered, 5);
        client.close();
    }
    EXPECT_TRUE(no_objects_left(request_buffer_name(channel)));
    EXPECT_TRUE(no_objects_left(response_buffer_name(channel)));

    ImmutableDuplexServer again(channel, config(4096, 1u << 20));
    again.start_with_writer(echo);
    DuplexClient client(channel, small_client());
    client.send_request(bytes_of("reused"));
    Frame r = client.receive_response(5s);
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(text_of(r), "reused");
}

}  // namespace
}  // namespace zerobuffer::scenario
