// Checks of the options shared by Sender and Receiver. Internal to the bridge.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "zerobuffer/bridge.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge::detail {

// Throws InvalidArgumentException naming `role` ("sender cam0"), the option and its value.
void validate(const LinkOptions& link, std::string_view role);

// Checks the local name (a buffer name, or a topic name) and returns how the bridge names itself
// in messages: "bridge sender 'cam0'", "bridge receiver topic 'frames'". `role` is "sender" or
// "receiver". Throws InvalidNameException.
std::string checked_local(std::string_view role, LocalKind kind, const std::string& name);

// The implementation behind a Sender or Receiver; throws ObjectClosedException naming `what`
// ("bridge sender") once it was moved from.
template <class Impl>
Impl& live(const std::unique_ptr<Impl>& impl, const char* what) {
    if (!impl) throw ObjectClosedException(std::string(what) + ": used after a move");
    return *impl;
}

}  // namespace zerobuffer::bridge::detail
