// Reading the files a boot needs (kernel, initrd, modules), refusing ones that cannot fit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace monitor {

// The whole file. Throws LoadError when it cannot be read, or when it is larger than
// `max_bytes` (checked before reading: an initrd larger than guest RAM is refused at once; a
// pipe or character device is read until it ends, or refused once past `max_bytes`).
// `what` names the file's role in messages ("kernel", "initrd").
std::vector<uint8_t> read_boot_file(const std::string& path, const char* what, uint64_t max_bytes);

}  // namespace monitor
