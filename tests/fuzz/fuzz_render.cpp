// Fuzz the renderer with database strings: whatever an admin typed (or a CSV carried, or a
// bug let through validation), the SEP file and dial plan must be well-formed XML without
// the control characters XML 1.0 forbids. The input is split on NUL into field values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "provision/renderer.h"

using namespace labcm;
using namespace labcm::provision;

namespace {

void requireWellFormed(const std::string& out) {
    pugi::xml_document doc;
    if (!doc.load_buffer(out.data(), out.size())) std::abort();
    for (unsigned char c : out)
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> f;
    std::string cur;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            f.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    f.push_back(cur);
    f.resize(12);
    Device d;
    d.mac = "001122AABBCC";
    d.model = "8845";
    d.loadOverride = f[0];
    d.lines = {{1, f[1], f[2], f[3], f[4], f[5], f[6]}, {2, f[7], "", "", "", "", ""}};
    d.speedDials = {{3, f[8], f[9], true}};
    RenderInputs in;
    in.registrar = f[10];
    in.settings.timezone = f[11];
    in.settings.voicemailNumber = f[9];
    in.settings.ntpServers = {f[10]};
    in.modelLoads = {{"8845", f[3]}};
    in.dialPatterns = dialPatternsFor({f[1], f[7], f[8]});
    TemplateSet t;
    requireWellFormed(renderDeviceConfig(d, in, t));
    requireWellFormed(renderDefaultConfig(in, t));
    requireWellFormed(renderStatic(kDialTemplateFile, in, t));
    return 0;
}
