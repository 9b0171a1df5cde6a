// Fuzz the checks on the boot files an admin drops into files/ (issue 20, steps 12-13): a
// PNG's size from its head, a Desktops folder's resolution, a ring file's name and size.
// Properties: a PNG size is only read from a PNG signature and IHDR and is never 0; a folder
// name that parses has three numbers of 1 to 4 digits; a ring file that passes has a known band, a name
// within 25 characters and a size of whole samples; a display name is at most 25 characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "provision/backgrounds.h"
#include "provision/ring_tones.h"

using namespace labcm::provision;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::span<const std::uint8_t> bytes(data, size);
    if (auto png = pngSize(bytes)) {
        if (size < kPngHeadBytes || std::memcmp(data, kSignature, 8) != 0) std::abort();
        if (png->first == 0 || png->second == 0) std::abort();
    }

    std::string text(reinterpret_cast<const char*>(data), size);
    if (auto r = backgroundResolution(text)) {
        for (unsigned v : {r->width, r->height, r->depth})
            if (v == 0 || v > 9999) std::abort();
        auto image = pngSize(bytes);
        std::optional<std::optional<std::pair<unsigned, unsigned>>> thumbnail;
        if (size > 4) thumbnail = pngSize(bytes.subspan(4));
        (void)backgroundProblem(*r, image, thumbnail);
    }

    // The first 8 bytes (when there are) are the file's size; the rest its name.
    std::uint64_t fileSize = 0;
    std::string name = text;
    if (size >= 8) {
        std::memcpy(&fileSize, data, 8);
        name = text.substr(8);
    }
    auto problem = ringFileProblem(name, fileSize);
    if (problem.empty()) {
        auto band = ringBandOf(name);
        if (!band || name.size() > kMaxRingName) std::abort();
        if (*band == RingBand::Narrow ? fileSize % 240 != 0 : fileSize % 2 != 0) std::abort();
    }
    if (ringDisplayName(name).size() > kMaxRingName) std::abort();
    return 0;
}
