// Background images (Desktops/<W>x<H>x<D>/List.xml): which PNG files of the files folder a
// phone is offered. Each image is exactly the folder's width and height, with a thumbnail
// TN-<name>.png beside it at most half as wide and high; others are left out with the reason.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace labcm::provision {

struct Resolution {
    unsigned width = 0, height = 0, depth = 0;
};

/// @brief "<W>x<H>x<D>" (e.g. 800x480x24), nullopt for anything else.
std::optional<Resolution> backgroundResolution(std::string_view folder);

/// @brief A PNG's width and height from its IHDR chunk, nullopt when the bytes are not a PNG
/// (or its IHDR says 0 wide or high, which PNG forbids).
std::optional<std::pair<unsigned, unsigned>> pngSize(std::span<const std::uint8_t> head);

struct Background {
    std::string image;     ///< file name in the folder
    std::string thumbnail; ///< TN-<image>
};

inline constexpr std::size_t kMaxBackgrounds = 50;
inline constexpr std::size_t kPngHeadBytes = 24; ///< what pngSize needs

/// @brief Why an image cannot be offered ("" when it can), from its size and its thumbnail's
/// (nullopt: no thumbnail file).
std::string backgroundProblem(const Resolution& folder, std::optional<std::pair<unsigned, unsigned>> image,
                              std::optional<std::optional<std::pair<unsigned, unsigned>>> thumbnail);

} // namespace labcm::provision
