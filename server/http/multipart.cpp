#include "http/multipart.h"

#include <algorithm>
#include <cctype>

namespace labcm::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

/// The value of parameter `key` in a header's `; key=value` list (quoted or not), nullopt when absent.
std::optional<std::string> parameter(std::string_view header, std::string_view key) {
    std::size_t at = 0;
    while ((at = header.find(';', at)) != std::string_view::npos) {
        ++at;
        auto rest = trim(header.substr(at));
        auto eq = rest.find('=');
        if (eq == std::string_view::npos) continue;
        if (!iequals(trim(rest.substr(0, eq)), key)) continue;
        auto value = rest.substr(eq + 1);
        if (!value.empty() && value.front() == '"') {
            auto close = value.find('"', 1);
            if (close == std::string_view::npos) return std::nullopt;
            return std::string(value.substr(1, close - 1));
        }
        return std::string(trim(value.substr(0, value.find(';'))));
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> formBoundary(std::string_view contentType) {
    auto semi = contentType.find(';');
    if (!iequals(trim(contentType.substr(0, semi)), "multipart/form-data")) return std::nullopt;
    auto b = parameter(contentType, "boundary");
    if (!b || b->empty() || b->size() > 70) return std::nullopt;
    return b;
}

std::optional<std::vector<FormPart>> parseForm(std::string_view body, std::string_view boundary) {
    const std::string delimiter = "--" + std::string(boundary);
    // The first delimiter may open the body or follow a preamble's CRLF.
    std::size_t at;
    if (body.starts_with(delimiter)) at = delimiter.size();
    else if (auto first = body.find("\r\n" + delimiter); first != std::string_view::npos) at = first + 2 + delimiter.size();
    else return std::nullopt;
    std::vector<FormPart> parts;
    const std::string next = "\r\n" + delimiter;
    for (;;) {
        if (body.substr(at).starts_with("--")) return parts; // the closing delimiter
        // Transport padding, then the CRLF that ends the delimiter line.
        while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
        if (!body.substr(at).starts_with("\r\n")) return std::nullopt;
        at += 2;
        auto headersEnd = body.find("\r\n\r\n", at);
        if (body.substr(at).starts_with("\r\n")) headersEnd = at - 2; // a part with no headers
        if (headersEnd == std::string_view::npos) return std::nullopt;
        auto headers = body.substr(at, headersEnd - at);
        auto contentStart = headersEnd + 4;
        auto end = body.find(next, contentStart);
        if (end == std::string_view::npos) return std::nullopt;
        if (parts.size() == kMaxFormParts) return std::nullopt;
        FormPart part;
        for (std::size_t line = 0; line <= headers.size();) {
            auto eol = headers.find("\r\n", line);
            auto h = headers.substr(line, eol == std::string_view::npos ? std::string_view::npos : eol - line);
            auto colon = h.find(':');
            if (colon != std::string_view::npos && iequals(trim(h.substr(0, colon)), "content-disposition")) {
                part.name = parameter(h, "name").value_or("");
                part.filename = parameter(h, "filename").value_or("");
            }
            if (eol == std::string_view::npos) break;
            line = eol + 2;
        }
        part.content = body.substr(contentStart, end - contentStart);
        parts.push_back(std::move(part));
        at = end + next.size();
    }
}

std::string formValue(std::string_view raw) {
    auto v = trim(raw);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = trim(v.substr(1, v.size() - 2));
    return std::string(v);
}

} // namespace labcm::http
