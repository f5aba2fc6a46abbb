// Frame contents, the producer child and the verifying consumer of the bridge tests.
#include <cmath>
#include <cstring>
#include <thread>

#include "bridge_harness.h"
#include "zerobuffer/exceptions.h"
#include "zerobuffer/writer.h"

namespace zbbridge_test {
namespace {

constexpr std::size_t kMaxFrame = 3'110'400;

std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

const std::vector<std::byte>& table() {
    static const std::vector<std::byte> bytes = [] {
        std::vector<std::byte> t(kMaxFrame + 256);
        for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::byte>((i * 131 + (i >> 9)) & 0xFF);
        return t;
    }();
    return bytes;
}

std::size_t log_uniform(std::uint64_t k, double low, double high) {
    const double unit = double(mix(k) >> 11) / double(1ULL << 53);
    return static_cast<std::size_t>(std::exp(std::log(low) + unit * (std::log(high) - std::log(low))));
}

}  // namespace

std::size_t frame_size(std::uint64_t k, Sizes sizes) {
    if (sizes == Sizes::full) {
        if (k == 0) return kMaxFrame;
        if (k == 1) return 1;
        return std::min(kMaxFrame, std::max<std::size_t>(1, log_uniform(k, 1, kMaxFrame + 1)));
    }
    return std::min<std::size_t>(16384, std::max<std::size_t>(8, log_uniform(k, 8, 16385)));
}

void fill_frame(std::uint64_t k, std::span<std::byte> out) {
    std::memcpy(out.data(), table().data() + k % 251, out.size());
    if (out.size() >= 8) std::memcpy(out.data(), &k, 8);
}

bool frame_matches(std::uint64_t k, std::span<const std::byte> data, Sizes sizes) {
    if (data.size() != frame_size(k, sizes)) return false;
    if (data.size() >= 8 && index_in(data) != k) return false;
    const std::size_t skip = data.size() >= 8 ? 8 : 0;
    return std::memcmp(data.data() + skip, table().data() + k % 251 + skip, data.size() - skip) == 0;
}

std::uint64_t index_in(std::span<const std::byte> data) {
    std::uint64_t k = 0;
    std::memcpy(&k, data.data(), 8);
    return k;
}

std::vector<std::byte> test_metadata(const std::string& tag) {
    const std::string text = "{\"format\": \"test\", \"tag\": \"" + tag + "\"}";
    std::vector<std::byte> bytes(text.size());
    std::memcpy(bytes.data(), text.data(), text.size());
    return bytes;
}

zerobuffer::test::Child start_producer(const ProducerPlan& plan) {
    return zerobuffer::test::Child([plan] {
        (void)table();
        zerobuffer::WriterOptions options;
        options.write_timeout = std::chrono::seconds(60);
        const auto attach = [&]() -> std::optional<zerobuffer::Writer> {
            const auto deadline = std::chrono::steady_clock::now() + 20s;
            while (std::chrono::steady_clock::now() < deadline) {
                try {
                    zerobuffer::Writer writer(plan.buffer, options);
                    if (!writer.metadata_written()) writer.set_metadata(plan.metadata);
                    return writer;
                } catch (const zerobuffer::ZeroBufferException&) {
                    std::this_thread::sleep_for(10ms);
                }
            }
            return std::nullopt;
        };
        auto writer = attach();
        if (!writer) return 3;
        for (std::uint64_t k = plan.first; k < plan.first + plan.count; ++k) {
            try {
                auto reservation = writer->acquire_frame(frame_size(k, plan.sizes));
                fill_frame(k, reservation.data());
                reservation.commit();
            } catch (const zerobuffer::ReaderDeadException&) {
                if (!plan.survive_reader_loss) return 4;
                writer.reset();
                writer = attach();
                if (!writer) return 5;
            }
            if (plan.gap.count() > 0) std::this_thread::sleep_for(plan.gap);
        }
        return 0;
    });
}

Consumer::Consumer(const std::string& buffer, std::size_t ring, Sizes sizes, std::vector<std::byte> metadata)
    : reader_(buffer, zerobuffer::BufferConfig{4096, ring, std::nullopt, std::nullopt}), sizes_(sizes),
      metadata_(std::move(metadata)) {}

bool Consumer::read_until(std::size_t count, std::chrono::milliseconds timeout) {
    return read_while([&] { return indices_.size() < count; }, timeout, timeout);
}

bool Consumer::read_until_last(std::uint64_t last, std::chrono::milliseconds timeout) {
    return read_while([&] { return indices_.empty() || indices_.back() != last; }, timeout, timeout);
}

void Consumer::drain(std::chrono::milliseconds quiet) { (void)read_while([] { return true; }, 10min, quiet); }

bool Consumer::read_while(const std::function<bool()>& more, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds quiet) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto last_frame = std::chrono::steady_clock::now();
    while (more()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline || now - last_frame >= quiet) return false;
        zerobuffer::Frame frame;
        try {
            frame = reader_.read_frame(20ms);
        } catch (const zerobuffer::WriterDeadException&) {
            if (writer_present_) ++writer_changes_;
            writer_present_ = false;
            std::this_thread::sleep_for(10ms);
            continue;
        }
        if (!frame) continue;
        last_frame = std::chrono::steady_clock::now();
        if (!writer_present_) {  // the first frame of a writer: the metadata must be there already
            writer_present_ = true;
            const auto metadata = reader_.metadata();
            if (metadata.size() != metadata_.size() || std::memcmp(metadata.data(), metadata_.data(), metadata.size()) != 0) {
                ++metadata_missing_;
            }
        }
        std::uint64_t k = 0;
        if (sizes_ == Sizes::full || frame.size() < 8) k = indices_.empty() ? 0 : indices_.back() + 1;
        else k = index_in(frame.data());
        if (!frame_matches(k, frame.data(), sizes_)) ++bad_;
        indices_.push_back(k);
    }
    return true;
}

std::uint64_t Consumer::missing() const {
    std::uint64_t missing = 0;
    for (std::size_t i = 1; i < indices_.size(); ++i) {
        if (indices_[i] > indices_[i - 1] + 1) missing += indices_[i] - indices_[i - 1] - 1;
    }
    return missing;
}

}  // namespace zbbridge_test
