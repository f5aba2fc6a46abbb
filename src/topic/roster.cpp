#include "topic/roster.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/deadline.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::detail {
namespace {

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

// ---- publishing thread ----

void Roster::merge(std::vector<std::shared_ptr<Link>>& active) {
    bool retired = false;
    {
        std::lock_guard lock(mutex_);
        attention.store(false, std::memory_order_relaxed);
        for (auto& link : incoming_) active.push_back(std::move(link));
        incoming_.clear();
        for (auto it = active.begin(); it != active.end();) {
            Link& link = **it;
            if (!link.condemned.load(std::memory_order_relaxed)) {
                ++it;
                continue;
            }
            retired_.push_back({std::move(*it), link.condemned_as, link.condemned_because});
            it = active.erase(it);
            retired = true;
        }
    }
    if (retired) wake_discovery_();
}

void Roster::retire(std::vector<Retirement>& leaving) {
    if (leaving.empty()) return;
    {
        std::lock_guard lock(mutex_);
        for (auto& r : leaving) {
            r.link->condemned_as = r.state;
            r.link->condemned_because = r.reason;
            r.link->condemned.store(true, std::memory_order_relaxed);  // no longer counted
            retired_.push_back(std::move(r));
        }
    }
    leaving.clear();
    changed_.notify_all();
    wake_discovery_();
}

void Roster::set_metadata(std::span<const std::byte> metadata, std::string_view topic) {
    {
        std::lock_guard lock(mutex_);
        if (metadata_) {
            throw MetadataAlreadyWrittenException(fmt::format(
                "topic '{}': its metadata has already been set ({} bytes); it is set once per publisher", topic,
                metadata_->size()));
        }
        if (frozen_) {
            throw UsageException(fmt::format(
                "topic '{}': set_metadata after the first publish; subscribers must get the metadata before their "
                "first frame, so set it before publishing",
                topic));
        }
        metadata_.emplace(metadata.begin(), metadata.end());
        for (auto& [name, record] : records_) {
            Link* link = record.link.get();
            if (link == nullptr || link->condemned.load(std::memory_order_relaxed)) continue;
            if (link->found_metadata) {
                if (!same_bytes(*link->found_metadata, metadata)) {
                    condemn_locked(*link, SubscriberState::incompatible,
                                   fmt::format("it holds {} bytes of metadata written by an earlier publisher, "
                                               "different from this publisher's {} bytes",
                                               link->found_metadata->size(), metadata.size()));
                }
                continue;
            }
            try {
                link->writer.set_metadata(metadata);
            } catch (const ZeroBufferException& e) {  // too large for its block, or already written
                condemn_locked(*link, SubscriberState::incompatible, e.what());
            }
        }
    }
    changed_.notify_all();
}

void Roster::freeze() {
    {
        std::lock_guard lock(mutex_);
        frozen_ = true;
        if (metadata_) return;
        for (auto& [name, record] : records_) {
            Link* link = record.link.get();
            if (link == nullptr || !link->found_metadata || link->condemned.load(std::memory_order_relaxed)) continue;
            condemn_locked(*link, SubscriberState::incompatible,
                           fmt::format("it holds {} bytes of metadata written by an earlier publisher, and this "
                                       "publisher publishes without metadata",
                                       link->found_metadata->size()));
        }
    }
    changed_.notify_all();
}

// ---- discovery thread ----

std::optional<std::string> Roster::admit(const std::shared_ptr<Link>& link,
                                         std::optional<std::vector<std::byte>> found_metadata) {
    {
        std::lock_guard lock(mutex_);
        if (found_metadata) {
            if (metadata_ && !same_bytes(*found_metadata, *metadata_)) {
                return fmt::format("it holds {} bytes of metadata written by an earlier publisher, different from "
                                   "this publisher's {} bytes",
                                   found_metadata->size(), metadata_->size());
            }
            if (!metadata_ && frozen_) {
                return fmt::format("it holds {} bytes of metadata written by an earlier publisher, and this "
                                   "publisher publishes without metadata",
                                   found_metadata->size());
            }
            if (!metadata_) link->found_metadata = std::move(found_metadata);  // compared at set_metadata
        } else if (metadata_) {
            try {
                link->writer.set_metadata(*metadata_);
            } catch (const ZeroBufferException& e) {
                return std::string(e.what());
            }
        }
        Record& record = records_[link->name];
        record = Record{link->id, SubscriberState::active, {}, link, link->key, link->reader_pid, 0, 0, ++stamp_};
        incoming_.push_back(link);
        attention.store(true, std::memory_order_relaxed);
    }
    changed_.notify_all();
    return std::nullopt;
}

void Roster::condemn(const std::shared_ptr<Link>& link, SubscriberState state, std::string reason) {
    {
        std::lock_guard lock(mutex_);
        if (link->condemned.load(std::memory_order_relaxed)) return;
        condemn_locked(*link, state, std::move(reason));
    }
    changed_.notify_all();
}

void Roster::condemn_locked(Link& link, SubscriberState state, std::string reason) {
    link.condemned_as = state;
    link.condemned_because = std::move(reason);
    link.condemned.store(true, std::memory_order_relaxed);
    attention.store(true, std::memory_order_relaxed);
}

std::vector<Retirement> Roster::take_retired() {
    std::lock_guard lock(mutex_);
    return std::exchange(retired_, {});
}

void Roster::note(const std::string& name, std::string_view id, SubscriberState state, std::string reason,
                  SegmentKey key, std::uint64_t reader_pid) {
    std::lock_guard lock(mutex_);
    auto it = records_.find(name);
    if (it != records_.end() && it->second.link && !it->second.link->condemned.load(std::memory_order_relaxed)) {
        return;  // a live link serves the name: it is the truth
    }
    Record& record = records_[name];
    // A condemned link of the same subscriber leaves: its figures stay with the name.
    const bool same_buffer = record.link != nullptr && record.link->key == key;
    const bool leaving_now = record.link != nullptr && (same_buffer || key.empty());
    record.delivered = leaving_now ? record.link->delivered() : 0;
    record.dropped = leaving_now ? record.link->dropped.load(std::memory_order_relaxed) : 0;
    record.id = std::string(id);
    record.state = state;
    record.reason = std::move(reason);
    record.link.reset();
    record.key = key;
    record.reader_pid = reader_pid;
    record.stamp = ++stamp_;
    prune_locked();
}

void Roster::settle(const Retirement& r) {
    {
        std::lock_guard lock(mutex_);
        auto it = records_.find(r.link->name);
        if (it == records_.end() || it->second.link != r.link) return;  // the name serves another buffer now
        Record& record = it->second;
        record.state = r.state;
        record.reason = r.reason;
        record.delivered = r.link->delivered();
        record.dropped = r.link->dropped.load(std::memory_order_relaxed);
        record.link.reset();
        record.stamp = ++stamp_;
        prune_locked();
    }
    changed_.notify_all();
}

std::optional<RecordView> Roster::record(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = records_.find(name);
    if (it == records_.end()) return std::nullopt;
    const Record& r = it->second;
    RecordView view{r.state, r.key, false, false, {}};
    if (r.link) {
        view.attached = !r.link->condemned.load(std::memory_order_relaxed);
        view.leaving = !view.attached;
        view.attached_key = r.link->key;
    }
    return view;
}

std::vector<std::shared_ptr<Link>> Roster::live_links() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<Link>> links;
    for (const auto& [name, record] : records_) {
        if (record.link && !record.link->condemned.load(std::memory_order_relaxed)) links.push_back(record.link);
    }
    return links;
}

std::vector<std::string> Roster::names_in(SubscriberState state) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, record] : records_) {
        if (!record.link && record.state == state) names.push_back(name);
    }
    return names;
}

std::vector<std::string> Roster::names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, record] : records_) names.push_back(name);
    return names;
}

SubscriberInfo Roster::info_of(const Retirement& r) const {
    SubscriberInfo info;
    info.buffer_name = r.link->name;
    info.id = r.link->id;
    info.state = r.state;
    info.frames_delivered = r.link->delivered();
    info.frames_dropped = r.link->dropped.load(std::memory_order_relaxed);
    info.reader_pid = r.link->reader_pid;
    info.reason = r.reason;
    return info;
}

std::optional<SubscriberInfo> Roster::info(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = records_.find(name);
    if (it == records_.end()) return std::nullopt;
    return info_locked(name, it->second);
}

SubscriberInfo Roster::info_locked(const std::string& name, const Record& r) const {
    SubscriberInfo info;
    info.buffer_name = name;
    info.id = r.id;
    info.state = r.state;
    info.reason = r.reason;
    info.reader_pid = r.reader_pid;
    info.frames_delivered = r.delivered;
    info.frames_dropped = r.dropped;
    if (r.link) {
        info.frames_delivered = r.link->delivered();
        info.frames_dropped = r.link->dropped.load(std::memory_order_relaxed);
        if (r.link->condemned.load(std::memory_order_relaxed)) {
            info.state = r.link->condemned_as;
            info.reason = r.link->condemned_because;
        }
    }
    return info;
}

void Roster::prune_locked() {
    std::size_t gone = 0;
    for (const auto& [name, record] : records_) gone += !record.link && record.state == SubscriberState::gone;
    while (gone > kGoneRecordsKept) {
        auto oldest = records_.end();
        for (auto it = records_.begin(); it != records_.end(); ++it) {
            if (it->second.link || it->second.state != SubscriberState::gone) continue;
            if (oldest == records_.end() || it->second.stamp < oldest->second.stamp) oldest = it;
        }
        records_.erase(oldest);
        --gone;
    }
}

// ---- any thread ----

std::size_t Roster::count_locked() const {
    std::size_t n = 0;
    for (const auto& [name, record] : records_) {
        n += record.link && !record.link->condemned.load(std::memory_order_relaxed);
    }
    return n;
}

std::size_t Roster::count() const {
    std::lock_guard lock(mutex_);
    return count_locked();
}

bool Roster::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    using Clock = std::chrono::steady_clock;
    const auto deadline = deadline_after<Clock>(Clock::now(), timeout);  // saturating: any timeout works
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return count_locked() >= n; });
}

std::vector<SubscriberInfo> Roster::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<SubscriberInfo> all;
    all.reserve(records_.size());
    for (const auto& [name, record] : records_) all.push_back(info_locked(name, record));
    return all;
}

// ---- close ----

std::vector<std::shared_ptr<Link>> Roster::take_all(const std::string& reason) {
    std::vector<std::shared_ptr<Link>> links;
    {
        std::lock_guard lock(mutex_);
        for (auto& link : incoming_) links.push_back(std::move(link));
        incoming_.clear();
        for (auto& r : retired_) links.push_back(std::move(r.link));
        retired_.clear();
        for (auto& [name, record] : records_) {
            if (!record.link) continue;
            links.push_back(record.link);
            record.state = record.link->condemned.load(std::memory_order_relaxed) ? record.link->condemned_as
                                                                                  : SubscriberState::gone;
            record.reason = record.link->condemned.load(std::memory_order_relaxed) ? record.link->condemned_because
                                                                                   : reason;
            record.delivered = record.link->delivered();
            record.dropped = record.link->dropped.load(std::memory_order_relaxed);
            record.link.reset();
        }
        attention.store(false, std::memory_order_relaxed);
    }
    changed_.notify_all();
    return links;
}

}  // namespace zerobuffer::detail
