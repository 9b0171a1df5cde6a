// Fuzz the request-name check that guards the files directory. Properties: an accepted
// name has no empty, "." or ".." component, no control character and no backslash, and
// its lookup key is the lower-cased join of its parts.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "provision/names.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string raw(reinterpret_cast<const char*>(data), size);
    auto r = labcm::provision::parseRequestName(raw);
    if (!r.ok) {
        if (r.reason.empty()) std::abort();
        return 0;
    }
    std::string joined;
    for (const auto& p : r.parts) {
        if (p.empty() || p == "." || p == "..") std::abort();
        for (char c : p) {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7F || c == '\\' || c == '/') std::abort();
        }
        joined += (joined.empty() ? "" : "/") + p;
    }
    for (auto& c : joined) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (joined != r.lower) std::abort();
    if ((r.kind == labcm::provision::NameKind::DeviceConfig) != (!r.mac.empty() && r.parts.size() == 1 &&
                                                                 r.lower.ends_with(".cnf.xml") && r.lower.starts_with("sep")))
        std::abort();
    return 0;
}
