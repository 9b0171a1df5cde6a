// Fuzz the CSV codec and the device CSV mapping. Properties checked beyond "no crash":
// a file that parses cleanly exports to a CSV that parses cleanly to the same devices.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/csv.h"
#include "core/device_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto rows = labcm::parseCsv(text);
        for (const auto& r : rows) {
            auto again = labcm::parseCsv(labcm::formatCsvRow(r.fields) + "\n");
            if (again.size() != 1 || again[0].fields != r.fields) std::abort();
        }
    } catch (const labcm::CsvError&) {
    }

    auto parsed = labcm::parseDeviceCsv(text);
    if (parsed.errors.empty() && !parsed.devices.empty()) {
        std::vector<labcm::Device> devices;
        for (auto& d : parsed.devices) devices.push_back(d.device);
        auto round = labcm::parseDeviceCsv(labcm::formatDeviceCsv(devices));
        if (!round.errors.empty() || round.devices.size() != devices.size()) std::abort();
        for (std::size_t i = 0; i < devices.size(); ++i) {
            const auto& a = devices[i];
            const auto& b = round.devices[i].device;
            if (a.mac != b.mac || a.model != b.model || a.description != b.description || a.lines.size() != b.lines.size())
                std::abort();
        }
    }
    return 0;
}
