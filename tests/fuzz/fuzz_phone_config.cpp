// Fuzz labcm-phone's config and ring-list readers: any bytes either give a config with a call
// manager and named lines (a ring list with named files), or a ConfigError; nothing else escapes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "phone_config.h"

using namespace labcm::phone;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    try {
        auto c = parsePhoneConfig(in, 36224);
        if (c.processNodeName.empty() || c.sipPort < 1 || c.sipPort > 65535) std::abort();
        for (const auto& l : c.lines)
            if (l.name.empty()) std::abort();
    } catch (const ConfigError&) {
    }
    try {
        for (const auto& f : parseRingList(in))
            if (f.empty()) std::abort();
    } catch (const ConfigError&) {
    }
    return 0;
}
