// Publishing: one frame into every subscriber's ring, and zero-copy loans. The per-frame path
// of a Publisher with one subscriber is prepare() (three relaxed loads and a compare), one
// Writer call and one counter store: within a few nanoseconds of a plain Writer.
#include <algorithm>
#include <chrono>

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
    if (failed_.empty()) [[likely]] return;
    std::sort(failed_.begin(), failed_.end());
    for (auto it = failed_.rbegin(); it != failed_.rend(); ++it) {
        active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    failed_.clear();
    roster_.retire(leaving_);
}

bool Publisher::Impl::deliver(std::size_t i, const void* data, std::size_t size) {
    Link& link = *active_[i];
    try {
        if (block_) {
            link.writer.write_frame(data, size);
        } else if (!link.writer.try_write_frame({static_cast<const std::byte*>(data), size}, std::chrono::milliseconds(0))) {
            Link::count(link.dropped);
            return false;
        }
        Link::count(link.delivered);
        return true;
    } catch (const BufferFullException& e) {
        fail(i, SubscriberState::dropped,
             fmt::format("it stayed full for the write timeout of {} ms ({})", options_.write_timeout.count(), e.what()));
    } catch (const FrameTooLargeException& e) {
        if (!block_) {
            Link::count(link.dropped);
            if (!link.warned_too_large) {
                link.warned_too_large = true;
                detail::log(LogLevel::warn, "topic '{}': subscriber '{}' misses frames its ring cannot hold: {}", topic_,
                            link.name, e.what());
            }
            return false;
        }
        fail(i, SubscriberState::dropped, fmt::format("its ring cannot hold a frame of {} bytes ({})", size, e.what()));
    } catch (const ReaderDeadException& e) {
        fail(i, SubscriberState::gone, e.what());
    } catch (const CorruptBufferException& e) {
        fail(i, SubscriberState::invalid, e.what());
    } catch (const ZeroBufferException& e) {
        fail(i, SubscriberState::gone, e.what());
    }
    return false;
}

std::size_t Publisher::Impl::publish(const void* data, std::size_t size) {
    prepare(data, size);
    std::size_t got = 0;
    const std::size_t n = active_.size();
    for (std::size_t i = 0; i < n; ++i) got += deliver(i, data, size) ? 1 : 0;
    retire_failed();
    count_published();
    return got;
}

PublishLoan Publisher::Impl::acquire(std::size_t size) {
    static const std::byte kAny{};
    prepare(&kAny, size);
    PublishLoan loan;
    const Link* primary = nullptr;
    for (std::size_t i = 0; i < active_.size() && primary == nullptr; ++i) {
        Link& link = *active_[i];
        try {
            FrameReservation r = block_ ? link.writer.acquire_frame(size)
                                        : link.writer.try_acquire_frame(size, std::chrono::milliseconds(0));
            if (!r) continue;  // drop policy, full: it misses this frame (counted at commit)
            loan.reservation_ = std::move(r);
            primary = &link;
        } catch (const FrameTooLargeException& e) {
            if (!block_) continue;  // misses it, as a full one does
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
    }
    retire_failed();
    loan_primary_ = active_.size();
    for (std::size_t i = 0; i < active_.size(); ++i) {
        if (active_[i].get() == primary) loan_primary_ = i;
    }
    if (primary != nullptr) {
        loan.data_ = loan.reservation_.data();
    } else {
        if (scratch_.size() < size) scratch_.resize(size);
        loan.data_ = {scratch_.data(), size};
    }
    loan.owner_ = this;
    loan_ = &loan;  // follows the loan through its moves
    return loan;
}

std::size_t Publisher::Impl::commit(PublishLoan& loan) {
    ensure_open();
    if (loan_ != &loan) throw UsageException(fmt::format("topic '{}': this loan is no longer pending", topic_));
    const std::span<const std::byte> bytes = loan.data_;
    const std::size_t primary = loan_primary_;
    loan_ = nullptr;
    loan.owner_ = nullptr;
    // Those before the primary had no room when the loan was made (drop policy): they miss it.
    for (std::size_t i = 0; i < std::min(primary, active_.size()); ++i) Link::count(active_[i]->dropped);
    std::size_t got = 0;
    if (primary < active_.size()) {
        Link& link = *active_[primary];
        try {
            loan.reservation_.commit();
            Link::count(link.delivered);
            ++got;
        } catch (const ReaderDeadException& e) {
            fail(primary, SubscriberState::gone, e.what());
        } catch (const ZeroBufferException& e) {
            fail(primary, SubscriberState::gone, e.what());
        }
        // The others copy from the primary's ring: only this thread writes there, and its
        // Writer stays mapped until the link is retired below.
        for (std::size_t i = primary + 1; i < active_.size(); ++i) got += deliver(i, bytes.data(), bytes.size()) ? 1 : 0;
    }
    retire_failed();
    count_published();
    return got;
}

void Publisher::Impl::abandon(PublishLoan& loan) noexcept {
    if (loan_ == &loan) loan_ = nullptr;
    loan.reservation_.abandon();
    loan.owner_ = nullptr;
}

// ---- PublishLoan ----

PublishLoan::PublishLoan(PublishLoan&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), reservation_(std::move(other.reservation_)), data_(other.data_) {
    if (owner_ != nullptr) owner_->follow(this);
}

PublishLoan& PublishLoan::operator=(PublishLoan&& other) noexcept {
    if (this != &other) {
        abandon();
        owner_ = std::exchange(other.owner_, nullptr);
        reservation_ = std::move(other.reservation_);
        data_ = other.data_;
        if (owner_ != nullptr) owner_->follow(this);
    }
    return *this;
}

PublishLoan::~PublishLoan() { abandon(); }

std::size_t PublishLoan::commit() {
    if (owner_ == nullptr) {
        throw UsageException("commit of a publish loan that is empty, already committed or abandoned, or whose "
                             "publisher was closed");
    }
    return owner_->commit(*this);
}

void PublishLoan::abandon() noexcept {
    if (owner_ != nullptr) owner_->abandon(*this);
}

}  // namespace zerobuffer
