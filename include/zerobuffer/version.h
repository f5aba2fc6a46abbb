#pragma once

#define ZEROBUFFER_VERSION_MAJOR 1
#define ZEROBUFFER_VERSION_MINOR 0
#define ZEROBUFFER_VERSION_PATCH 0

namespace zerobuffer {
inline constexpr const char* kLibraryVersion = "1.0.0";
}
