// The per-frame path allocates nothing once warmed up: write_frame, zero-copy write, read_frame
// and release (the release FIFO grows only when more frames are held than ever before).
#include <gtest/gtest.h>

#include <cstring>

#include "allocation_counter.h"
#include "test_support.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;

TEST(Allocation, SteadyStateStreamingAllocatesNothing) {
    test::NameScope names;
    const auto name = names.make("alloc");
    BufferConfig config;
    config.metadata_size = 0;
    config.payload_size = 64 * 1024;
    Reader reader(name, config);
    Writer writer(name);
    const auto data = test::pattern(1000, 0);

    auto round = [&](int frames) {
        for (int i = 0; i < frames; ++i) {
            if (i % 2 == 0) {
                writer.write_frame(data);
            } else {
                auto buffer = writer.get_frame_buffer(data.size());
                std::memcpy(buffer.data(), data.data(), data.size());
                writer.commit_frame();
            }
            Frame frame = reader.read_frame(1s);
            ASSERT_TRUE(frame);
        }
    };
    round(200);  // warm-up: wraps, FIFO at its working size
    test::AllocationCounter counter;
    round(2000);  // ~30 wraps of the 64 KiB ring
    EXPECT_EQ(counter.count(), 0u) << "heap allocations on the per-frame path";
}

TEST(Allocation, CounterSeesAllocations) {
    static int* volatile sink = nullptr;  // keeps the compiler from eliding the pair
    test::AllocationCounter counter;
    sink = new int(5);
    delete sink;
    EXPECT_EQ(counter.count(), 1u) << "the counter must be able to fail the test above";
}

}  // namespace
}  // namespace zerobuffer
