#include "provision/backgrounds.h"

#include <charconv>

#include <fmt/format.h>

namespace labcm::provision {

std::optional<Resolution> backgroundResolution(std::string_view folder) {
    Resolution r;
    unsigned* fields[] = {&r.width, &r.height, &r.depth};
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        auto end = i < 2 ? folder.find_first_of("xX", pos) : folder.size();
        if (end == std::string_view::npos || end == pos || end - pos > 4) return std::nullopt;
        auto [p, ec] = std::from_chars(folder.data() + pos, folder.data() + end, *fields[i]);
        if (ec != std::errc{} || p != folder.data() + end || *fields[i] == 0) return std::nullopt;
        pos = end + 1;
    }
    return r;
}

std::optional<std::pair<unsigned, unsigned>> pngSize(std::span<const std::uint8_t> head) {
    static constexpr std::uint8_t kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (head.size() < kPngHeadBytes || !std::equal(std::begin(kSignature), std::end(kSignature), head.begin()) ||
        head[12] != 'I' || head[13] != 'H' || head[14] != 'D' || head[15] != 'R')
        return std::nullopt;
    auto be32 = [&](std::size_t i) {
        return (unsigned{head[i]} << 24) | (unsigned{head[i + 1]} << 16) | (unsigned{head[i + 2]} << 8) | head[i + 3];
    };
    if (be32(16) == 0 || be32(20) == 0) return std::nullopt; // PNG forbids an empty image
    return std::pair{be32(16), be32(20)};
}

std::string backgroundProblem(const Resolution& folder, std::optional<std::pair<unsigned, unsigned>> image,
                              std::optional<std::optional<std::pair<unsigned, unsigned>>> thumbnail) {
    if (!image) return "not a PNG image";
    if (image->first != folder.width || image->second != folder.height)
        return fmt::format("{}x{} pixels; this folder's phones need {}x{}", image->first, image->second, folder.width,
                           folder.height);
    if (!thumbnail) return "no thumbnail TN-<name>.png beside it";
    if (!*thumbnail) return "its thumbnail is not a PNG image";
    auto [tw, th] = **thumbnail;
    if (tw == 0 || th == 0 || tw * 2 > folder.width || th * 2 > folder.height)
        return fmt::format("its thumbnail is {}x{} pixels; at most {}x{}", tw, th, folder.width / 2, folder.height / 2);
    return {};
}

} // namespace labcm::provision
