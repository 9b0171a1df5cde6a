#include "provision/auto_registration.h"

#include <algorithm>
#include <cctype>

namespace labcm::provision {

std::optional<std::string> nextFreeDn(const std::string& first, const std::string& last,
                                      const std::set<std::string>& used) {
    auto digits = [](const std::string& s) {
        return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
    };
    if (!digits(first) || !digits(last) || first.size() != last.size()) return std::nullopt;
    const auto width = first.size();
    unsigned long long a = std::stoull(first), b = std::stoull(last);
    // Walk the used DNs of this width inside the range in order; the first gap wins.
    unsigned long long candidate = a;
    for (auto it = used.lower_bound(first); it != used.end() && *it <= last; ++it) {
        if (it->size() != width || !digits(*it)) continue;
        auto v = std::stoull(*it);
        if (v > candidate) break;
        if (v == candidate) ++candidate;
    }
    if (candidate > b) return std::nullopt;
    std::string out = std::to_string(candidate);
    return std::string(width - out.size(), '0') + out;
}

} // namespace labcm::provision
