// Names of the policies and the checks of LinkOptions shared by Sender and Receiver.
#include "bridge/options.h"

#include <fmt/format.h>

#include "zerobuffer/admin.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/topic.h"

namespace zerobuffer::bridge {

const char* to_string(Backpressure policy) noexcept {
    return policy == Backpressure::block ? "block" : "drop";
}

namespace detail {
namespace {

void require_positive(std::string_view role, std::string_view what, long long value) {
    if (value <= 0) throw InvalidArgumentException(fmt::format("{}: {} must be > 0 (got {})", role, what, value));
}

}  // namespace

void validate(const LinkOptions& link, std::string_view role) {
    if (link.endpoints.empty()) {
        throw InvalidArgumentException(fmt::format("{}: no endpoint to bind or connect", role));
    }
    for (const Endpoint& endpoint : link.endpoints) (void)parse_endpoint(endpoint.address, endpoint.bind);
    require_positive(role, "send high-water mark", link.send_high_water_mark);
    require_positive(role, "receive high-water mark", link.receive_high_water_mark);
    require_positive(role, "heartbeat interval (ms)", link.heartbeat_interval.count());
    require_positive(role, "reconnect interval (ms)", link.reconnect_interval.count());
    if (link.heartbeat_timeout < link.heartbeat_interval) {
        throw InvalidArgumentException(fmt::format("{}: heartbeat timeout {} ms is shorter than the interval {} ms", role,
                                                   link.heartbeat_timeout.count(), link.heartbeat_interval.count()));
    }
    if (link.reconnect_interval_max < link.reconnect_interval) {
        throw InvalidArgumentException(fmt::format("{}: reconnect maximum {} ms is below the interval {} ms", role,
                                                   link.reconnect_interval_max.count(), link.reconnect_interval.count()));
    }
    if (link.linger.count() < 0) {
        throw InvalidArgumentException(fmt::format("{}: linger must be >= 0 (got {} ms)", role, link.linger.count()));
    }
}

std::string checked_local(std::string_view role, LocalKind kind, const std::string& name) {
    if (kind == LocalKind::topic) {
        validate_topic_name(name);
        return fmt::format("bridge {} topic '{}'", role, name);
    }
    admin::validate_buffer_name(name);
    return fmt::format("bridge {} '{}'", role, name);
}

}  // namespace detail
}  // namespace zerobuffer::bridge
