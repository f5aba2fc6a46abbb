// MD5 (RFC 1321), only for the --checksum output that the upstream cross-platform readers print
// (MD5 hex of the first 100 frames). Not for anything security related.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace interop {

class Md5 {
public:
    Md5() noexcept;
    void update(const void* data, std::size_t size) noexcept;
    std::array<std::uint8_t, 16> finish() noexcept;
    static std::string hex(const void* data, std::size_t size);

private:
    void block(const std::uint8_t* p) noexcept;
    std::uint32_t h_[4];
    std::uint64_t length_ = 0;  // bytes processed
    std::uint8_t buffer_[64];
    std::size_t used_ = 0;
};

}  // namespace interop
