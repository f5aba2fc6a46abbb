// Command-line options shared by `send` and `recv`: endpoints, policy, high-water marks,
// heartbeats, CURVE keys, and the figures' format.
#pragma once

#include <string>
#include <vector>

#include "arg_parser.h"
#include "zerobuffer/bridge.h"

namespace zbbridge {

enum class Side { send, recv };

// Declares the shared options on `parser`.
void declare_link_options(zbtool::ArgParser& parser, Side side);
// Fills LinkOptions from the parsed command line. Throws zbtool::UsageError (bad values) and
// what parse_endpoint / read_curve_key_file throw.
zerobuffer::bridge::LinkOptions link_options(const zbtool::ArgParser& parser, Side side);
// "buffer:NAME" or "topic:T". Throws UsageError naming the option and the text.
struct Local {
    zerobuffer::bridge::LocalKind kind = zerobuffer::bridge::LocalKind::buffer;
    std::string name;
};
Local parse_local(const std::string& text, const std::string& option);
// The program logs at info level (connections, gaps, rejected input, the local buffer's state) on
// standard error, at error level with --quiet; ZEROBUFFER_LOG_LEVEL, when set, wins.
void set_default_log_level(const zbtool::ArgParser& parser);
// Splits "a,b,c".
std::vector<std::string> split_list(const std::string& text);

}  // namespace zbbridge
