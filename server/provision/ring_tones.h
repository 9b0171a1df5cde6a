// Ring tones (boot step 13): which files of the files folder go into the ring lists, and
// labcm's own tones, so a phone finds a ring list with something in it out of the box.
// Formats (Cisco admin guides): *.raw is headerless 8 kHz 8-bit mu-law, 240 to 16,080
// samples, a multiple of 240 (Ringlist.xml, RingList.xml, DistinctiveRingList.xml); *.rwb is
// headerless 16 kHz signed 16-bit mono, 240 to 160,800 samples (Ringlist-wb.xml, 78xx/88xx;
// little-endian is our inference). A list holds at most 50, each name at most 25 characters.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labcm::provision {

enum class RingBand { Narrow, Wide };

struct RingTone {
    std::string file;        ///< the name phones fetch
    std::string displayName; ///< what the phone's ring menu shows
};

inline constexpr std::size_t kMaxRings = 50;
inline constexpr std::size_t kMaxRingName = 25;

/// @brief The band of a ring file by its extension (.raw, .rwb; case ignored), nullopt for others.
std::optional<RingBand> ringBandOf(std::string_view file);
/// @brief Why a ring file cannot be listed ("" when it can): its name's length, its size for its band.
std::string ringFileProblem(std::string_view file, std::uint64_t size);
/// @brief The menu name of a ring file: its name without the extension, '_' as spaces, cut to 25.
std::string ringDisplayName(std::string_view file);

/// @brief labcm's own tones, every name in both bands (labcm-Classic.raw, labcm-Classic.rwb, ...).
const std::vector<std::string>& builtInToneNames();
/// @brief The bytes of one of labcm's tones (name case ignored), made from its recipe on first
/// use; nullopt for any other name.
std::optional<std::string> builtInTone(std::string_view file);

} // namespace labcm::provision
