#include "link_args.h"

#include <chrono>
#include <cstdlib>

#include "zerobuffer/log.h"

namespace zbbridge {

namespace bridge = zerobuffer::bridge;

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::string::size_type start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto end = comma == std::string::npos ? text.size() : comma;
        if (end > start) items.push_back(text.substr(start, end - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return items;
}

Local parse_local(const std::string& text, const std::string& option) {
    for (const auto& [prefix, kind] : {std::pair{std::string("buffer:"), bridge::LocalKind::buffer},
                                       std::pair{std::string("topic:"), bridge::LocalKind::topic}}) {
        if (text.starts_with(prefix) && text.size() > prefix.size()) return Local{kind, text.substr(prefix.size())};
    }
    throw zbtool::UsageError(option + " '" + text + "': expected buffer:NAME or topic:T");
}

void set_default_log_level(const zbtool::ArgParser& parser) {
    if (std::getenv("ZEROBUFFER_LOG_LEVEL") != nullptr) return;
    zerobuffer::set_log_level(parser.has("quiet") ? zerobuffer::LogLevel::error : zerobuffer::LogLevel::info);
}

void declare_link_options(zbtool::ArgParser& parser, Side side) {
    if (side == Side::send) {
        parser.option("", "to", "ENDPOINTS", "connect to these receivers, comma-separated tcp://HOST:PORT (each gets every frame)")
            .option("", "listen", "ENDPOINTS", "bind these (tcp://*:PORT) and send to every receiver that connects");
    } else {
        parser.option("", "listen", "ENDPOINTS", "bind these (tcp://*:PORT); senders connect")
            .option("", "connect", "ENDPOINTS", "connect to these senders (tcp://HOST:PORT), comma-separated");
    }
    parser.option("", "policy", "block|drop", "what to do when the other side cannot keep up", "block")
        .option("", "hwm", "N", "ZeroMQ high-water mark in frames per connection", side == Side::send ? "256" : "64")
        .option("", "heartbeat-ms", "MS", "ZeroMQ heartbeat interval", "1000")
        .option("", "heartbeat-timeout-ms", "MS", "a silent peer is dropped and reconnected after this", "5000")
        .option("", "curve-key", "FILE", "this side's CURVE key pair (zerobuffer-bridge keygen); turns on CURVE");
    if (side == Side::send) {
        parser.option("", "curve-server-key", "FILE", "the receiver's public key file (.pub), with --curve-key");
    } else {
        parser.option("", "curve-allow", "FILES", "public key files (.pub) of the senders let in, comma-separated "
                                                  "(default: any sender that knows this receiver's public key)");
    }
    parser.flag("", "json", "print the figures as one JSON object per line")
        .flag("q", "quiet", "print no figures (errors only)");
}

bridge::LinkOptions link_options(const zbtool::ArgParser& parser, Side side) {
    bridge::LinkOptions link;
    const auto add = [&](const std::string& option, bool bind) {
        if (!parser.has(option)) return;
        for (const std::string& text : split_list(parser.get(option))) link.endpoints.push_back(bridge::parse_endpoint(text, bind));
    };
    add("listen", true);
    add(side == Side::send ? "to" : "connect", false);
    if (link.endpoints.empty()) {
        throw zbtool::UsageError(side == Side::send ? "give --to ENDPOINTS or --listen ENDPOINTS"
                                                    : "give --listen ENDPOINTS or --connect ENDPOINTS");
    }
    const std::string policy = parser.get("policy");
    if (policy != "block" && policy != "drop") throw zbtool::UsageError("--policy '" + policy + "': expected block or drop");
    link.backpressure = policy == "block" ? bridge::Backpressure::block : bridge::Backpressure::drop;
    const int hwm = static_cast<int>(parser.get_int("hwm", 1, 1'000'000));
    if (side == Side::send) link.send_high_water_mark = hwm;
    else link.receive_high_water_mark = hwm;
    link.heartbeat_interval = std::chrono::milliseconds(parser.get_int("heartbeat-ms", 1, 3'600'000));
    link.heartbeat_timeout = std::chrono::milliseconds(parser.get_int("heartbeat-timeout-ms", 1, 3'600'000));
    if (parser.has("curve-key")) {
        bridge::CurveOptions curve;
        curve.own = bridge::read_curve_key_file(parser.get("curve-key"));
        if (curve.own.secret_key.empty()) {
            throw zbtool::UsageError("--curve-key '" + parser.get("curve-key") + "' has no secret key (give the .key file)");
        }
        if (side == Side::send) {
            if (!parser.has("curve-server-key")) throw zbtool::UsageError("--curve-key needs --curve-server-key RECEIVER.pub");
            curve.server_public_key = bridge::read_curve_key_file(parser.get("curve-server-key")).public_key;
        } else if (parser.has("curve-allow")) {
            for (const std::string& file : split_list(parser.get("curve-allow"))) {
                curve.allowed_client_keys.push_back(bridge::read_curve_key_file(file).public_key);
            }
        }
        link.curve = std::move(curve);
    } else if (parser.has(side == Side::send ? "curve-server-key" : "curve-allow")) {
        throw zbtool::UsageError("CURVE options need --curve-key FILE");
    }
    return link;
}

}  // namespace zbbridge
