// Checks of the options shared by Sender and Receiver. Internal to the bridge.
#pragma once

#include <string_view>

#include "zerobuffer/bridge.h"

namespace zerobuffer::bridge::detail {

// Throws InvalidArgumentException naming `role` ("sender cam0"), the option and its value.
void validate(const LinkOptions& link, std::string_view role);

}  // namespace zerobuffer::bridge::detail
