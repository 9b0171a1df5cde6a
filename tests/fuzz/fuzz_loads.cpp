// Fuzz the .loads parser (it reads files an admin drops into the files directory).
// Property: every image it returns is a plain file name (no path separators, bounded).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "provision/firmware.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto l = labcm::provision::parseLoads({data, size});
    for (const auto& img : l.images)
        if (img.empty() || img.size() > 128 || img.find('/') != std::string::npos || img == "." || img == "..")
            std::abort();
    return 0;
}
