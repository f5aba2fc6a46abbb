// JSON forms of the operations API's reports, shared by `ls`, `inspect`, `watch` and `cleanup`
// (docs/operations.md lists every key).
#pragma once

#include <vector>

#include "json_writer.h"
#include "zerobuffer/admin.h"

namespace zbcli {

zbtool::Json peer_json(const zerobuffer::admin::PeerInfo& peer);
zbtool::Json health_json(const zerobuffer::admin::HealthFigures& health);
zbtool::Json buffer_json(const zerobuffer::admin::BufferInfo& info);
zbtool::Json cleanup_json(const zerobuffer::admin::CleanupReport& report);
// {"buffers": [...], "leftovers": [...], "topics": [...], "summary": {...}}
zbtool::Json listing_json(const std::vector<zerobuffer::admin::BufferInfo>& infos);

// Leftovers: names without a segment, and temporary segments; the rest are buffers.
bool is_leftover(const zerobuffer::admin::BufferInfo& info) noexcept;

}  // namespace zbcli
