// The operations API (include/zerobuffer/admin.h) called in-process: its contracts (what it
// throws, what it reports), reports of hostile headers, and the rate arithmetic of `watch`.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include "platform/posix/shared_memory.h"
#include "test_support.h"
#include "watch_rates.h"
#include "zerobuffer/zerobuffer.h"

namespace zerobuffer {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::Latch;

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

BufferConfig small() {
    BufferConfig c;
    c.metadata_size = 256;
    c.payload_size = 4096;
    return c;
}

// A stale buffer: its reader was killed.
void make_stale(const std::string& name) {
    Latch created;
    Child reader_process([&] {
        Reader reader(name, small());
        created.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(created.wait(10s));
    reader_process.kill_hard();
    ASSERT_TRUE(reader_process.wait(10s));
}

// /dev/shm/NAME with a v1 header (M = 64, S = 1024) whose fields `edit` may change, then
// `metadata` at offset 128.
void make_segment(const std::string& name, const std::function<void(protocol::Oieb&)>& edit,
                  const std::vector<std::uint8_t>& metadata = {}) {
    std::vector<std::uint8_t> file(128 + 64 + 1024, 0);
    protocol::Oieb o{};
    o.oieb_size = 128;
    o.version = {1, 0, 0, 0};
    o.metadata_size = 64;
    o.metadata_free_bytes = 64;
    o.payload_size = 1024;
    o.payload_free_bytes = 1024;
    edit(o);
    std::memcpy(file.data(), &o, sizeof o);
    if (!metadata.empty()) std::memcpy(file.data() + 128, metadata.data(), metadata.size());
    std::ofstream("/dev/shm/" + name, std::ios::binary).write(reinterpret_cast<const char*>(file.data()),
                                                              static_cast<std::streamsize>(file.size()));
}

TEST(AdminNames, TopicOf) {
    EXPECT_EQ(admin::topic_of("cam@front"), "cam");
    EXPECT_EQ(admin::topic_of("a@b@c"), "a");
    EXPECT_EQ(admin::topic_of("cam@"), "");
    EXPECT_EQ(admin::topic_of("@front"), "");
    EXPECT_EQ(admin::topic_of("plain"), "");
}

TEST(AdminNames, ValidationIsTheReadersRule) {
    for (const char* bad : {"", "a/b", "sem.x", ".."}) {
        test::expect_throw<InvalidNameException>([&] { admin::validate_buffer_name(bad); });
        test::expect_throw<InvalidNameException>([&] { (void)admin::inspect(bad); });
        test::expect_throw<InvalidNameException>([&] { (void)admin::remove_if_stale(bad); });
    }
    EXPECT_NO_THROW(admin::validate_buffer_name("cam@front"));
    EXPECT_NO_THROW(admin::validate_buffer_name(".zb-tmp-1-1"));
}

TEST(AdminNames, TemporarySegmentNames) {
    EXPECT_EQ(posix::temporary_segment_pid(".zb-tmp-123-4"), 123u);
    for (const char* not_one : {".zb-tmp-0-1", ".zb-tmp-12-", ".zb-tmp-12", ".zb-tmp-a-1", "x.zb-tmp-1-1",
                                ".zb-tmp--1", ".zb-tmp-1-2-3", ".zb-tmp-99999999999999999999-1"}) {
        EXPECT_FALSE(posix::temporary_segment_pid(not_one)) << not_one;
    }
}

TEST(AdminApi, InspectsAndRefusesALiveBufferOfThisProcess) {
    test::NameScope names;
    const std::string name = names.make("admin_live");
    Reader reader(name, small());
    const admin::BufferInfo info = admin::inspect(name);
    EXPECT_EQ(info.state, admin::BufferState::live);
    EXPECT_EQ(info.reader.pid, static_cast<std::uint64_t>(::getpid()));
    EXPECT_EQ(info.reader.status, PeerStatus::alive);
    EXPECT_TRUE(info.reader.zerobuffer);
    EXPECT_EQ(info.writer.status, PeerStatus::absent);
    ASSERT_TRUE(info.metadata && info.health);
    EXPECT_EQ(info.metadata->written_bytes, 0u);
    EXPECT_EQ(info.health->payload_size, 4096u);
    EXPECT_EQ(info.objects.size(), 4u);
    EXPECT_FALSE(info.reclaimable);

    bool listed = false;
    for (const auto& b : admin::list_buffers()) listed = listed || b.name == name;
    EXPECT_TRUE(listed);

    const admin::CleanupReport report = admin::remove_if_stale(name);
    ASSERT_EQ(report.entries.size(), 1u);
    EXPECT_EQ(report.entries[0].outcome, admin::CleanupOutcome::refused);
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.removed_objects(), 0u);
    EXPECT_TRUE(exists("/dev/shm/" + name));
    EXPECT_EQ(admin::inspect(name).state, admin::BufferState::live);
}

TEST(AdminApi, RemovesAStaleBufferAndThenFindsNothing) {
    test::NameScope names;
    const std::string name = names.make("admin_stale");
    make_stale(name);
    EXPECT_EQ(admin::inspect(name).state, admin::BufferState::stale);

    admin::CleanupOptions dry;
    dry.dry_run = true;
    const auto planned = admin::remove_if_stale(name, dry);
    EXPECT_TRUE(planned.ok() && planned.dry_run);
    EXPECT_EQ(planned.removed_objects(), 4u);
    EXPECT_TRUE(exists("/dev/shm/" + name));

    const auto done = admin::remove_if_stale(name);
    EXPECT_TRUE(done.ok());
    EXPECT_EQ(done.entries[0].outcome, admin::CleanupOutcome::removed);
    EXPECT_EQ(done.entries[0].removed, planned.entries[0].removed);
    for (const auto& path : test::object_paths(name)) EXPECT_FALSE(exists(path)) << path;
    test::expect_throw<BufferNotFoundException>([&] { (void)admin::inspect(name); });
    const auto again = admin::remove_if_stale(name);
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(again.entries[0].outcome, admin::CleanupOutcome::nothing_to_do);
}

TEST(AdminApi, StaleSweepHonoursTheMatchAndKeepsLiveBuffers) {
    test::NameScope names;
    const std::string stale = names.make("sweep_stale");
    const std::string live = names.make("sweep_live");
    make_stale(stale);
    Reader reader(live, small());
    admin::CleanupOptions options;
    options.match = test::unique_name("nothing_matches_this") + "*";
    EXPECT_TRUE(admin::cleanup_stale(options).entries.empty());

    options.match = std::string(test::kNamePrefix) + "_" + std::to_string(::getpid()) + "_*";
    const auto report = admin::cleanup_stale(options);
    EXPECT_TRUE(report.ok());
    std::map<std::string, admin::CleanupOutcome> outcome;
    for (const auto& e : report.entries) outcome[e.name] = e.outcome;
    EXPECT_EQ(outcome[stale], admin::CleanupOutcome::removed);
    EXPECT_EQ(outcome[live], admin::CleanupOutcome::kept);
    EXPECT_FALSE(exists("/dev/shm/" + stale));
    EXPECT_TRUE(exists("/dev/shm/" + live));
}

// Headers a hostile or broken writer could leave: every read stays inside the file and the
// problem is named.
TEST(AdminApi, HostileMetadataHeadersAreReportedNotFollowed) {
    test::NameScope names;
    const std::string huge_prefix = names.make("meta_prefix");
    std::vector<std::uint8_t> prefix(8, 0xff);  // L = 2^64 - 1
    make_segment(huge_prefix, [](protocol::Oieb& o) { o.metadata_written_bytes = 64; o.metadata_free_bytes = 0; }, prefix);
    auto info = admin::inspect(huge_prefix);
    ASSERT_TRUE(info.metadata);
    EXPECT_NE(info.metadata->problem.find("length prefix says"), std::string::npos) << info.metadata->problem;
    EXPECT_EQ(info.metadata->preview.size(), 56u);  // what the block holds after the prefix, no more

    const std::string short_written = names.make("meta_short");
    make_segment(short_written, [](protocol::Oieb& o) { o.metadata_written_bytes = 3; });
    info = admin::inspect(short_written);
    ASSERT_TRUE(info.metadata);
    EXPECT_NE(info.metadata->problem.find("shorter than the 8-byte length prefix"), std::string::npos);

    const std::string beyond = names.make("meta_beyond");
    make_segment(beyond, [](protocol::Oieb& o) { o.metadata_written_bytes = 1u << 20; o.payload_write_pos = 1u << 30; });
    info = admin::inspect(beyond);
    EXPECT_TRUE(info.oieb_valid);  // v1 with consistent sizes; runtime fields out of range
    EXPECT_FALSE(info.oieb_problem.empty());
    ASSERT_TRUE(info.metadata);
    EXPECT_NE(info.metadata->problem.find("more than the 64-byte block"), std::string::npos);
    EXPECT_TRUE(info.metadata->preview.empty());
}

TEST(AdminApi, HeaderReaderFollowsTheSegment) {
    test::NameScope names;
    const std::string name = names.make("header_reader");
    test::expect_throw<BufferNotFoundException>([&] { admin::HeaderReader missing(name); });
    std::optional<admin::HeaderReader> header;
    {
        Reader reader(name, small());
        header.emplace(name);
        Child writer_process([&] {
            Writer writer(name);
            writer.write_frame(test::pattern(100, 0));
            return 0;
        });
        ASSERT_EQ(writer_process.wait(10s), 0);
        const auto o = header->read();
        ASSERT_TRUE(o);
        EXPECT_EQ(o->payload_written_count, 1u);
        EXPECT_EQ(o->payload_write_pos, 116u);
        EXPECT_TRUE(header->current());
    }
    EXPECT_FALSE(header->current());  // the Reader removed it on close
    Reader again(name, small());
    EXPECT_FALSE(header->current());  // another file under the same name
    EXPECT_TRUE(admin::HeaderReader(name).current());
}

using zbcli::movement_between;
using zbcli::RateMeter;
using zbcli::RateSample;

RateSample at(double seconds, std::uint64_t S, std::uint64_t pos, std::uint64_t count) {
    return {zbcli::RateClock::time_point(std::chrono::duration_cast<zbcli::RateClock::duration>(
                std::chrono::duration<double>(seconds))),
            S, pos, count};
}

TEST(WatchRates, MovementBetweenTwoSamples) {
    auto m = movement_between(at(1, 65536, 1000, 10), at(2, 65536, 11160, 20));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->frames, 10u);
    EXPECT_EQ(m->bytes, 10160u);
    EXPECT_FALSE(m->bytes_lower_bound);
    m = movement_between(at(0, 1024, 1000, 1), at(0.5, 1024, 24, 2));  // across the end of the ring
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, 48u);
    m = movement_between(at(0, 1024, 1024, 1), at(1, 1024, 100, 2));  // write_pos == S is offset 0
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, 100u);
}

TEST(WatchRates, AWriterCaughtBetweenItsTwoUpdatesIsNoLap) {
    // The count already says one more frame, the position does not show it yet.
    auto m = movement_between(at(0, 1 << 20, 4112, 1), at(0.002, 1 << 20, 4112, 2));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, 0u);
    EXPECT_FALSE(m->bytes_lower_bound);
    m = movement_between(at(0, 1 << 20, 0, 0), at(0.002, 1 << 20, 17, 2));  // two 1-byte frames, one shown
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->bytes_lower_bound);
}

TEST(WatchRates, LapsAreAddedUntilEveryFrameFitsAndMarked) {
    // 100 frames of at least 17 bytes cannot fit in no movement of a 1024-byte ring: 2 laps.
    const auto m = movement_between(at(0, 1024, 500, 0), at(1, 1024, 500, 100));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, 2048u);
    EXPECT_TRUE(m->bytes_lower_bound);
}

TEST(WatchRates, IncomparableSamples) {
    EXPECT_FALSE(movement_between(at(1, 1024, 0, 5), at(2, 2048, 0, 6)));   // another ring
    EXPECT_FALSE(movement_between(at(1, 1024, 0, 5), at(2, 1024, 0, 4)));   // re-created
    EXPECT_FALSE(movement_between(at(1, 0, 0, 5), at(2, 0, 0, 6)));         // no ring
}

TEST(WatchRates, MeterAddsUpManyTurnsOfTheRing) {
    // A 1024-byte ring, 1000 frames of 100 bytes (116 on the ring) in one second, sampled after
    // every 5 frames (580 bytes: less than a turn): exact, although the ring turned 113 times.
    RateMeter meter;
    EXPECT_FALSE(meter.take());
    std::uint64_t pos = 0;
    for (int i = 0; i <= 200; ++i) {
        meter.add(at(i / 200.0, 1024, pos, static_cast<std::uint64_t>(i) * 5));
        pos = (pos + 580) % 1024;
    }
    auto r = meter.take();
    ASSERT_TRUE(r);
    EXPECT_DOUBLE_EQ(r->frames_per_second, 1000.0);
    EXPECT_DOUBLE_EQ(r->mib_per_second, 116000.0 / (1024 * 1024));
    EXPECT_FALSE(r->mib_lower_bound);
    EXPECT_FALSE(meter.take());  // a new window, no time in it yet
    meter.add(at(2, 1024, 0, 2000));  // 1000 frames in a single step
    r = meter.take();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->mib_lower_bound);  // laps had to be inferred
    meter.add(at(3, 1024, 0, 5));  // the counter went back: the buffer was re-created
    EXPECT_FALSE(meter.take());
}

}  // namespace
}  // namespace zerobuffer
