// Percent-decoding of URL parts (RFC 3986 section 2.1), shared by the phone HTTP server
// (request paths) and the admin API (paths and query strings). Pure: no sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace labcm::http {

/// @brief %XX-decodes `s`, and turns '+' into ' ' when `plusIsSpace` (query strings, forms);
/// nullopt on a malformed or truncated escape ("%", "%4", "%zz").
std::optional<std::string> urlDecode(std::string_view s, bool plusIsSpace);

} // namespace labcm::http
