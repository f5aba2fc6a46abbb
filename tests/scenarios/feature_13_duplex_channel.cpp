// Feature 13: Duplex Channel (catalogue §1.13). Scenarios about processes (MP/KILL) run the
// server or the client in a forked child (forked before any thread of this process starts);
// the others run server and client in this process.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <csignal>
#include <unistd.h>

#include "allocation_counter.h"  // tests/support
#include "scenario_util.h"
#include "zerobuffer/duplex.h"

namespace zerobuffer::scenario {
namespace {

DuplexClientOptions small_client(std::chrono::milliseconds connect_timeout = 5s) {
    DuplexClientOptions o;
    o.response_config = config(4096, 1u << 20);
    o.connect_timeout = connect_timeout;
    return o;
}

void echo(const Frame& request, Writer& response) { (void)response.write_frame(request.data()); }

// What every scenario sets up: a unique channel whose two buffers are removed even if the test
// fails and, for the scenarios that need one, a server in a forked child (an echo server or
// another handler) that serves until the end of the test. TearDown stops it and checks that it
// stopped cleanly, unless the test already waited for it (a server that was meant to die).
class Feature13_DuplexChannel : public ::testing::Test {
protected:
    // A new channel named after `base`; its buffers are removed at the end of the test.
    std::string new_channel(std::string_view base) {
        std::string channel = names_.make(base);
        names_.adopt(request_buffer_name(channel));
        names_.adopt(response_buffer_name(channel));
        return channel;
    }

    // Starts the server process on a new channel (the process is forked before any thread of
    // this process starts); true once clients may connect. channel() names the channel.
    [[nodiscard]] bool start_server_process(std::string_view base, const BufferConfig& request_config,
                                            WriterHandler handler = echo) {
        channel_ = new_channel(base);
        server_.emplace([this, request_config, handler] {
            ImmutableDuplexServer server(channel_, request_config);
            server.start_with_writer(handler);
            ready_.signal();
            require(stop_.wait(120s).has_value(), "stop signal");
            server.stop();
            return 0;
        });
        return ready_.wait(10s).has_value();
    }
    const std::string& channel() const noexcept { return channel_; }

    // Waits for a server process that ends by itself (killed) and returns its exit code.
    std::optional<int> server_exit_code() {
        server_waited_ = true;
        return server_->wait(10s);
    }

    void TearDown() override {
        if (server_ && !server_waited_) {
            stop_.signal();
            EXPECT_EQ(server_->wait(10s), 0) << "the server process did not stop cleanly";
        }
    }

private:
    NameScope names_;  // declared first: removes the buffers after the server process has ended
    Latch ready_, stop_;
    std::string channel_;
    std::optional<Child> server_;
    bool server_waited_ = false;
};

bool same_bytes(const Frame& f, const std::vector<std::byte>& expected) {
    return f.size() == expected.size() && std::memcmp(f.data().data(), expected.data(), expected.size()) == 0;
}

// 13.1: an echo server on "duplex-basic" (metadata 4096, payload 1 MiB) in another process;
// requests of 1, 1024 and 102400 B come back identical (the last one sent zero-copy with a
// timestamp in its first 8 bytes, as the upstream C++ client does).
TEST_F(Feature13_DuplexChannel, Scenario_13_01_BasicRequestResponse) {
    ASSERT_TRUE(start_server_process("duplex-basic", config(4096, 1u << 20)));
    {
        DuplexClient client(channel());  // the peers' default response buffer: 4096 B / 256 MiB
        EXPECT_TRUE(client.is_server_connected());
        for (std::size_t size : {std::size_t{1}, std::size_t{1024}}) {
            const auto data = pattern(size, size);
            client.send_request(data);
            Frame response = client.receive_response(5s);
            ASSERT_TRUE(response.valid()) << size;
            EXPECT_TRUE(same_bytes(response, data)) << size;
        }
        auto buffer = client.acquire_request_buffer(102400);
        ASSERT_EQ(buffer.size(), 102400u);
        const auto data = pattern(102400, 7);
        std::memcpy(buffer.data(), data.data(), data.size());
        const auto sent_at = std::chrono::steady_clock::now().time_since_epoch().count();
        std::memcpy(buffer.data(), &sent_at, sizeof sent_at);
        EXPECT_EQ(client.commit_request(), 3u);
        Frame response = client.receive_response(5s);
        ASSERT_TRUE(response.valid());
        ASSERT_EQ(response.size(), 102400u);
        std::int64_t echoed_at = 0;
        std::memcpy(&echoed_at, response.data().data(), sizeof echoed_at);
        EXPECT_EQ(echoed_at, sent_at);
        EXPECT_EQ(std::memcmp(response.data().data() + 8, data.data() + 8, data.size() - 8), 0);
        const auto round_trip = std::chrono::steady_clock::now().time_since_epoch().count() - echoed_at;
        std::printf("[ figures  ] 102400 B round trip %.3f ms\n", static_cast<double>(round_trip) / 1e6);
    }
}

// 13.2: ten requests "Request i" sent back to back come back as ten responses in the same
// order, none lost or duplicated. (TS 14.2 allowed reversed responses; v1 has no correlation
// field, so only FIFO order can be correct, as the feature file says.)
TEST_F(Feature13_DuplexChannel, Scenario_13_02_RequestResponseOrderPreservation) {
    ASSERT_TRUE(start_server_process("duplex-order", config(4096, 1u << 20)));
    {
        DuplexClient client(channel(), small_client());
        for (int i = 0; i < 10; ++i) client.send_request(bytes_of("Request " + std::to_string(i)));
        EXPECT_EQ(client.pending_responses(), 10u);
        for (int i = 0; i < 10; ++i) {
            Frame r = client.receive_response(5s);
            ASSERT_TRUE(r.valid()) << "response " << i;
            EXPECT_EQ(text_of(r), "Request " + std::to_string(i));
        }
        EXPECT_EQ(client.pending_responses(), 0u);
        EXPECT_FALSE(client.receive_response(100ms).valid()) << "a duplicated response";
    }
}

// 13.3: 20 requests from one thread get exactly 20 matching responses; then five threads share
// the client with the external locking v1 requires (TS 14.3's 5 threads x 20 requests).
TEST_F(Feature13_DuplexChannel, Scenario_13_03_ConcurrentClientOperations) {
    ASSERT_TRUE(start_server_process("duplex-concurrent", config(4096, 1u << 20)));
    {
        DuplexClient client(channel(), small_client());
        for (int i = 0; i < 20; ++i) client.send_request(bytes_of("single " + std::to_string(i)));
        for (int i = 0; i < 20; ++i) {
            Frame r = client.receive_response(5s);
            ASSERT_TRUE(r.valid());
            EXPECT_EQ(text_of(r), "single " + std::to_string(i));
        }

        std::mutex lock;
        std::atomic<int> mismatches{0}, answered{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 5; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 20; ++i) {
                    const std::string text = "thread " + std::to_string(t) + " request " + std::to_string(i);
                    std::lock_guard guard(lock);  // send + receive as one unit
                    client.send_request(bytes_of(text));
                    Frame r = client.receive_response(5s);
                    if (r.valid()) ++answered;
                    if (!r.valid() || text_of(r) != text) ++mismatches;
                }
            });
        }
        for (auto& th : threads) th.join();
        EXPECT_EQ(answered.load(), 100);
        EXPECT_EQ(mismatches.load(), 0);
    }
}

// 13.4: single_thread mode handles requests one at a time: three pipelined requests to a handler
// sleeping 100 ms take at least 300 ms and come back in order. (TS 14.4 used 1 s each.)
TEST_F(Feature13_DuplexChannel, Scenario_13_04_SingleThreadProcessingMode) {
    ASSERT_TRUE(start_server_process("duplex-single", config(4096, 1u << 20), [](const Frame& req, Writer& w) {
        std::this_thread::sleep_for(100ms);
        w.write_frame(req.data());
    }));
    {
        DuplexClient client(channel(), small_client());
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 3; ++i) client.send_request(bytes_of("slow " + std::to_string(i)));
        for (int i = 0; i < 3; ++i) {
            Frame r = client.receive_response(5s);
            ASSERT_TRUE(r.valid());
            EXPECT_EQ(text_of(r), "slow " + std::to_string(i));
        }
        const double total = ms_since(t0);
        std::printf("[ figures  ] three 100 ms requests took %.0f ms\n", total);
        EXPECT_GE(total, 295.0) << "the requests were not handled one after another";
    }
}

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

// 13.7: zero-copy client: the request is filled in place and committed (the RAII
// RequestReservation in odd rounds, acquire_request_buffer + commit_request in even ones); the
// echo carries the same pattern. Once warmed up, acquire + fill + commit performs no heap
// allocation.
TEST_F(Feature13_DuplexChannel, Scenario_13_07_ZeroCopyClient) {
    ASSERT_TRUE(start_server_process("duplex-zerocopy", config(4096, 1u << 20)));
    {
        DuplexClient client(channel(), small_client());
        std::uint64_t allocations = 0;
        for (std::uint64_t round = 1; round <= 20; ++round) {
            const bool measured = round > 2;  // the first rounds may set things up
            std::uint64_t seq = 0;
            {
                zerobuffer::test::AllocationCounter counter;
                if (round % 2 == 1) {
                    RequestReservation request = client.acquire_request(4096);
                    const std::span<std::byte> buffer = request.data();
                    for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<std::byte>((i + round) & 0xFF);
                    seq = request.commit();
                } else {
                    auto buffer = client.acquire_request_buffer(4096);
                    for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<std::byte>((i + round) & 0xFF);
                    seq = client.commit_request();
                }
                if (measured) allocations += counter.count();
            }
            EXPECT_EQ(seq, round);
            Frame r = client.receive_response(5s);
            ASSERT_TRUE(r.valid());
            ASSERT_EQ(r.size(), 4096u);
            EXPECT_TRUE(matches_pattern(r.data().data(), r.size(), round));
        }
        std::printf("[ figures  ] %llu heap allocations in 18 zero-copy sends\n",
                    static_cast<unsigned long long>(allocations));
        EXPECT_EQ(allocations, 0u) << "the zero-copy send path allocated";
    }
}

// 13.8: both handler types receive the request as an immutable frame and produce new data:
// the request XORed with 0xFF, 10240 B. (The mutable server of TS 14.5 is v2 work.)
TEST_F(Feature13_DuplexChannel, Scenario_13_08_ImmutableServerHandlerTypes) {
    const auto request = pattern(10240, 5);
    std::vector<std::byte> expected(request.size());
    for (std::size_t i = 0; i < request.size(); ++i) expected[i] = request[i] ^ std::byte{0xFF};

    for (int variant = 0; variant < 2; ++variant) {
        SCOPED_TRACE(variant == 0 ? "WriterHandler(Frame, Writer&)" : "ResponseHandler(Frame, ResponseWriter&)");
        const auto channel = new_channel("duplex-xor");
        ImmutableDuplexServer server(channel, config(4096, 1u << 20));
        if (variant == 0) {
            server.start_with_writer([](const Frame& req, Writer& w) {
                std::vector<std::byte> out(req.size());
                for (std::size_t i = 0; i < req.size(); ++i) out[i] = req.data()[i] ^ std::byte{0xFF};
                w.write_frame(out);
            });
        } else {
            server.start(
                [](const Frame& req, ResponseWriter& w) {
                    auto out = w.get_frame_buffer(req.size());
                    for (std::size_t i = 0; i < req.size(); ++i) out[i] = req.data()[i] ^ std::byte{0xFF};
                    w.commit_frame();
                },
                {}, ProcessingMode::single_thread);
        }
        DuplexClient client(channel, small_client());
        client.send_request(request);
        Frame r = client.receive_response(5s);
        ASSERT_TRUE(r.valid());
        EXPECT_TRUE(same_bytes(r, expected));
        r.release();
        client.close();
        server.stop();
        EXPECT_TRUE(no_objects_left(request_buffer_name(channel)));
        EXPECT_TRUE(no_objects_left(response_buffer_name(channel)));
    }
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
