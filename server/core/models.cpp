#include "core/models.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace labcm {
namespace {

// typemodel numbers are CUCM's `typemodel.enum`; load prefixes are those of the SIP loads
// (e.g. sip8845_65.14-2-1-0001-14). Entries marked [I] in the research are flagged here too.
constexpr std::array kModels{
    ModelInfo{"6901", 547, "Cisco 6901", "SIP6901.", "69xx", "rtl-sip.jar", false}, // load prefix [I]
    ModelInfo{"6911", 548, "Cisco 6911", "SIP6911.", "69xx", "rtl-sip.jar", false}, // load prefix [I]
    ModelInfo{"6921", 495, "Cisco 6921", "SIP69xx.", "69xx", "rtl-sip.jar", false},
    ModelInfo{"6941", 496, "Cisco 6941", "SIP69xx.", "69xx", "rtl-sip.jar", false},
    ModelInfo{"6945", 564, "Cisco 6945", "SIP6945.", "69xx", "rtl-sip.jar", false},
    ModelInfo{"6961", 497, "Cisco 6961", "SIP69xx.", "69xx", "rtl-sip.jar", false},
    ModelInfo{"7811", 36213, "Cisco 7811", "sip78xx.", "78xx", "sp-sip.jar", false},
    ModelInfo{"7821", 621, "Cisco 7821", "sip78xx.", "78xx", "sp-sip.jar", false},
    ModelInfo{"7832", 36247, "Cisco 7832", "sip7832.", "78xx", "", false},
    ModelInfo{"7841", 622, "Cisco 7841", "sip78xx.", "78xx", "sp-sip.jar", false},
    ModelInfo{"7861", 623, "Cisco 7861", "sip78xx.", "78xx", "sp-sip.jar", false},
    ModelInfo{"7906", 369, "Cisco 7906", "SIP11.", "79xx", "tc-sip.jar", false},
    ModelInfo{"7911", 307, "Cisco 7911", "SIP11.", "79xx", "tc-sip.jar", false},
    ModelInfo{"7931", 348, "Cisco 7931", "SIP31.", "79xx", "", false}, // load prefix [I]
    ModelInfo{"7940", 8, "Cisco 7940", "P0S3-", "79x0", "", false}, // SIP 8.x: registers; not controlled
    ModelInfo{"7941", 115, "Cisco 7941", "SIP41.", "79xx", "mk-sip.jar", false},
    ModelInfo{"7942", 434, "Cisco 7942", "SIP42.", "79xx", "mk-sip.jar", false},
    ModelInfo{"7945", 435, "Cisco 7945", "SIP45.", "79xx", "be-sip.jar", false},
    ModelInfo{"7960", 7, "Cisco 7960", "P0S3-", "79x0", "", false}, // SIP 8.x: registers; not controlled
    ModelInfo{"7961", 30018, "Cisco 7961", "SIP41.", "79xx", "mk-sip.jar", false},
    ModelInfo{"7962", 404, "Cisco 7962", "SIP42.", "79xx", "mk-sip.jar", false},
    ModelInfo{"7965", 436, "Cisco 7965", "SIP45.", "79xx", "be-sip.jar", false},
    ModelInfo{"7970", 30006, "Cisco 7970", "SIP70.", "79xx", "td-sip.jar", false},
    ModelInfo{"7971", 119, "Cisco 7971", "SIP70.", "79xx", "td-sip.jar", false},
    ModelInfo{"7975", 437, "Cisco 7975", "SIP75.", "79xx", "td-sip.jar", false},
    ModelInfo{"8811", 36217, "Cisco 8811", "sip88xx.", "88xx", "sl-be-sip.jar", false}, // locale jar [I]
    ModelInfo{"8821", 36216, "Cisco 8821", "sip8821.", "8821", "", false},
    ModelInfo{"8832", 36258, "Cisco 8832", "sip8832.", "88xx", "", false},
    ModelInfo{"8841", 683, "Cisco 8841", "sip88xx.", "88xx", "sl-be-sip.jar", false},
    ModelInfo{"8845", 36224, "Cisco 8845", "sip8845_65.", "88xx", "sl-bev-sip.jar", true},
    ModelInfo{"8851", 684, "Cisco 8851", "sip88xx.", "88xx", "sl-be-sip.jar", false},
    ModelInfo{"8861", 685, "Cisco 8861", "sip88xx.", "88xx", "sl-be-sip.jar", false}, // locale jar [I]
    ModelInfo{"8865", 36225, "Cisco 8865", "sip8845_65.", "88xx", "sl-bev-sip.jar", true},
    ModelInfo{"8941", 586, "Cisco 8941", "SIP8941_8945.", "89xx", "gb-sccp-sip.jar", false},
    ModelInfo{"8945", 585, "Cisco 8945", "SIP8941_8945.", "89xx", "gb-sccp-sip.jar", false},
    ModelInfo{"8961", 540, "Cisco 8961", "sip8961.", "89xx", "gh-sip.jar", false},
    ModelInfo{"9951", 537, "Cisco 9951", "sip9951.", "99xx", "lk-sip.jar", false},
    ModelInfo{"9971", 493, "Cisco 9971", "sip9971.", "99xx", "gd-sip.jar", false},
};

std::string trimUpper(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

std::span<const ModelInfo> knownModels() { return kModels; }

std::optional<ModelInfo> findModel(std::string_view text) {
    std::string t = trimUpper(text);
    for (std::string_view prefix : {"CISCO IP PHONE ", "CISCO ", "CP-", "CP"}) {
        if (t.starts_with(prefix)) {
            t.erase(0, prefix.size());
            break;
        }
    }
    // 79xx names carry a G suffix ("CP-7975G", "7961G-GE") in vendor classes and UAs.
    if (t.ends_with("G-GE")) t.resize(t.size() - 4);
    else if (t.size() == 5 && t.back() == 'G') t.pop_back();
    for (const auto& m : kModels)
        if (m.name == t) return m;
    return std::nullopt;
}

std::optional<ModelInfo> findModelByTypemodel(int typemodel) {
    auto it = std::find_if(kModels.begin(), kModels.end(),
                           [&](const ModelInfo& m) { return m.typemodel == typemodel; });
    if (it == kModels.end()) return std::nullopt;
    return *it;
}

} // namespace labcm
