// RFC 4180 CSV, pure: text <-> rows of fields. Bounded by limits.h; every error names the
// row (1 = the header, as a spreadsheet numbers it).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace labcm {

class CsvError : public std::runtime_error {
public:
    CsvError(std::size_t row, const std::string& message);
    std::size_t row() const { return row_; }
    const std::string& message() const { return message_; }

private:
    std::size_t row_;
    std::string message_;
};

struct CsvRow {
    std::size_t number; ///< 1-based record number; the header is row 1
    std::vector<std::string> fields;
};

/// @brief Parses CSV text. Accepts LF and CRLF, quoted fields with "" escapes and embedded
/// newlines, a leading UTF-8 BOM; skips empty lines. A field written with formatCsvRow's
/// formula guard (a leading ' before = + - @ tab CR) is read back without it.
/// @throw CsvError on unterminated quotes, stray quotes, NUL bytes or a limit exceeded.
std::vector<CsvRow> parseCsv(std::string_view text);

/// @brief One CSV record (without the line end), quoting fields only where needed. A field a
/// spreadsheet would run as a formula (= + - @ tab CR first) is written behind a ' (OWASP).
std::string formatCsvRow(const std::vector<std::string>& fields);

} // namespace labcm
