#include "topic/discovery.h"

#include <algorithm>
#include <exception>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "core/log.h"
#include "core/names.h"
#include "ownership/buffer_probe.h"
#include "ownership/reclaim.h"
#include "topic/admission.h"
#include "topic/topic_names.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::detail {
namespace {

// A dropped subscriber is taken back once it has read and released everything it holds.
bool drained(const BufferProbe& probe) {
    if (!probe.oieb) return false;
    const protocol::Oieb& o = *probe.oieb;
    return o.payload_read_count == o.payload_written_count && o.payload_free_bytes == o.payload_size;
}

}  // namespace

Discovery::Discovery(DiscoverySettings settings, Roster& roster, posix::Wakeup& wakeup)
    : settings_(std::move(settings)), prefix_(topic_prefix(settings_.topic)), roster_(roster), wakeup_(wakeup) {
    if (settings_.use_inotify) {
        try {
            watch_ = posix::DirectoryWatch::open(std::string(kShmDirectory));
        } catch (const std::system_error& e) {
            log(LogLevel::warn, "topic '{}': no inotify watch on {} ({}); discovering by listing every {} ms",
                settings_.topic, kShmDirectory, e.what(), scan_period().count());
        }
    }
}

std::chrono::milliseconds Discovery::scan_period() const {
    return watch_ ? settings_.rescan_interval : std::min(settings_.rescan_interval, kScanWithoutWatch);
}

void Discovery::start() {
    scan();
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        throw SystemError(fmt::format("topic '{}': cannot start the discovery thread: {}", settings_.topic, e.what()),
                          e.code());
    }
    log(LogLevel::info, "topic '{}': publisher discovering subscribers by {}", settings_.topic,
        watch_ ? fmt::format("inotify on {} and a listing every {} ms", kShmDirectory, scan_period().count())
               : fmt::format("listing {} every {} ms", kShmDirectory, scan_period().count()));
}

void Discovery::stop() noexcept {
    stop_.store(true, std::memory_order_release);
    wakeup_.signal();
    if (thread_.joinable()) thread_.join();
}

void Discovery::run() noexcept {
    auto next_scan = Clock::now() + scan_period();
    auto next_check = Clock::now() + kCheckInterval;
    while (!stop_.load(std::memory_order_acquire)) {
        auto wake_at = std::min(next_scan, next_check);
        if (!retries_.empty()) wake_at = std::min(wake_at, Clock::now() + kRetryInterval);
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - Clock::now());
        try {
            posix::wait_readable({watch_ ? watch_->fd() : -1, wakeup_.fd()},
                                 std::max(wait, std::chrono::milliseconds::zero()));
        } catch (const std::system_error&) {
            // poll itself failed: go on, at the pace of the timeouts below
        }
        if (stop_.load(std::memory_order_acquire)) break;
        wakeup_.clear();
        const auto now = Clock::now();
        const bool scan_due = now >= next_scan;
        const bool check_due = now >= next_check;
        if (scan_due) next_scan = now + scan_period();
        if (check_due) next_check = now + kCheckInterval;
        try {
            step(scan_due, check_due);
        } catch (const std::exception& e) {
            log(LogLevel::error, "topic '{}': discovery step failed: {}", settings_.topic, e.what());
        }
    }
}

void Discovery::step(bool scan_due, bool check_due) {
    std::vector<std::string> names;
    bool complete = true;
    if (watch_) {
        try {
            complete = watch_->drain([&](std::string_view name) {
                if (!subscriber_id_of(prefix_, name).empty()) names.emplace_back(name);
            });
        } catch (const std::system_error& e) {
            log(LogLevel::warn, "topic '{}': reading inotify events failed ({}); listing instead", settings_.topic,
                e.what());
            watch_.reset();
            complete = false;
        }
    }
    close_retired();
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const auto& name : names) examine_safely(name, false);

    std::vector<std::string> again;
    for (const auto& [name, since] : retries_) {
        if (!std::binary_search(names.begin(), names.end(), name)) again.push_back(name);
    }
    for (const auto& name : again) examine_safely(name, false);

    if (scan_due || !complete) scan();
    if (check_due) {
        check_links();
        for (const auto& name : roster_.names_in(SubscriberState::dropped)) examine_safely(name, false);
    }
}

void Discovery::scan() {
    // Segments, and what a subscriber killed while it created its buffer can leave without one:
    // semaphores and an unheld lock file (reclaimed as orphaned).
    std::vector<std::string> names = posix::list_directory(std::string(kShmDirectory), prefix_);
    for (const std::string& head : {"sem." + sem_write_name(""), "sem." + sem_read_name("")}) {  // glibc's files
        for (auto& file : posix::list_directory(std::string(kShmDirectory), head + prefix_)) {
            names.push_back(file.substr(head.size()));
        }
    }
    for (auto& file : posix::list_directory(std::string(kLockDirectory), prefix_)) {
        if (file.ends_with(".lock")) names.push_back(file.substr(0, file.size() - 5));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const auto& name : names) {
        if (!subscriber_id_of(prefix_, name).empty()) examine_safely(name, true);
    }
    // Names known from before of which nothing is left: noted as gone (no probe needed).
    for (const auto& name : roster_.names()) {
        if (!std::binary_search(names.begin(), names.end(), name)) examine_safely(name, false);
    }
}

void Discovery::examine_safely(const std::string& name, bool from_scan) noexcept {
    try {
        examine(name, from_scan);
    } catch (const std::exception& e) {
        log(LogLevel::warn, "topic '{}': looking at buffer '{}' failed: {}", settings_.topic, name, e.what());
        retries_.erase(name);
    }
}

void Discovery::examine(const std::string& name, bool from_scan) {
    const std::string_view id = subscriber_id_of(prefix_, name);
    if (id.empty()) return;
    const SegmentKey key = segment_key(name);
    const std::optional<RecordView> record = roster_.record(name);
    if (record && record->attached) {
        if (record->attached_key == key) {
            retries_.erase(name);
            return;  // served
        }
        // Another buffer (or none) under the name: the one served was removed, which the
        // ownership rules allow only once its reader is gone.
        for (const auto& link : roster_.live_links()) {
            if (link->name == name && link->key != key) {
                roster_.condemn(link, SubscriberState::gone, "its buffer was removed (its reader is gone)");
            }
        }
    }
    if (record && record->leaving && record->attached_key == key) {
        // Its link is on its way out: only a dead reader's buffer needs anything (reclaiming).
        const BufferProbe probe = probe_buffer(name);
        if (probe.state == BufferState::stale || probe.state == BufferState::orphaned) {
            reclaim(name, id, probe.reader.pid);
        }
        return;
    }
    if (key.empty()) {
        retries_.erase(name);
        drained_since_.erase(name);
        if (record && !record->attached && record->state != SubscriberState::gone) {
            change(name, id, SubscriberState::gone, "its buffer was removed", {}, 0);
        }
        if (from_scan && probe_buffer(name).state == BufferState::orphaned) reclaim(name, id, 0);
        return;
    }
    if (record && !record->attached && record->key == key) {
        switch (record->state) {
            case SubscriberState::incompatible:
                return;  // the same buffer as before: nothing changed
            case SubscriberState::busy:
            case SubscriberState::invalid:
                if (!from_scan && !retries_.contains(name)) return;
                break;
            case SubscriberState::active:
            case SubscriberState::dropped:
            case SubscriberState::gone:
                break;
        }
    }

    const BufferProbe probe = probe_buffer(name);
    switch (probe.state) {
        case BufferState::absent:
            retries_.erase(name);
            return;
        case BufferState::creating:
            if (!retry_later(name)) retries_.erase(name);  // a creator that takes this long: wait for the listing
            return;
        case BufferState::stale:
        case BufferState::orphaned:
            reclaim(name, id, probe.reader.pid);
            return;
        case BufferState::half_created:
        case BufferState::foreign:
            retries_.erase(name);
            change(name, id, SubscriberState::invalid,
                   fmt::format("/dev/shm/{} is not a ZeroBuffer v1 buffer ({}); it is left alone", name,
                               probe.oieb_problem.empty() ? "not a regular file" : probe.oieb_problem),
                   key, probe.reader.pid);
            return;
        case BufferState::live:
        case BufferState::writer_gone:
            break;
    }
    if (probe.writer.state == PeerState::alive || probe.writer.state == PeerState::unknown) {
        // Another publisher (or another program) writes to it: refused as a second writer
        // would be, without mapping its ring to find out. Looked at again at each listing.
        retries_.erase(name);
        change(name, id, SubscriberState::busy,
               fmt::format("it already has a live writer (pid {}{})", probe.writer.pid,
                           probe.writer.process.empty() ? "" : ", " + probe.writer.process),
               key, probe.reader.pid);
        return;
    }
    if (record && !record->attached && record->key == key && record->state == SubscriberState::dropped) {
        // Taken back once it has read everything and stayed caught up for a while: long enough
        // for a reader waiting in read_frame to see the departure (it checks every 50 ms).
        if (!drained(probe)) {
            drained_since_.erase(name);
            return;
        }
        const auto since = drained_since_.try_emplace(name, Clock::now()).first->second;
        if (Clock::now() - since < kReadmitDelay) return;
        drained_since_.erase(name);
    }
    attach(name, id);
}

void Discovery::attach(const std::string& name, std::string_view id) {
    using Outcome = Admission::Outcome;
    const Admission a = admit_subscriber(name, id, settings_.writer, roster_);
    switch (a.outcome) {
        case Outcome::attached:
            retries_.erase(name);
            if (auto info = roster_.info(name)) report(*info);
            return;
        case Outcome::retry:
            if (!retry_later(name)) {
                retries_.erase(name);
                change(name, id, SubscriberState::invalid, a.reason, a.key, a.reader_pid);
            }
            return;
        case Outcome::reader_dead:
            reclaim(name, id, a.reader_pid);
            return;
        case Outcome::incompatible:
            retries_.erase(name);
            change(name, id, SubscriberState::incompatible, a.reason, a.key, a.reader_pid);
            return;
        case Outcome::busy:
            retries_.erase(name);
            change(name, id, SubscriberState::busy, a.reason, a.key, a.reader_pid);
            return;
        case Outcome::invalid:
            retries_.erase(name);
            change(name, id, SubscriberState::invalid, a.reason, a.key, a.reader_pid);
            return;
        case Outcome::absent:
            retries_.erase(name);
            return;
    }
}

void Discovery::reclaim(const std::string& name, std::string_view id, std::uint64_t reader_pid) {
    ReclaimOptions options;
    options.lock_grace = std::chrono::milliseconds(20);  // retried below rather than waited for here
    const ReclaimReport report = reclaim_if_stale(name, options);
    if (!report.done()) {
        if (!retry_later(name)) {
            retries_.erase(name);
            log(LogLevel::warn, "topic '{}': the buffer '{}' of a dead subscriber cannot be reclaimed yet: {}",
                settings_.topic, name, report.refused);
        }
        return;
    }
    retries_.erase(name);
    if (report.removed.empty()) return;
    log(LogLevel::info, "topic '{}': reclaimed the buffer '{}' of a dead subscriber (removed {})", settings_.topic,
        name, fmt::join(report.removed, ", "));
    change(name, id, SubscriberState::gone, "its reader died; its buffer was reclaimed", {}, reader_pid);
}

void Discovery::close_retired() {
    for (Retirement& r : roster_.take_retired()) {
        r.link->writer.close();  // its reader sees the writer gone once it has read what it holds
        roster_.settle(r);
        report(roster_.info_of(r));
        if (r.state == SubscriberState::gone) examine_safely(r.link->name, false);  // reclaim if stale
    }
}

void Discovery::check_links() {
    for (const auto& link : roster_.live_links()) {
        PeerStatus status = PeerStatus::alive;
        try {
            status = link->writer.health().reader.status;
        } catch (const ZeroBufferException&) {
            continue;
        }
        if (status != PeerStatus::dead && status != PeerStatus::absent) continue;
        roster_.condemn(link, SubscriberState::gone,
                        status == PeerStatus::absent ? "its reader closed the buffer" : "its reader died");
        examine_safely(link->name, false);  // reclaims it now, even while the publisher is idle
    }
}

bool Discovery::retry_later(const std::string& name) {
    const auto now = Clock::now();
    const auto [it, added] = retries_.try_emplace(name, now);
    return added || now - it->second < kRetryLimit;
}

void Discovery::change(const std::string& name, std::string_view id, SubscriberState state, std::string reason,
                       SegmentKey key, std::uint64_t reader_pid) {
    const std::optional<RecordView> before = roster_.record(name);
    roster_.note(name, id, state, std::move(reason), key, reader_pid);
    if (before && !before->attached && before->state == state && before->key == key) return;
    if (auto info = roster_.info(name)) report(*info);
}

void Discovery::report(const SubscriberInfo& info) const {
    if (info.state == SubscriberState::active) {
        log(LogLevel::info, "topic '{}': subscriber '{}' attached (reader pid {})", settings_.topic, info.buffer_name,
            info.reader_pid);
    } else {
        log(info.state == SubscriberState::gone ? LogLevel::info : LogLevel::warn,
            "topic '{}': subscriber '{}' is {}: {} ({} frames delivered, {} dropped)", settings_.topic,
            info.buffer_name, to_string(info.state), info.reason, info.frames_delivered, info.frames_dropped);
    }
    if (!settings_.on_change) return;
    try {
        settings_.on_change(info);
    } catch (...) {
        // documented: ignored
    }
}

}  // namespace zerobuffer::detail
