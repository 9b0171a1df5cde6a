#include "provision/firmware.h"

#include <cctype>
#include <fstream>

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "core/limits.h"
#include "core/models.h"

namespace labcm::provision {
namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

bool looksLikeImage(const std::string& s) {
    static constexpr std::string_view kExts[] = {".sbn", ".sebn", ".sgn", ".zz", ".bin", ".sb2", ".loads", ".img"};
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-')) return false;
    std::string lower;
    for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (auto e : kExts)
        if (lower.ends_with(e)) return true;
    return false;
}

} // namespace

LoadsFile parseLoads(std::span<const std::uint8_t> bytes) {
    LoadsFile out;
    std::size_t start = 0;
    // Signed header: tag 1 (version, length 2), tag 2 (header length, length 2) = u16 BE at 8.
    if (bytes.size() >= 10 && bytes[0] == 1 && bytes[1] == 0 && bytes[2] == 2 && bytes[5] == 2 && bytes[6] == 0 &&
        bytes[7] == 2) {
        ByteReader r(bytes);
        r.skip(8);
        std::size_t headerLength = r.u16("header length");
        if (headerLength > bytes.size()) return out; // truncated: nothing usable
        start = headerLength;
    }
    std::string_view text(reinterpret_cast<const char*>(bytes.data()) + start, bytes.size() - start);
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        auto line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        if (line.empty()) continue;
        if (line.starts_with("#HARDWARE") || line.starts_with("[")) {
            out.metadata.push_back(line);
            continue;
        }
        if (line.starts_with("#")) continue;
        if (auto eq = line.find('='); eq != std::string::npos) {
            out.metadata.push_back(line);
            auto value = trim(std::string_view(line).substr(eq + 1));
            if (looksLikeImage(value)) out.images.push_back(value);
            continue;
        }
        if (looksLikeImage(line)) out.images.push_back(line);
    }
    return out;
}

std::string LoadCheck::summary() const {
    if (!loadsFound) return fmt::format("load {}: {}.loads is not in the files directory", load, load);
    if (missing.empty()) return fmt::format("load {}: complete ({} image files)", load, images.size());
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return fmt::format("load {}: {} of {} image files missing: {}", load, missing.size(), images.size(), list);
}

std::vector<std::string> modelsOfLoad(std::string_view load) {
    std::vector<std::string> out;
    auto lower = [](std::string_view s) {
        std::string o;
        for (char c : s) o.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        return o;
    };
    auto l = lower(load);
    for (const auto& m : knownModels())
        if (!m.loadPrefix.empty() && l.starts_with(lower(m.loadPrefix))) out.emplace_back(m.name);
    return out;
}

LoadCheck checkLoad(const FilesDir& files, const std::string& load) {
    LoadCheck c;
    c.load = load;
    auto found = files.findName(load + ".loads");
    if (!found || found->size > limits::kMaxLoadsFile) return c;
    std::ifstream in(found->path, std::ios::binary);
    std::vector<std::uint8_t> bytes(found->size);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!in) return c;
    c.loadsFound = true;
    c.images = parseLoads(bytes).images;
    for (const auto& img : c.images)
        if (!files.findName(img)) c.missing.push_back(img);
    return c;
}

} // namespace labcm::provision
