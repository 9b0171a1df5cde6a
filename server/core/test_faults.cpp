#include "core/test_faults.h"

#include <cstdlib>
#include <string_view>

namespace labcm::test_faults {

namespace {

std::string_view name(Fault f) {
    switch (f) {
    case Fault::DhcpAfterCommit: return "dhcp-after-commit";
    case Fault::SlowCommits: return "slow-commits";
    case Fault::DhcpStall: return "dhcp-stall";
    }
    return {};
}

} // namespace

bool active(Fault f) {
    static const std::string_view list = [] {
        const char* v = std::getenv("LABCM_TEST_FAULT");
        return std::string_view(v ? v : "");
    }();
    const auto want = name(f);
    for (std::size_t start = 0; start <= list.size();) {
        auto end = list.find(',', start);
        if (end == std::string_view::npos) end = list.size();
        if (list.substr(start, end - start) == want) return true;
        start = end + 1;
    }
    return false;
}

} // namespace labcm::test_faults
