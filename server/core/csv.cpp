#include "core/csv.h"

#include <fmt/format.h>

#include "core/limits.h"

namespace labcm {

namespace {

// OWASP's CSV injection rule: a spreadsheet runs a cell that starts with = + - @ (or a tab or
// CR before one) as a formula. Such a field is written behind a ' (shown as text), and a field
// that already starts with ' before one gets another, so reading strips exactly one.
bool needsGuard(std::string_view f) {
    while (f.starts_with('\'')) f.remove_prefix(1);
    return !f.empty() && std::string_view("=+-@\t\r").find(f.front()) != std::string_view::npos;
}

} // namespace

CsvError::CsvError(std::size_t row, const std::string& message)
    : std::runtime_error(fmt::format("row {}: {}", row, message)), row_(row), message_(message) {}

std::vector<CsvRow> parseCsv(std::string_view text) {
    if (text.size() > limits::kMaxCsvBytes)
        throw CsvError(0, fmt::format("file is {} bytes, more than the limit of {}", text.size(),
                                      limits::kMaxCsvBytes));
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

    std::vector<CsvRow> rows;
    std::vector<std::string> fields;
    std::string field;
    std::size_t row = 1;
    std::size_t i = 0;
    const std::size_t n = text.size();
    bool rowHasContent = false;

    auto endField = [&] {
        if (fields.size() >= limits::kMaxCsvColumns)
            throw CsvError(row, fmt::format("more than {} columns", limits::kMaxCsvColumns));
        fields.push_back(std::move(field));
        field.clear();
    };
    auto endRow = [&] {
        if (rowHasContent) {
            endField();
            if (rows.size() >= limits::kMaxCsvRows + 1)
                throw CsvError(row, fmt::format("more than {} rows", limits::kMaxCsvRows));
            rows.push_back({row, std::move(fields)});
            ++row;
        }
        fields.clear();
        field.clear();
        rowHasContent = false;
    };
    auto append = [&](char c) {
        if (c == '\0') throw CsvError(row, "NUL byte in field");
        if (field.size() >= limits::kMaxCsvField)
            throw CsvError(row, fmt::format("field longer than {} bytes", limits::kMaxCsvField));
        field.push_back(c);
    };

    while (i < n) {
        char c = text[i];
        if (c == '"' && field.empty()) {
            // Quoted field: runs to the closing quote; "" is one quote.
            rowHasContent = true;
            std::size_t startRow = row;
            ++i;
            for (;;) {
                if (i >= n) throw CsvError(startRow, "unterminated quoted field");
                char q = text[i++];
                if (q == '"') {
                    if (i < n && text[i] == '"') {
                        append('"');
                        ++i;
                        continue;
                    }
                    break;
                }
                append(q);
            }
            if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                throw CsvError(row, "unexpected character after a closing quote");
            continue;
        }
        ++i;
        if (c == ',') {
            rowHasContent = true;
            endField();
        } else if (c == '\n') {
            endRow();
        } else if (c == '\r') {
            if (i < n && text[i] == '\n') ++i;
            endRow();
        } else if (c == '"') {
            throw CsvError(row, "quote inside an unquoted field");
        } else {
            rowHasContent = true;
            append(c);
        }
    }
    endRow();
    for (auto& r : rows)
        for (auto& f : r.fields)
            if (f.starts_with('\'') && needsGuard(std::string_view(f).substr(1))) f.erase(0, 1);
    return rows;
}

std::string formatCsvRow(const std::vector<std::string>& fields) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out.push_back(',');
        const auto f = needsGuard(fields[i]) ? "'" + fields[i] : fields[i];
        // Quote what a reader would otherwise change: separators, quotes, line ends, edge
        // spaces (spreadsheets trim them), a leading UTF-8 BOM (read as the file's BOM),
        // and a lone empty field (an empty line is skipped).
        bool quote = f.find_first_of(",\"\r\n") != std::string::npos ||
                     (!f.empty() && (f.front() == ' ' || f.back() == ' ')) || f.starts_with("\xEF\xBB\xBF") ||
                     (f.empty() && fields.size() == 1);
        if (!quote) {
            out += f;
            continue;
        }
        out.push_back('"');
        for (char c : f) {
            if (c == '"') out.push_back('"');
            out.push_back(c);
        }
        out.push_back('"');
    }
    return out;
}

} // namespace labcm
