// Helpers for the duplex tests: an error-event recorder, byte/string conversions, small configs.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zerobuffer/zerobuffer.h>

#include "test_support.h"

namespace zerobuffer::test::duplex {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::span<const std::byte> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline std::string text_of(const Frame& f) {
    return {reinterpret_cast<const char*>(f.data().data()), f.size()};
}

inline std::string text_of(std::span<const std::byte> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

inline double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// A unique channel name whose two buffers `names` removes at the end of the test.
inline std::string make_channel(NameScope& names, std::string_view base) {
    std::string channel = unique_name(base);
    names.adopt(request_buffer_name(channel));
    names.adopt(response_buffer_name(channel));
    return channel;
}

// Request ring for tests: 4096 B metadata, 1 MiB payload ("duplex default config", scenarios §0.5).
inline BufferConfig server_config(std::size_t payload = 1024 * 1024, std::size_t metadata = 4096) {
    BufferConfig c;
    c.metadata_size = metadata;
    c.payload_size = payload;
    return c;
}

// A small response ring so that tests stay light (the default is 256 MiB).
inline DuplexClientOptions client_options(std::size_t response_payload = 1024 * 1024,
                                          std::chrono::milliseconds connect_timeout = 3s) {
    DuplexClientOptions o;
    o.response_config.metadata_size = 4096;
    o.response_config.payload_size = response_payload;
    o.connect_timeout = connect_timeout;
    return o;
}

// Records the server's error events with their arrival time.
class ErrorLog {
public:
    struct Event {
        DuplexError error;
        Clock::time_point when;
    };

    ErrorHandler handler() {
        return [this](const DuplexError& e) {
            std::lock_guard lock(mutex_);
            events_.push_back({e, Clock::now()});
            cv_.notify_all();
        };
    }

    // Waits for the first event of `kind` not yet consumed by an earlier wait_for of that kind.
    std::optional<Event> wait_for(DuplexErrorKind kind, std::chrono::milliseconds timeout = 3s) {
        std::unique_lock lock(mutex_);
        std::optional<Event> found;
        cv_.wait_for(lock, timeout, [&] {
            std::size_t seen = 0;
            for (const auto& e : events_) {
                if (e.error.kind != kind) continue;
                if (seen++ == consumed_[kind]) {
                    found = e;
                    return true;
                }
            }
            return false;
        });
        if (found) ++consumed_[kind];
        return found;
    }

    std::size_t count(DuplexErrorKind kind) const {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& e : events_) n += e.error.kind == kind ? 1 : 0;
        return n;
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return events_.size();
    }

    std::string dump() const {
        std::lock_guard lock(mutex_);
        std::string out;
        for (const auto& e : events_) out += std::string(to_string(e.error.kind)) + ": " + e.error.message + "\n";
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Event> events_;
    std::map<DuplexErrorKind, std::size_t> consumed_;
};

// Echo handler, the primary form (ResponseWriter).
inline ResponseHandler echo_handler() {
    return [](const Frame& request, ResponseWriter& response) { response.write_frame(request.data()); };
}

// Echo handler with the peers' signature (start_with_writer).
inline WriterHandler writer_echo_handler() {
    return [](const Frame& request, Writer& response) { (void)response.write_frame(request.data()); };
}

// Server options for tests: the error log, everything else default.
inline DuplexServerOptions server_options(ErrorLog& log) {
    DuplexServerOptions o;
    o.on_error = log.handler();
    return o;
}

}  // namespace zerobuffer::test::duplex
