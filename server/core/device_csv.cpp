#include "core/device_csv.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/csv.h"
#include "core/limits.h"
#include "core/mac.h"

namespace labcm {
namespace {

constexpr std::string_view kLineFields[] = {"dn", "display_name", "label", "auth_name", "auth_password", "contact"};

std::string* lineField(Line& l, std::string_view name) {
    if (name == "dn") return &l.dn;
    if (name == "display_name") return &l.displayName;
    if (name == "label") return &l.label;
    if (name == "auth_name") return &l.authName;
    if (name == "auth_password") return &l.authPassword;
    if (name == "contact") return &l.contact;
    return nullptr;
}

// Column meaning, resolved once from the header.
struct Column {
    enum Kind { Mac, Model, Description, Load, Transport, DhcpAddress, LineField } kind;
    int line = 0;
    std::string_view field;
};

std::optional<Column> parseHeader(std::string_view h) {
    if (h == "mac") return Column{Column::Mac};
    if (h == "model") return Column{Column::Model};
    if (h == "description") return Column{Column::Description};
    if (h == "load") return Column{Column::Load};
    if (h == "transport") return Column{Column::Transport};
    if (h == "dhcp_address") return Column{Column::DhcpAddress};
    if (!h.starts_with("line")) return std::nullopt;
    h.remove_prefix(4);
    int n = 0;
    auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), n);
    if (ec != std::errc{} || p == h.data() || *h.data() == '0' || n < 1 || n > limits::kMaxLinesPerDevice)
        return std::nullopt;
    std::string_view rest(p, h.data() + h.size() - p);
    if (!rest.starts_with("_")) return std::nullopt;
    rest.remove_prefix(1);
    for (auto f : kLineFields)
        if (f == rest) return Column{Column::LineField, n, f};
    return std::nullopt;
}

std::string lowerTrim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    s.erase(0, b);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

DeviceCsv parseDeviceCsv(std::string_view text) {
    DeviceCsv out;
    std::vector<CsvRow> rows;
    try {
        rows = parseCsv(text);
    } catch (const CsvError& e) {
        out.errors.push_back({e.row(), "csv", e.message()});
        return out;
    }
    if (rows.empty()) {
        out.errors.push_back({1, "csv", "empty file: the first row must be a header (mac,model,...)"});
        return out;
    }

    std::vector<Column> columns;
    std::set<std::string> seen;
    for (const auto& raw : rows[0].fields) {
        std::string h = lowerTrim(raw);
        auto col = parseHeader(h);
        if (!col) {
            out.errors.push_back({1, h, fmt::format("unknown column '{}'", h)});
            continue;
        }
        if (!seen.insert(h).second) out.errors.push_back({1, h, fmt::format("column '{}' appears twice", h)});
        columns.push_back(*col);
    }
    for (std::string_view required : {"mac", "model"})
        if (!seen.contains(std::string(required)))
            out.errors.push_back({1, std::string(required), fmt::format("required column '{}' is missing", required)});
    if (!out.errors.empty()) return out;

    std::map<std::string, std::size_t> macRow;
    for (std::size_t r = 1; r < rows.size(); ++r) {
        const auto& row = rows[r];
        if (row.fields.size() > columns.size()) {
            out.errors.push_back({row.number, "csv",
                                  fmt::format("{} fields, the header has {}", row.fields.size(), columns.size())});
            continue;
        }
        Device d;
        std::map<int, Line> lines;
        std::string macText;
        for (std::size_t c = 0; c < row.fields.size(); ++c) {
            const auto& v = row.fields[c];
            switch (columns[c].kind) {
            case Column::Mac: macText = v; break;
            case Column::Model: d.model = v; break;
            case Column::Description: d.description = v; break;
            case Column::Load: d.loadOverride = v; break;
            case Column::Transport: d.transport = v; break;
            case Column::DhcpAddress: d.dhcpAddress = v; break;
            case Column::LineField: {
                if (v.empty()) break;
                auto& l = lines[columns[c].line];
                l.index = columns[c].line;
                *lineField(l, columns[c].field) = v;
                break;
            }
            }
        }
        auto mac = normalizeMac(macText);
        if (!mac) {
            out.errors.push_back({row.number, "mac",
                                  macText.empty() ? "is required" : fmt::format("'{}' is not a MAC address", macText)});
            continue;
        }
        d.mac = *mac;
        if (auto e = validateDevice(d)) {
            out.errors.push_back({row.number, e->field, e->message});
            continue;
        }
        bool bad = false;
        for (auto& [idx, l] : lines) {
            if (auto e = validateLine(l, fmt::format("line{}", idx))) {
                out.errors.push_back({row.number, e->field, e->message});
                bad = true;
                break;
            }
            d.lines.push_back(l);
        }
        if (bad) continue;
        if (auto [it, inserted] = macRow.emplace(d.mac, row.number); !inserted) {
            out.errors.push_back({row.number, "mac", fmt::format("{} already appears in row {}", d.mac, it->second)});
            continue;
        }
        out.devices.push_back({row.number, std::move(d)});
    }
    return out;
}

std::string formatDeviceCsv(const std::vector<Device>& devices) {
    int maxLine = 0;
    for (const auto& d : devices)
        for (const auto& l : d.lines) maxLine = std::max(maxLine, l.index);
    // dhcp_address only when a device has a reservation: files without DHCP stay as they were.
    bool reservations = std::any_of(devices.begin(), devices.end(), [](const Device& d) { return !d.dhcpAddress.empty(); });
    std::vector<std::string> header{"mac", "model", "description", "load", "transport"};
    if (reservations) header.push_back("dhcp_address");
    const std::size_t fixed = header.size();
    for (int i = 1; i <= maxLine; ++i)
        for (auto f : kLineFields) header.push_back(fmt::format("line{}_{}", i, f));
    std::string out = formatCsvRow(header) + "\n";
    for (const auto& d : devices) {
        std::vector<std::string> row{d.mac, d.model, d.description, d.loadOverride, d.transport};
        if (reservations) row.push_back(d.dhcpAddress);
        row.resize(header.size());
        for (auto l : d.lines) {
            std::size_t base = fixed + static_cast<std::size_t>(l.index - 1) * std::size(kLineFields);
            for (std::size_t k = 0; k < std::size(kLineFields); ++k) row[base + k] = *lineField(l, kLineFields[k]);
        }
        out += formatCsvRow(row) + "\n";
    }
    return out;
}

} // namespace labcm
