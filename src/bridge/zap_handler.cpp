#include "bridge/zap_handler.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "bridge/log.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge::detail {

ZapHandler::ZapHandler(const Context& context, const std::vector<std::string>& allowed_keys, std::string who)
    : socket_(context, ZMQ_REP), who_(std::move(who)) {
    for (const std::string& key : allowed_keys) {
        std::array<std::uint8_t, 32> binary{};
        if (key.size() != 40 || zmq_z85_decode(binary.data(), key.c_str()) == nullptr) {
            throw InvalidArgumentException(fmt::format("{}: allowed client key '{}' is not 40 Z85 characters", who_, key));
        }
        allowed_.push_back(binary);
    }
    socket_.set(ZMQ_LINGER, 0, who_ + ": setting ZMQ_LINGER on the ZAP handler");
    if (zmq_bind(socket_.get(), "inproc://zeromq.zap.01") != 0) throw_zmq_error(who_ + ": binding the ZAP handler");
}

std::uint64_t ZapHandler::service() {
    std::uint64_t refused = 0;
    for (;;) {
        // Request: version, request id, domain, address, routing id, mechanism, credentials...
        std::vector<std::string> parts;
        for (bool more = true; more;) {
            Message part;
            if (zmq_msg_recv(part.get(), socket_.get(), parts.empty() ? ZMQ_DONTWAIT : 0) < 0) {
                if (parts.empty()) return refused;
                break;
            }
            const auto bytes = part.bytes();
            parts.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            more = part.more();
        }
        bool allowed = false;
        if (parts.size() >= 7 && parts[0] == "1.0" && parts[5] == "CURVE" && parts[6].size() == 32) {
            allowed = std::any_of(allowed_.begin(), allowed_.end(), [&](const auto& key) {
                return std::memcmp(key.data(), parts[6].data(), 32) == 0;
            });
        }
        if (!allowed) {
            ++refused;
            log(LogLevel::warn, "{}: refused a client whose CURVE key is not allowed (address {})", who_,
                parts.size() > 3 ? parts[3] : std::string("?"));
        }
        const std::string request_id = parts.size() > 1 ? parts[1] : std::string();
        const std::string status = allowed ? "200" : "400";
        const std::string text = allowed ? "OK" : "key not allowed";
        const std::string reply[] = {"1.0", request_id, status, text, "", ""};
        for (std::size_t i = 0; i < 6; ++i) {
            const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(reply[i].data()), reply[i].size());
            send_bytes(socket_.get(), bytes, i + 1 < 6 ? ZMQ_SNDMORE : 0, who_ + ": answering ZAP");
        }
    }
}

}  // namespace zerobuffer::bridge::detail
