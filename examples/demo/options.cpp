// zerobuffer demo: the command line.
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "demo.h"

namespace demo {

void usage(std::FILE* out) {
    std::fprintf(out,
        "usage: demo [options]\n"
        "  --seconds S         how long the writer streams (default 5)\n"
        "  --frame-size BYTES  frame size, >= 16 (default 3110400 = one 1080p RGB24 frame)\n"
        "  --ring-mib MIB      payload ring size in MiB (default 8: two 1080p frames)\n"
        "  --fps N             limit the writer to N frames/s (default 0 = unlimited)\n"
        "  --corrupt-every N   writer damages one byte in every Nth frame, to show detection\n"
        "  --role R            both (default), reader or writer\n"
        "  --name NAME         buffer name (default zbdemo_<pid> for both, zbdemo otherwise)\n"
        "  --connect-timeout S how long each side waits for the other (default 10)\n"
        "exit status: 0 all frames verified, 1 verification or stream error, 2 usage, 130 interrupted\n");
}

namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
    if constexpr (std::is_floating_point_v<T>) {
        char* end = nullptr;
        const std::string copy(text);
        const double v = std::strtod(copy.c_str(), &end);
        if (copy.empty() || *end != '\0' || !(v >= 0)) return false;
        out = v;
        return true;
    } else {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc{} && ptr == text.data() + text.size();
    }
}

}  // namespace

// Returns -1 to continue, otherwise the exit code.
int parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value;
        bool has_value = false;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        }
        if (!has_value) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "demo: %s needs a value\n", argv[i]);
                return 2;
            }
            value = argv[++i];
        }
        bool ok = true;
        if (arg == "--role") {
            o.role = value;
            ok = o.role == "both" || o.role == "reader" || o.role == "writer";
        } else if (arg == "--name") {
            o.name = value;
            ok = !o.name.empty();
        } else if (arg == "--seconds") {
            ok = parse_number(value, o.seconds);
        } else if (arg == "--frame-size") {
            ok = parse_number(value, o.frame_size) && o.frame_size >= kHeaderBytes;
        } else if (arg == "--ring-mib") {
            ok = parse_number(value, o.ring_mib) && o.ring_mib > 0 && o.ring_mib <= 1024 * 1024;
        } else if (arg == "--fps") {
            ok = parse_number(value, o.fps);
        } else if (arg == "--corrupt-every") {
            ok = parse_number(value, o.corrupt_every);
        } else if (arg == "--connect-timeout") {
            ok = parse_number(value, o.connect_timeout) && o.connect_timeout > 0;
        } else {
            std::fprintf(stderr, "demo: unknown option %.*s\n", static_cast<int>(arg.size()), arg.data());
            usage(stderr);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "demo: invalid value for %.*s: %.*s\n", static_cast<int>(arg.size()),
                         arg.data(), static_cast<int>(value.size()), value.data());
            return 2;
        }
    }
    return -1;
}

}  // namespace demo
