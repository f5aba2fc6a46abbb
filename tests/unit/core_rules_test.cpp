// The pure rules of src/core: deadlines, the spin budget, liveness verdicts, buffer states,
// OIEB validation and the release FIFO.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "core/buffer_state.h"
#include "core/deadline.h"
#include "core/oieb_check.h"
#include "core/peer_rules.h"
#include "core/release_fifo.h"
#include "core/spin_policy.h"

namespace zerobuffer::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The write deadline overflowed: set_write_timeout(milliseconds::max()) made the next blocked
// write fail at once. A huge timeout must mean "for ever", not "already passed".
TEST(Deadline, SaturatesInsteadOfOverflowing) {
    const Clock::time_point now{std::chrono::hours(1000)};
    EXPECT_EQ(deadline_after<Clock>(now, std::chrono::milliseconds::max()), Clock::time_point::max());
    EXPECT_EQ(deadline_after<Clock>(now, std::chrono::hours::max()), Clock::time_point::max());
    EXPECT_EQ(deadline_after<Clock>(now, 5ms), now + 5ms);
    EXPECT_EQ(deadline_after<Clock>(now, 0ms), now);
    EXPECT_EQ(deadline_after<Clock>(now, -5ms), now);
    EXPECT_GT(deadline_after<Clock>(now, std::chrono::milliseconds::max() / 2), now);
}

TEST(SpinPolicy, FollowsShortGapsAndBacksOffOnLongOnes) {
    SpinPolicy p(200us);
    EXPECT_EQ(p.budget(), SpinPolicy::kBase);
    p.record(40us);
    EXPECT_EQ(p.budget(), 60us) << "1.5 times the gap";
    p.record(40us);
    EXPECT_EQ(p.budget(), 60us);
    p.record(120us);
    EXPECT_EQ(p.budget(), 120us) << "smoothed: (40 + 120) / 2 * 1.5";
    p.record(130us);
    EXPECT_EQ(p.budget(), 157us) << "smoothed: (80 + 130) / 2 * 1.5";
    p.record(150us);
    EXPECT_EQ(p.budget(), SpinPolicy::kBase) << "a gap that 1.5 x could not cover within the maximum: paced";
    p.record(20us);
    EXPECT_LE(p.budget(), 200us) << "never more than the maximum";
    p.record(1000us);
    EXPECT_EQ(p.budget(), SpinPolicy::kBase) << "a paced peer: spin only briefly";
    SpinPolicy off(0us);
    off.record(10us);
    EXPECT_EQ(off.budget(), 0us);
}

TEST(PeerRules, TheLockDecidesOnceSeen) {
    using Pid = PeerEvidence::Pid;
    EXPECT_EQ(judge_peer({0, false, false, Pid::alive}), PeerState::absent);
    EXPECT_EQ(judge_peer({42, true, false, Pid::dead}), PeerState::alive) << "a held lock: alive whatever the PID says";
    EXPECT_EQ(judge_peer({42, false, true, Pid::alive}), PeerState::dead)
        << "a zerobuffer peer whose lock is gone is dead, even if its PID was recycled";
    EXPECT_EQ(judge_peer({42, false, false, Pid::alive}), PeerState::alive) << "a foreign peer: its PID";
    EXPECT_EQ(judge_peer({42, false, false, Pid::dead}), PeerState::dead);
    EXPECT_EQ(judge_peer({1, false, false, Pid::unjudgeable}), PeerState::unknown);
    EXPECT_TRUE(pid_unjudgeable(1));
    EXPECT_FALSE(pid_unjudgeable(4242));
}

TEST(BufferState, ClassifiesEveryCombination) {
    BufferFacts f;
    EXPECT_EQ(classify(f), BufferState::absent);
    f.sem_write = true;
    EXPECT_EQ(classify(f), BufferState::orphaned);
    f.lock_file = LockFileState::held;
    EXPECT_EQ(classify(f), BufferState::creating) << "someone holds the lock: a reader being created";
    f = {};
    f.segment = true;
    f.oieb = OiebStatus::valid;
    f.reader = PeerState::alive;
    EXPECT_EQ(classify(f), BufferState::live);
    f.writer = PeerState::dead;
    EXPECT_EQ(classify(f), BufferState::writer_gone);
    f.reader = PeerState::unknown;
    EXPECT_EQ(classify(f), BufferState::writer_gone) << "an unjudgeable reader is never called dead";
    f.reader = PeerState::dead;
    EXPECT_EQ(classify(f), BufferState::stale);
    f.lock_file = LockFileState::held;
    EXPECT_EQ(classify(f), BufferState::writer_gone) << "its lock file is held: someone lives";
    f.lock_file_is_ours = true;
    EXPECT_EQ(classify(f), BufferState::stale) << "the lock we hold ourselves proves nothing";
    f.lock_file_is_ours = false;
    f.lock_file = LockFileState::unreadable;
    EXPECT_NE(classify(f), BufferState::stale) << "another user's lock file: cannot tell, so never stale";
    f.lock_file = LockFileState::absent;
    f.csharp_lock_held = true;
    EXPECT_NE(classify(f), BufferState::stale);
    f.csharp_lock_held = false;
    f.oieb = OiebStatus::not_initialised;
    EXPECT_EQ(classify(f), BufferState::half_created);
    f.oieb = OiebStatus::not_v1;
    EXPECT_EQ(classify(f), BufferState::foreign);
    f.oieb = OiebStatus::valid;
    f.segment_regular = false;
    EXPECT_EQ(classify(f), BufferState::foreign);
    for (auto s : {BufferState::live, BufferState::writer_gone, BufferState::half_created, BufferState::foreign,
                   BufferState::creating, BufferState::absent}) {
        EXPECT_FALSE(reclaimable(s)) << to_string(s);
    }
    EXPECT_TRUE(reclaimable(BufferState::stale));
    EXPECT_TRUE(reclaimable(BufferState::orphaned));
}

protocol::Oieb valid_oieb() {
    protocol::Oieb o{};
    o.oieb_size = 128;
    o.version = {1, 0, 0, 0};
    o.metadata_size = o.metadata_free_bytes = 128;
    o.payload_size = o.payload_free_bytes = 1024;
    return o;
}

TEST(OiebCheck, NamesEveryProblemAgainstTheFileSize) {
    const std::uint64_t size = 128 + 128 + 1024;
    EXPECT_EQ(check_oieb(valid_oieb(), size).status, OiebStatus::valid);
    EXPECT_EQ(check_oieb(protocol::Oieb{}, 0).status, OiebStatus::too_small);
    EXPECT_EQ(check_oieb(protocol::Oieb{}, 100).status, OiebStatus::not_v1) << "a short non-empty file is not a creator's";
    EXPECT_EQ(check_oieb(protocol::Oieb{}, size).status, OiebStatus::not_initialised);
    struct Case {
        const char* field;
        void (*poke)(protocol::Oieb&);
        OiebStatus status;
    };
    const Case cases[] = {
        {"oieb_size", [](protocol::Oieb& o) { o.oieb_size = 64; }, OiebStatus::not_v1},
        {"version.major", [](protocol::Oieb& o) { o.version.major = 2; }, OiebStatus::not_v1},
        {"metadata_size", [](protocol::Oieb& o) { o.metadata_size = 100; }, OiebStatus::not_v1},
        {"payload_size", [](protocol::Oieb& o) { o.payload_size = 0; }, OiebStatus::not_v1},
        {"payload_size", [](protocol::Oieb& o) { o.payload_size = ~0ull - 63; }, OiebStatus::not_v1},
        {"payload_write_pos", [](protocol::Oieb& o) { o.payload_write_pos = 2000; }, OiebStatus::inconsistent},
        {"payload_read_pos", [](protocol::Oieb& o) { o.payload_read_pos = 2000; }, OiebStatus::inconsistent},
        {"payload_free_bytes", [](protocol::Oieb& o) { o.payload_free_bytes = 2000; }, OiebStatus::inconsistent},
        {"metadata_written_bytes", [](protocol::Oieb& o) { o.metadata_written_bytes = 200; }, OiebStatus::inconsistent},
    };
    for (const auto& c : cases) {
        protocol::Oieb o = valid_oieb();
        c.poke(o);
        const OiebVerdict v = check_oieb(o, size);
        EXPECT_EQ(v.status, c.status) << c.field;
        const std::string field = std::string(c.field) == "version.major" ? "version" : c.field;
        EXPECT_NE(v.problem.find(field), std::string::npos) << v.problem;
    }
    EXPECT_EQ(check_oieb(valid_oieb(), size + 64).status, OiebStatus::not_v1) << "sizes must add up to the file";
}

TEST(ReleaseFifo, SpaceReturnsInRingOrderWhateverTheReleaseOrder) {
    ReleaseFifo fifo;
    std::vector<ReleaseSlot*> slots;
    for (std::uint64_t i = 1; i <= 600; ++i) slots.push_back(fifo.push(i, false));  // several chunks
    std::uint64_t popped = 0;
    EXPECT_EQ(fifo.pop_released(popped), 0u);
    ReleaseFifo::mark(slots[1]);
    EXPECT_EQ(fifo.pop_released(popped), 0u) << "the oldest is still held";
    EXPECT_EQ(fifo.count_unreleased(), 599u);
    ReleaseFifo::mark(slots[0]);
    EXPECT_EQ(fifo.pop_released(popped), 1u + 2u);
    EXPECT_EQ(popped, 2u);
    for (std::size_t i = slots.size(); i-- > 2;) ReleaseFifo::mark(slots[i]);  // newest first
    EXPECT_EQ(fifo.pop_released(popped), 600u * 601u / 2 - 3u);
    EXPECT_EQ(fifo.size(), 0u);
    fifo.push(5, true);  // waste: released from the start
    EXPECT_EQ(fifo.pop_released(popped), 5u);
}

TEST(ReleaseFifo, ConcurrentMarksAreNeverLost) {
    ReleaseFifo fifo;
    constexpr std::uint64_t kSlots = 20000;
    std::vector<ReleaseSlot*> slots;
    std::uint64_t expected = 0;
    for (std::uint64_t i = 0; i < kSlots; ++i) {
        slots.push_back(fifo.push(i % 97 + 1, false));
        expected += i % 97 + 1;
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint64_t i = static_cast<std::uint64_t>(t); i < kSlots; i += 4) ReleaseFifo::mark(slots[i]);
        });
    }
    std::uint64_t returned = 0, popped = 0;
    while (returned < expected) returned += fifo.pop_released(popped);  // drains while they mark
    for (auto& th : threads) th.join();
    EXPECT_EQ(returned, expected);
    EXPECT_EQ(popped, kSlots);
}

}  // namespace
}  // namespace zerobuffer::detail
