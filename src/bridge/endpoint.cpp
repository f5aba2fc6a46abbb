// parse_endpoint and the validation of the bridge's options.
#include <charconv>
#include <string>

#include <fmt/format.h>

#include "zerobuffer/bridge.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge {
namespace {

[[noreturn]] void bad_endpoint(std::string_view text, std::string_view why) {
    throw InvalidArgumentException(fmt::format("endpoint '{}': {} (expected tcp://HOST:PORT, PORT 1..65535)", text, why));
}

}  // namespace

Endpoint parse_endpoint(std::string_view text, bool bind) {
    constexpr std::string_view scheme = "tcp://";
    if (!text.starts_with(scheme)) {
        const auto at = text.find("://");
        bad_endpoint(text, at == std::string_view::npos ? "no transport" : fmt::format("transport '{}' is not tcp", text.substr(0, at)));
    }
    const std::string_view rest = text.substr(scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) bad_endpoint(text, "no port");
    const std::string_view host = rest.substr(0, colon);
    const std::string_view port = rest.substr(colon + 1);
    if (host.empty()) bad_endpoint(text, "no host");
    if (host.front() == '[' && host.back() != ']') bad_endpoint(text, "unclosed '[' in the IPv6 address");
    for (const char c : host) {
        if (c == '/' || c == ' ' || c == '\t') bad_endpoint(text, fmt::format("character '{}' in the host", c));
    }
    if (!bind && host == "*") bad_endpoint(text, "a connecting side needs a host, not '*'");
    if (port.empty()) bad_endpoint(text, "no port");
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc{} || end != port.data() + port.size()) bad_endpoint(text, fmt::format("port '{}' is not a number", port));
    if (value < 1 || value > 65535) bad_endpoint(text, fmt::format("port {} is out of range", value));
    return Endpoint{std::string(text), bind};
}

}  // namespace zerobuffer::bridge
