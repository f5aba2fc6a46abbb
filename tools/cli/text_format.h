// Text output of the zerobuffer command: sizes, percentages, peers and aligned tables.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "zerobuffer/admin.h"

namespace zbcli {

std::string human_bytes(std::uint64_t bytes);     // "512 B", "4.0 KiB", "64.0 MiB", "2.0 GiB"
std::string percent(double fraction);             // "12.5%"
std::string mode_text(unsigned mode);             // "0600"
// "4242 alive (python3)", "4242 dead", "-" when absent; "[zb]" for a zerobuffer liveness lock,
// "recycled" when the PID now names a younger process.
std::string peer_text(const zerobuffer::admin::PeerInfo& peer);
// "4242 (python3)" or "-".
std::string lock_holder_text(const zerobuffer::admin::LockInfo& lock);

// Columns padded to their widest cell, two spaces apart; the last column is not padded.
class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const noexcept { return rows_.empty(); }
    void print(std::ostream& out) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace zbcli
