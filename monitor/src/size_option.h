#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace monitor {
// "134217728", "128M", "1G", "64k": bytes. nullopt for anything else or on overflow.
std::optional<uint64_t> parse_size(const std::string& s);
}  // namespace monitor
