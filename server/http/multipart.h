// multipart/form-data (RFC 7578) as a Cisco phone uploads its problem report (issue 22): the
// text fields devicename, serialno, username and the file part prt_file, in one POST. Pure:
// the caller hands in the Content-Type and the body (e.g. a mapped temp file), the parts come
// back as views into it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labcm::http {

struct FormPart {
    std::string name;          ///< Content-Disposition name="..."
    std::string filename;      ///< filename="..." ("" for a text field)
    std::string_view content;  ///< the part's bytes, a view into the body
};

/// Fields the parser takes at most (a phone sends four).
inline constexpr std::size_t kMaxFormParts = 16;

/// @brief The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or
/// not, 1-70 characters, RFC 2046 5.1.1); nullopt for any other type.
std::optional<std::string> formBoundary(std::string_view contentType);

/// @brief The parts of `body`, nullopt when it is not a whole multipart body with that
/// boundary: no closing delimiter, a part without its blank line, more than kMaxFormParts.
std::optional<std::vector<FormPart>> parseForm(std::string_view body, std::string_view boundary);

/// @brief A text field's value as a phone means it: surrounding whitespace (newer firmware
/// puts a newline first) and one pair of quotes taken off.
std::string formValue(std::string_view raw);

} // namespace labcm::http
