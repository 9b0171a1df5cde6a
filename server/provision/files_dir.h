// The files directory (<data-dir>/files): firmware, locales, ring tones, anything a phone
// asks for that labcm does not render. Lookups are case-insensitive and never leave the
// root: a symlink that points outside it is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace labcm::provision {

struct FoundFile {
    std::filesystem::path path; ///< the real path, inside the root
    std::uint64_t size;
};

/// @brief The directories a lookup went through (the root, then each existing folder on the
/// way) with their modification times. A name appears in or leaves a directory only by
/// changing that directory's mtime, so while the stamp holds, find() answers the same.
/// A folder changed within limits::kRacyStampWindow of the stamp may change again within the
/// same timestamp tick (git's "racy" rule): such a stamp never vouches for anything.
struct DirStamp {
    std::vector<std::pair<std::filesystem::path, std::int64_t>> dirs; ///< path, mtime in ns
    bool racy = false;

    /// @brief Adds another stamp's folders, each folder once (a folder seen with two mtimes
    /// changed in between: the stamp then vouches for nothing).
    void merge(const DirStamp& other);
};

/// @brief A folder's modification time in ns since the epoch; nullopt when it is not a folder.
std::optional<std::int64_t> folderMtimeNs(const std::filesystem::path& p);
/// @brief True when a folder with this mtime may still change within the same timestamp tick
/// (limits::kRacyStampWindow): its mtime vouches for nothing yet.
bool racyMtime(std::int64_t mtimeNs);

class FilesDir {
public:
    explicit FilesDir(std::filesystem::path root);
    const std::filesystem::path& root() const { return root_; }

    /// @brief Finds `parts` (checked path components) under the root, matching each
    /// component exactly first, then ignoring case. nullopt when absent; `refused` is set
    /// when it exists but resolves outside the root or is not a regular file.
    std::optional<FoundFile> find(const std::vector<std::string>& parts, std::string* refused = nullptr) const;

    /// @brief The stamp of the folders find(parts) looks through.
    DirStamp stamp(const std::vector<std::string>& parts) const;
    /// @brief True while no folder of the stamp changed (a stat per folder, no scan).
    static bool unchanged(const DirStamp& s);

    /// @brief find() for a plain (single-component) file name.
    std::optional<FoundFile> findName(const std::string& name) const { return find({name}); }

private:
    std::filesystem::path root_;
};

} // namespace labcm::provision
