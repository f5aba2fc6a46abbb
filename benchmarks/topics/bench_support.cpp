// bench_topics: names, rings, frame content and clean-up shared by the measurements.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "bench_topics.h"

namespace bench_topics {

std::string g_tag;
namespace {
int g_serial = 0;
}  // namespace

std::string fresh_name(const char* what) {
    std::string name = g_tag;
    name += '_';
    name += what;
    name += std::to_string(++g_serial);
    return name;
}

BufferConfig ring_for(std::size_t frame, std::size_t frames) {
    BufferConfig c;
    c.metadata_size = 256;
    c.payload_size = (frame + 16) * frames + 4096;
    return c;
}

void fill(std::span<std::byte> out, std::uint64_t k) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>((k + i) & 0xFF);
}
bool check(std::span<const std::byte> in, std::uint64_t k, Mode mode) {
    const std::uint64_t base = mode == Mode::copy ? 0 : k;
    if (in.empty() || in[0] != static_cast<std::byte>(k & 0xFF)) return false;
    for (std::size_t i = 1; i < in.size(); i += 61) {
        if (in[i] != static_cast<std::byte>((base + i) & 0xFF)) return false;
    }
    return in.back() == static_cast<std::byte>((base + in.size() - 1) & 0xFF);
}

int sweep() {
    int removed = 0;
    for (const char* dir : {"/dev/shm", "/tmp/zerobuffer"}) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().filename().string().find(g_tag) == std::string::npos) continue;
            std::filesystem::remove(entry.path(), ec);
            ++removed;
        }
    }
    return removed;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<std::size_t> parse_list(const char* text) {
    std::vector<std::size_t> out;
    for (const char* p = text; *p != '\0';) {
        char* end = nullptr;
        out.push_back(std::strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p != '\0') break;
    }
    return out;
}

}  // namespace bench_topics
