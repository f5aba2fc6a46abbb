// The duplex client's implementation class (not installed), shared by
//   client_connection.cpp  connect, reconnect, losing the server, close, the liveness query
//   client.cpp             send, zero-copy reservations, receive, metadata, public forwarding
//
// Threads. The owning thread (the one using the client) is the only one that replaces or
// destroys request_ and response_, and it does so under objects_mutex_; other threads only look
// at them (is_server_connected) under that mutex. So the owner reads them without the lock and
// a query never sees an object being destroyed. The counters and state_ are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "duplex/common.h"
#include "zerobuffer/duplex/client.h"
#include "zerobuffer/reader.h"
#include "zerobuffer/writer.h"

namespace zerobuffer {

class ZEROBUFFER_NO_EXPORT DuplexClient::Impl {
public:
    Impl(std::string channel, DuplexClientOptions options);
    ~Impl() { close(); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // Owning thread.
    std::uint64_t send(std::span<const std::byte> data);
    std::span<std::byte> acquire(std::size_t size);  // reserves pending_frame_
    std::uint64_t commit();                          // sends pending_frame_
    void abandon() noexcept;                         // drops pending_frame_
    void track(RequestReservation* handle) noexcept { handle_ = handle; }  // the handle moved (or is new)
    Frame receive(std::chrono::milliseconds timeout);
    void set_metadata(std::span<const std::byte> metadata);
    void close() noexcept;

    // Any thread.
    bool server_connected() const noexcept;
    bool is_open() const noexcept { return state_.load(std::memory_order_acquire) != State::closed; }

    const std::string channel_;
    const std::string request_name_;
    const std::string response_name_;
    std::atomic<std::uint64_t> pending_{0};  // sent in this connection, response not yet received
    std::atomic<std::uint64_t> reconnects_{0};

private:
    enum class State { connected, lost, closed };

    void ensure_open() const;
    void ensure_nothing_pending() const;
    // client_connection.cpp
    void connect();
    std::optional<Reader> create_response_buffer(detail::DuplexClock::time_point deadline);
    void write_metadata();
    void prepare_send();
    void lose_connection() noexcept;
    bool server_alive() const;
    void drop_pending_frame() noexcept;
    [[noreturn]] void throw_lost_on_send(const char* how);
    template <class T>
    void replace(std::optional<T>& slot, std::optional<T> value) noexcept;
    template <class F>
    auto with_reconnect(F&& attempt) -> decltype(attempt());

    DuplexClientOptions options_;
    std::optional<std::vector<std::byte>> metadata_;

    mutable std::mutex objects_mutex_;  // see the comment at the top
    std::optional<Reader> response_;
    std::optional<Writer> request_;
    std::atomic<State> state_{State::lost};
    mutable std::atomic<bool> suspect_{false};  // is_server_connected() saw the server gone: check before sending

    FrameReservation pending_frame_;          // the request being filled in place, if any
    RequestReservation* handle_ = nullptr;    // the RAII handle on pending_frame_, if it was given one
    std::uint64_t sent_in_connection_ = 0;
    detail::DuplexClock::time_point last_contact_{};
    bool ever_connected_ = false;
};

// Swaps `value` into `slot` under objects_mutex_; the old object is destroyed after the lock is
// released (a query can no longer reach it).
template <class T>
void DuplexClient::Impl::replace(std::optional<T>& slot, std::optional<T> value) noexcept {
    {
        std::lock_guard lock(objects_mutex_);
        slot.swap(value);
    }
}

}  // namespace zerobuffer
