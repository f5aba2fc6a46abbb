// Shared declarations of the zerobuffer_native extension: one bind_* function per source file,
// and the conversions every file needs (timeouts, buffer configurations, bytes-like arguments).
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

#include <zerobuffer/zerobuffer.h>

namespace nb = nanobind;

namespace zbpy {

void bind_errors(nb::module_& m);
void bind_health(nb::module_& m);
void bind_frame(nb::module_& m);
void bind_region(nb::module_& m);
void bind_reader(nb::module_& m);
void bind_writer(nb::module_& m);
void bind_handler_writer(nb::module_& m);
void bind_duplex_client(nb::module_& m);
void bind_duplex_server(nb::module_& m);

// A timeout given in seconds (int or float), as the peers take it. nullopt for None (wait for
// ever). Negative values are passed on as negative milliseconds, so that the C++ library
// refuses them with its own message. TypeError for anything else.
std::optional<std::chrono::milliseconds> seconds_to_ms(nb::handle timeout);
// The same for a timedelta or a number of seconds (Writer.write_timeout).
std::chrono::milliseconds duration_to_ms(nb::handle value);

// A BufferConfig from any object with metadata_size and payload_size attributes (ours or the
// zerobuffer-ipc dataclass) and optional permissions / group; None gives the defaults.
zerobuffer::BufferConfig config_from(nb::handle config);

// A contiguous read-only view of any bytes-like object, held for the object's lifetime.
class BytesArg {
public:
    explicit BytesArg(nb::handle object);
    ~BytesArg();
    BytesArg(const BytesArg&) = delete;
    BytesArg& operator=(const BytesArg&) = delete;
    std::span<const std::byte> span() const noexcept {
        return {static_cast<const std::byte*>(view_.buf), static_cast<std::size_t>(view_.len)};
    }

private:
    Py_buffer view_{};
};

// The health snapshot as a dict (health.cpp).
nb::dict health_dict(const zerobuffer::BufferHealth& health);

}  // namespace zbpy
