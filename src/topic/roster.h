// What a publisher knows about its subscriber buffers, shared by the publishing thread and the
// discovery thread: the links being handed over, the links to retire, a record per buffer name
// (for reports), and the topic's metadata. Every member function takes the one mutex except
// `attention`, the flag the publishing thread polls (one relaxed load per publish).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "topic/link.h"

namespace zerobuffer::detail {

// A link leaving the publishing thread's hands, and why.
struct Retirement {
    std::shared_ptr<Link> link;
    SubscriberState state = SubscriberState::gone;
    std::string reason;
};

// The last thing known about a buffer name that is not attached (for the discovery thread's
// decisions).
struct RecordView {
    SubscriberState state = SubscriberState::gone;
    SegmentKey key;
    bool attached = false;            // a live (not condemned) link serves it
    bool leaving = false;             // its link is condemned and not closed yet
    SegmentKey attached_key;          // the buffer that link serves
};

class Roster {
public:
    // `attention`: set when the publishing thread must call merge() (a link arrived or must
    // leave); it lives with the publishing thread's other per-frame state.
    Roster(std::atomic<bool>& attention_flag, std::function<void()> wake_discovery)
        : attention(attention_flag), wake_discovery_(std::move(wake_discovery)) {}

    std::atomic<bool>& attention;

    // ---- publishing thread ----
    // Takes the links handed over into `active` and moves condemned ones out to be retired.
    void merge(std::vector<std::shared_ptr<Link>>& active);
    // Hands links back to the discovery thread, which closes them and reports.
    void retire(std::vector<Retirement>& leaving);
    // The topic's metadata (see Publisher::set_metadata). Throws MetadataAlreadyWrittenException,
    // UsageException (after the first publish). Subscribers it does not suit are condemned.
    void set_metadata(std::span<const std::byte> metadata, std::string_view topic);
    // The first publish: from now on, no metadata means none. Condemns buffers holding some.
    void freeze();

    // ---- discovery thread ----
    // Hands a freshly attached link over, after settling its metadata with the topic's, and
    // returns nullopt; or returns why the buffer is incompatible (the link is not taken).
    std::optional<std::string> admit(const std::shared_ptr<Link>& link,
                                     std::optional<std::vector<std::byte>> found_metadata);
    // Makes a link leave at the publishing thread's next call (no effect if it already does).
    void condemn(const std::shared_ptr<Link>& link, SubscriberState state, std::string reason);
    std::vector<Retirement> take_retired();
    // Records what was found about a buffer name that has no live link.
    void note(const std::string& name, std::string_view id, SubscriberState state, std::string reason,
              SegmentKey key, std::uint64_t reader_pid);
    // Applies a retirement to the record of its name (if the link is still the name's link).
    void settle(const Retirement& retirement);
    std::optional<RecordView> record(const std::string& name) const;
    std::vector<std::shared_ptr<Link>> live_links() const;
    // Names of records whose state is `state`.
    std::vector<std::string> names_in(SubscriberState state) const;
    std::vector<std::string> names() const;
    SubscriberInfo info_of(const Retirement& retirement) const;
    std::optional<SubscriberInfo> info(const std::string& name) const;

    // ---- any thread ----
    std::size_t count() const;
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
    std::vector<SubscriberInfo> snapshot() const;

    // ---- close (discovery stopped) ----
    // Every link still held here (handed over, attached or waiting to be closed); records of
    // attached buffers become gone with `reason`.
    std::vector<std::shared_ptr<Link>> take_all(const std::string& reason);

private:
    struct Record {
        std::string id;
        SubscriberState state = SubscriberState::active;
        std::string reason;
        std::shared_ptr<Link> link;   // while attached
        SegmentKey key;
        std::uint64_t reader_pid = 0;
        std::uint64_t delivered = 0;  // kept once the link has left
        std::uint64_t dropped = 0;
        std::uint64_t stamp = 0;      // order of the last change, to prune old gone records
    };
    static constexpr std::size_t kGoneRecordsKept = 256;

    std::size_t count_locked() const;
    void condemn_locked(Link& link, SubscriberState state, std::string reason);
    SubscriberInfo info_locked(const std::string& name, const Record& record) const;
    void prune_locked();

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::function<void()> wake_discovery_;
    std::vector<std::shared_ptr<Link>> incoming_;
    std::vector<Retirement> retired_;
    std::map<std::string, Record> records_;
    std::uint64_t stamp_ = 0;
    std::optional<std::vector<std::byte>> metadata_;
    bool frozen_ = false;
};

}  // namespace zerobuffer::detail
