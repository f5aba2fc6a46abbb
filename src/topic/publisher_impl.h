// Publisher internals shared by publisher.cpp (construction, metadata, queries, close, the
// public forwarding functions) and fanout.cpp (publishing and loans: the per-frame path).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "platform/posix/wakeup.h"
#include "topic/discovery.h"
#include "topic/link.h"
#include "topic/roster.h"
#include "zerobuffer/topic.h"

namespace zerobuffer {

class ZEROBUFFER_NO_EXPORT Publisher::Impl {
public:
    Impl(std::string topic, PublisherOptions options);
    ~Impl() {
        close();
        std::destroy_at(reservation_);
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // publisher.cpp
    void set_metadata(const void* data, std::size_t size);
    void close() noexcept;
    void ensure_open() const {
        if (!open_.load(std::memory_order_relaxed)) [[unlikely]] throw_closed();
    }
    [[noreturn]] void throw_closed() const;

    // fanout.cpp (publishing thread)
    std::size_t publish(const void* data, std::size_t size);
    PublishLoan acquire(std::size_t size);
    std::size_t commit(PublishLoan& loan);
    void abandon(PublishLoan& loan) noexcept;
    void follow(PublishLoan* loan) noexcept { loan_ = loan; }  // a loan moved

    // The per-frame state of the publishing thread first, in as few cache lines as possible.
    std::atomic<bool> open_{false};
    std::atomic<bool> attention_{false};       // Roster::attention: merge before the next frame
    std::atomic<std::uint64_t> published_{0};  // written by the publishing thread only

private:
    const bool block_;
    bool frozen_ = false;                                 // a frame was published: metadata is final
    PublishLoan* loan_ = nullptr;                         // the pending loan, following its moves
    std::size_t loan_primary_ = 0;                        // its subscriber in active_ (size(): none)
    FrameReservation* reservation_ = nullptr;             // the pending loan's reservation (below)
    std::vector<std::shared_ptr<detail::Link>> active_;   // the publishing thread's subscribers
    std::vector<std::size_t> failed_;                     // indexes into active_ that failed this call

public:
    const std::string topic_;
    const PublisherOptions options_;
    posix::Wakeup wakeup_;                      // wakes the discovery thread
    detail::Roster roster_;
    std::optional<detail::Discovery> discovery_;

private:
    // Refuses a frame that is empty or without data, or a call while a loan is pending; takes
    // the subscribers discovery handed over and lets go of condemned ones.
    void prepare(const void* data, std::size_t size) {
        if (!open_.load(std::memory_order_relaxed) || loan_ != nullptr || size == 0 || data == nullptr) [[unlikely]] {
            reject(data, size);
        }
        if (!frozen_) [[unlikely]] freeze();
        if (attention_.load(std::memory_order_relaxed)) [[unlikely]] roster_.merge(active_);
    }
    [[noreturn]] void reject(const void* data, std::size_t size) const;
    void freeze();
    // One copy into active_[i]'s ring under the policy; true if it got the frame. A subscriber
    // that fails is noted in leaving_ (retired by retire_failed, after the loop).
    bool deliver(std::size_t i, const void* data, std::size_t size);
    void fail(std::size_t i, SubscriberState state, std::string reason);
    // The exception being handled, about active_[i]: note the failure (or the drop). Cold.
    void on_failure(std::size_t i, std::size_t size);
    // Hands the failed links back (the callers check failed_ first: it is rarely non-empty).
    void retire_failed();
    void count_published() noexcept {
        published_.store(published_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    std::vector<detail::Retirement> leaving_;
    std::vector<std::byte> scratch_;                      // a loan's bytes when no subscriber has room
    // The pending loan's reservation in its subscriber's ring. It is made in place, never moved
    // (a FrameReservation move costs as much as the rest of a small frame's bookkeeping), and
    // left in place once committed or abandoned: invalid then, its destructor does nothing.
    bool reserve(std::size_t i, std::size_t size);
    void acquire_elsewhere(PublishLoan& loan, std::size_t first, std::size_t size);
    std::size_t commit_all(PublishLoan& loan);
    alignas(FrameReservation) std::byte reservation_storage_[sizeof(FrameReservation)];
};

}  // namespace zerobuffer
