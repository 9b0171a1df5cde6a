#include "core/mac.h"

#include <cctype>

namespace labcm {

std::optional<std::string> normalizeMac(std::string_view text) {
    if (text.size() == 15 && (text[0] == 'S' || text[0] == 's') && (text[1] == 'E' || text[1] == 'e') &&
        (text[2] == 'P' || text[2] == 'p'))
        text.remove_prefix(3);
    if (text.size() > 17) return std::nullopt;

    std::string out;
    out.reserve(12);
    char separator = 0;
    for (char c : text) {
        if (std::isxdigit(static_cast<unsigned char>(c))) {
            out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        } else if (c == ':' || c == '-' || c == '.') {
            // One kind of separator per address; "00:11-22..." is a typo, not a MAC.
            if (separator && separator != c) return std::nullopt;
            separator = c;
        } else {
            return std::nullopt;
        }
    }
    if (out.size() != 12) return std::nullopt;
    // Separators must sit on group boundaries: 2 digits for ':'/'-', 4 for '.'.
    if (separator) {
        std::size_t group = separator == '.' ? 4 : 2;
        std::size_t expectLen = 12 + (12 / group - 1);
        if (text.size() != expectLen) return std::nullopt;
        for (std::size_t i = group; i < text.size(); i += group + 1)
            if (text[i] != separator) return std::nullopt;
    }
    return out;
}

} // namespace labcm
