#include "live_figures.h"

#include <cstdio>

#include "json_writer.h"

namespace zbbridge {

std::string figures_line(const std::string& label, const zerobuffer::bridge::BridgeStats& now,
                         const zerobuffer::bridge::BridgeStats& before, double seconds, FiguresFormat format, bool final) {
    const double frames_per_s = seconds > 0 ? double(now.frames - before.frames) / seconds : 0.0;
    const double mb_per_s = seconds > 0 ? double(now.bytes - before.bytes) / seconds / 1e6 : 0.0;
    if (format == FiguresFormat::json) {
        zbtool::Json json;
        json.field("bridge", label).field("final", final).field("frames_per_s", frames_per_s).field("mb_per_s", mb_per_s)
            .field("frames", now.frames).field("bytes", now.bytes).field("dropped", now.dropped).field("gaps", now.gaps)
            .field("gap_events", now.gap_events).field("connections", now.connections).field("reconnects", now.reconnects)
            .field("disconnects", now.disconnects).field("peers", now.peers).field("metadata_sent", now.metadata_sent)
            .field("metadata_received", now.metadata_received).field("rejected", now.rejected)
            .field("oversized", now.oversized).field("handshake_failures", now.handshake_failures)
            .field("streams", now.streams).field("local_peer_losses", now.local_peer_losses)
            .field("local_attached", now.local_attached);
        return json.str();
    }
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s%s: %.0f frames/s, %.1f MB/s | frames %llu, drops %llu, gaps %llu, reconnects %llu, rejected %llu",
                  label.c_str(), final ? " (final)" : "", frames_per_s, mb_per_s,
                  static_cast<unsigned long long>(now.frames), static_cast<unsigned long long>(now.dropped),
                  static_cast<unsigned long long>(now.gaps), static_cast<unsigned long long>(now.reconnects),
                  static_cast<unsigned long long>(now.rejected));
    return line;
}

LiveFigures::LiveFigures(std::function<zerobuffer::bridge::BridgeStats()> source, std::string label, FiguresFormat format)
    : source_(std::move(source)), label_(std::move(label)), format_(format), start_(std::chrono::steady_clock::now()) {
    if (format_ != FiguresFormat::none) thread_ = std::thread([this] { loop(); });
}

LiveFigures::~LiveFigures() { stop(); }

void LiveFigures::loop() {
    auto before = source_();
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
        const auto now_stats = source_();
        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - last).count();
        std::fprintf(stderr, "%s\n", figures_line(label_, now_stats, before, seconds, format_, false).c_str());
        std::fflush(stderr);
        before = now_stats;
        last = now;
    }
}

void LiveFigures::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        stopped_ = stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (format_ == FiguresFormat::none) return;
    const auto stats = source_();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "%s\n", figures_line(label_, stats, {}, seconds, format_, true).c_str());
    std::fflush(stderr);
}

FiguresFormat figures_format(bool quiet, bool json) {
    return quiet ? FiguresFormat::none : json ? FiguresFormat::json : FiguresFormat::text;
}

}  // namespace zbbridge
