// Duplex channel volume: many round trips across processes, payloads from 1 byte to 16 MiB.
#include <cstdio>

#include "duplex_test_util.h"

namespace zerobuffer::test::duplex {
namespace {

// 10,000 echo round trips between two processes, sizes 1..4096, every byte checked.
TEST(DuplexVolume, TenThousandEchoRoundTripsAcrossProcesses) {
    NameScope names;
    const std::string ch = make_channel(names, "echo10k");
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
    const std::string ch = make_channel(names, "sizes");
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

}  // namespace
}  // namespace zerobuffer::test::duplex
