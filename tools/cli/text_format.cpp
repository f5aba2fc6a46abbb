#include "text_format.h"

#include <algorithm>
#include <cstdio>

namespace zbcli {

std::string human_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
    return buf;
}

std::string percent(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
    return buf;
}

std::string mode_text(unsigned mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
    return buf;
}

std::string peer_text(const zerobuffer::admin::PeerInfo& peer) {
    if (peer.pid == 0) return "-";
    std::string text = std::to_string(peer.pid) + " " + zerobuffer::to_string(peer.status);
    if (!peer.process.empty()) text += " (" + peer.process + ")";
    if (peer.zerobuffer) text += " [zb]";
    if (peer.pid_recycled) text += " recycled";
    return text;
}

std::string lock_holder_text(const zerobuffer::admin::LockInfo& lock) {
    if (!lock.holder_pid) return "-";
    std::string text = std::to_string(*lock.holder_pid);
    if (!lock.holder_process.empty()) text += " (" + lock.holder_process + ")";
    return text;
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> width(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
    };
    measure(header_);
    for (const auto& row : rows_) measure(row);
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        out << line << '\n';
    };
    emit(header_);
    for (const auto& row : rows_) emit(row);
}

}  // namespace zbcli
