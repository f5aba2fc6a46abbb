// Publishing: one frame into every subscriber's ring, and zero-copy loans; the public
// forwarding functions of both live here, with the per-frame path, so that it inlines. With one
// subscriber that path adds to a plain Writer's call a few checks (prepare), one counter store,
// and for a loan the bookkeeping of the one pending loan; every failure is handled out of line.
#include <algorithm>
#include <chrono>
#include <exception>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "core/log.h"
#include "topic/publisher_impl.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {

using detail::Link;

void Publisher::Impl::reject(const void* data, std::size_t size) const {
    ensure_open();
    if (loan_ != nullptr) {
        throw UsageException(fmt::format("topic '{}': a loan of {} bytes is pending; commit or abandon it first", topic_,
                                         loan_->data_.size()));
    }
    if (size == 0) throw InvalidFrameSizeException(fmt::format("topic '{}': frames must not be empty (size 0)", topic_));
    if (data == nullptr) throw InvalidArgumentException(fmt::format("topic '{}': frame pointer is null", topic_));
    throw UsageException(fmt::format("topic '{}': a frame of {} bytes was refused", topic_, size));  // not reached
}

void Publisher::Impl::freeze() {
    roster_.freeze();
    frozen_ = true;
}

void Publisher::Impl::fail(std::size_t i, SubscriberState state, std::string reason) {
    failed_.push_back(i);
    leaving_.push_back({active_[i], state, std::move(reason)});
}

void Publisher::Impl::retire_failed() {
    std::sort(failed_.begin(), failed_.end());
    for (auto it = failed_.rbegin(); it != failed_.rend(); ++it) {
        active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    failed_.clear();
    roster_.retire(leaving_);
}

// What the exception in flight means for active_[i] (a frame of `size` bytes): it leaves, or
// (drop policy, a frame its ring can never hold) it misses the frame. Called from catch blocks.
void Publisher::Impl::on_failure(std::size_t i, std::size_t size) {
    Link& link = *active_[i];
    try {
        throw;
    } catch (const FrameTooLargeException& e) {
        if (!block_) {
            Link::count(link.dropped);
            if (!link.warned_too_large) {
                link.warned_too_large = true;
                detail::log(LogLevel::warn, "topic '{}': subscriber '{}' misses frames its ring cannot hold: {}", topic_,
                            link.name, e.what());
            }
            return;
        }
        fail(i, SubscriberState::dropped, fmt::format("its ring cannot hold a frame of {} bytes ({})", size, e.what()));
    } catch (const BufferFullException& e) {
        fail(i, SubscriberState::dropped,
             fmt::format("it stayed full for the write timeout of {} ms ({})", options_.write_timeout.count(), e.what()));
    } catch (const ReaderDeadException& e) {
        fail(i, SubscriberState::gone, e.what());
    } catch (const CorruptBufferException& e) {
        fail(i, SubscriberState::invalid, e.what());
    } catch (const ZeroBufferException& e) {
        fail(i, SubscriberState::gone, e.what());
    }
    // Anything else (std::bad_alloc) propagates: a failure of this process, not of the subscriber.
}

inline bool Publisher::Impl::deliver(std::size_t i, const void* data, std::size_t size) {
    Link& link = *active_[i];
    try {
        if (block_) {
            link.writer.write_frame(data, size);
        } else if (!link.writer.try_write_frame({static_cast<const std::byte*>(data), size}, std::chrono::milliseconds(0))) {
            Link::count(link.dropped);
            return false;
        }
    } catch (...) {
        on_failure(i, size);
        return false;
    }
    return true;
}

inline std::size_t Publisher::Impl::publish(const void* data, std::size_t size) {
    prepare(data, size);
    std::size_t got = 0;
    const std::size_t n = active_.size();
    for (std::size_t i = 0; i < n; ++i) got += deliver(i, data, size) ? 1 : 0;
    if (!failed_.empty()) [[unlikely]] retire_failed();
    count_published();
    return got;
}

// Reserves the loan's frame in active_[i]'s ring, in place. false: it has no room (drop
// policy; it misses the frame, counted at commit) or it failed (noted for retiring).
inline bool Publisher::Impl::reserve(std::size_t i, std::size_t size) {
    Writer& writer = active_[i]->writer;
    try {
        // The reservation there is invalid (committed or abandoned): its destructor would do
        // nothing, so its storage is simply reused.
        reservation_ = block_ ? ::new (reservation_storage_) FrameReservation(writer.acquire_frame(size))
                              : ::new (reservation_storage_)
                                    FrameReservation(writer.try_acquire_frame(size, std::chrono::milliseconds(0)));
    } catch (...) {
        reservation_ = ::new (reservation_storage_) FrameReservation();  // the throw ended the old one's life
        on_failure(i, size);
        return false;
    }
    return reservation_->valid();
}

// Every subscriber from `first` on in turn, until one has room; or the scratch buffer.
void Publisher::Impl::acquire_elsewhere(PublishLoan& loan, std::size_t first, std::size_t size) {
    std::size_t primary = first;
    while (primary < active_.size() && !reserve(primary, size)) ++primary;
    if (!failed_.empty()) {
        primary -= failed_.size();  // every failure was before the primary
        retire_failed();
    }
    loan_primary_ = primary;
    if (primary < active_.size()) {
        loan.data_ = reservation_->data();
    } else {
        if (scratch_.size() < size) scratch_.resize(size);
        loan.data_ = {scratch_.data(), size};
    }
}

inline PublishLoan Publisher::Impl::acquire(std::size_t size) {
    static const std::byte kAny{};
    prepare(&kAny, size);
    PublishLoan loan;
    if (!active_.empty() && reserve(0, size)) [[likely]] {  // the first subscriber has room
        loan_primary_ = 0;
        loan.data_ = reservation_->data();
    } else {
        acquire_elsewhere(loan, active_.empty() ? 0 : 1, size);
    }
    loan.owner_ = this;
    loan_ = &loan;  // follows the loan through its moves
    return loan;
}

// Commits the primary's reservation, then copies into the others; counts the misses.
std::size_t Publisher::Impl::commit_all(PublishLoan& loan) {
    const std::size_t primary = loan_primary_;
    const std::size_t n = active_.size();
    // Those before the primary had no room when the loan was made (drop policy): they miss it.
    for (std::size_t i = 0; i < primary && i < n; ++i) Link::count(active_[i]->dropped);
    std::size_t got = 0;
    if (primary < n) {
        try {
            reservation_->commit();
            got = 1;
        } catch (...) {
            if (reservation_->valid()) reservation_->abandon();
            on_failure(primary, loan.data_.size());
        }
        // The others copy from the primary's ring: only this thread writes there, and its
        // Writer stays mapped until the link is retired below.
        const std::span<const std::byte> bytes = loan.data_;
        for (std::size_t i = primary + 1; i < n; ++i) got += deliver(i, bytes.data(), bytes.size()) ? 1 : 0;
    }
    if (!failed_.empty()) retire_failed();
    return got;
}

inline std::size_t Publisher::Impl::commit(PublishLoan& loan) {
    if (loan_ != &loan) [[unlikely]] {
        throw UsageException(fmt::format("topic '{}': this loan is no longer pending", topic_));
    }
    loan_ = nullptr;
    loan.owner_ = nullptr;
    std::size_t got = 0;
    if (loan_primary_ == 0 && active_.size() == 1) [[likely]] {  // one subscriber: its ring, no copy
        try {
            reservation_->commit();
            got = 1;
        } catch (...) {
            if (reservation_->valid()) reservation_->abandon();
            on_failure(0, loan.data_.size());
            if (!failed_.empty()) retire_failed();
        }
    } else {
        got = commit_all(loan);
    }
    count_published();
    return got;
}

void Publisher::Impl::abandon(PublishLoan& loan) noexcept {
    if (loan_ == &loan) {
        loan_ = nullptr;
        reservation_->abandon();
    }
    loan.owner_ = nullptr;
}

// ---- public forwarding (here, so that the per-frame path inlines) ----

namespace {
[[noreturn]] void throw_moved_from() { throw ObjectClosedException("publisher was moved from"); }
}  // namespace

std::size_t Publisher::publish(std::span<const std::byte> frame) { return publish(frame.data(), frame.size()); }
std::size_t Publisher::publish(const void* data, std::size_t size) {
    if (!impl_) [[unlikely]] throw_moved_from();
    return impl_->publish(data, size);
}
PublishLoan Publisher::acquire_frame(std::size_t size) {
    if (!impl_) [[unlikely]] throw_moved_from();
    return impl_->acquire(size);
}

// ---- PublishLoan ----

PublishLoan::PublishLoan(PublishLoan&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), data_(other.data_) {
    if (owner_ != nullptr) owner_->follow(this);
}

PublishLoan& PublishLoan::operator=(PublishLoan&& other) noexcept {
    if (this != &other) {
        abandon();
        owner_ = std::exchange(other.owner_, nullptr);
        data_ = other.data_;
        if (owner_ != nullptr) owner_->follow(this);
    }
    return *this;
}

std::size_t PublishLoan::commit() {
    if (owner_ == nullptr) [[unlikely]] {
        throw UsageException("commit of a publish loan that is empty, already committed or abandoned, or whose "
                             "publisher was closed");
    }
    return owner_->commit(*this);
}

void PublishLoan::abandon() noexcept {
    if (owner_ != nullptr) owner_->abandon(*this);
}

}  // namespace zerobuffer
