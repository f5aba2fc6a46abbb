// Feature 13: Duplex Channel (catalogue §1.13), the round trips: basic request-response, order,
// concurrent client use, single_thread mode, zero-copy client, immutable handlers (13.1-13.4,
// 13.7, 13.8; failures are in feature_13_duplex_peer_failures.cpp). Scenarios about processes
// (MP) run the server in a forked child (forked before any thread of this process starts); the
// others run server and client in this process.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "allocation_counter.h"  // tests/support
#include "feature_13_duplex_fixture.h"

namespace zerobuffer::scenario {
namespace {

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

}  // namespace
}  // namespace zerobuffer::scenario
