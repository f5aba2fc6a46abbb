// Round-trips one frame through an installed zerobuffer; exits nonzero on any mismatch.
#include <zerobuffer/zerobuffer.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <unistd.h>

int main() {
    const std::string name = "zbinstall_" + std::to_string(::getpid());
    try {
        zerobuffer::BufferConfig config;
        config.payload_size = 64 * 1024;
        zerobuffer::Reader reader(name, config);
        zerobuffer::Writer writer(name);

        std::vector<std::byte> sent(1000);
        for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<std::byte>(i * 7 + 3);
        const std::uint64_t sequence = writer.write_frame(sent);

        zerobuffer::Frame frame = reader.read_frame(std::chrono::seconds(5));
        if (!frame) {
            std::fprintf(stderr, "consumer: no frame arrived\n");
            return 1;
        }
        if (frame.sequence() != sequence || frame.size() != sent.size() ||
            std::memcmp(frame.data().data(), sent.data(), sent.size()) != 0) {
            std::fprintf(stderr, "consumer: the frame came back different\n");
            return 1;
        }
        std::printf("consumer: zerobuffer %s round-tripped %zu bytes\n", zerobuffer::kLibraryVersion, frame.size());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
}
