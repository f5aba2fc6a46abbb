// The publisher's background thread: finds the topic's subscriber buffers (inotify on /dev/shm
// and a periodic listing), attaches to them, closes the links the publishing thread gave back,
// notices readers that went away while the publisher is idle, takes dropped subscribers back
// once they have caught up, and reclaims dead subscribers' buffers through src/ownership.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "platform/posix/directory_watch.h"
#include "platform/posix/wakeup.h"
#include "topic/roster.h"
#include "zerobuffer/config.h"
#include "zerobuffer/topic.h"

namespace zerobuffer::detail {

struct DiscoverySettings {
    std::string topic;
    WriterOptions writer;
    std::chrono::milliseconds rescan_interval{1000};
    bool use_inotify = true;
    std::function<void(const SubscriberInfo&)> on_change;
};

class Discovery {
public:
    using Clock = std::chrono::steady_clock;
    // How often attached readers are checked while the publisher may be idle, and dropped
    // subscribers looked at; how often a buffer not yet decidable is looked at again, and for
    // how long before it is reported invalid.
    static constexpr std::chrono::milliseconds kCheckInterval{100};
    static constexpr std::chrono::milliseconds kRetryInterval{5};
    static constexpr std::chrono::milliseconds kRetryLimit{2000};
    // A dropped subscriber is taken back once its ring has stayed empty this long.
    static constexpr std::chrono::milliseconds kReadmitDelay{200};
    // Without inotify, the listing runs at least this often.
    static constexpr std::chrono::milliseconds kScanWithoutWatch{50};

    Discovery(DiscoverySettings settings, Roster& roster, posix::Wakeup& wakeup);
    ~Discovery() { stop(); }
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    // Attaches to every subscriber buffer there now, on the caller's thread, then starts the
    // thread. Throws SystemError if the thread cannot be started.
    void start();
    // Stops and joins the thread. Idempotent; never throws.
    void stop() noexcept;
    bool watching() const noexcept { return watch_.has_value(); }

private:
    void run() noexcept;
    void step(bool scan_due, bool check_due);
    void scan();
    void examine(const std::string& name, bool from_scan);
    void examine_safely(const std::string& name, bool from_scan) noexcept;
    void attach(const std::string& name, std::string_view id);
    void reclaim(const std::string& name, std::string_view id, std::uint64_t reader_pid);
    void close_retired();
    void check_links();
    // Keeps NAME to be looked at again soon; false once it has waited longer than kRetryLimit.
    bool retry_later(const std::string& name);
    // Records NAME's state and reports it if it changed.
    void change(const std::string& name, std::string_view id, SubscriberState state, std::string reason,
                SegmentKey key, std::uint64_t reader_pid);
    void report(const SubscriberInfo& info) const;
    std::chrono::milliseconds scan_period() const;

    const DiscoverySettings settings_;
    const std::string prefix_;
    Roster& roster_;
    posix::Wakeup& wakeup_;
    std::optional<posix::DirectoryWatch> watch_;
    std::map<std::string, Clock::time_point> retries_;        // name -> since when it is retried
    std::map<std::string, Clock::time_point> drained_since_;  // dropped name -> since when it is caught up
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace zerobuffer::detail
