// Cisco firmware packages into the files folder: the TFTP zip (cmterm-<series>.<version>.zip,
// sometimes with a .tar inside) and the CUCM installer (*.cop.sgn / *.cop.sha512: a signed
// header, then a gzip tar). Only the .loads files and the images they name are taken; the rest
// (CUCM install scripts, readmes) is ignored. Read with libarchive, refused whole with the
// reason when anything is wrong: a truncated or damaged archive, a path that leaves the folder,
// a link or device, a size past the limits, no .loads, a .loads naming an image that is neither
// in the package nor already in the folder, two different files under a name that is taken.
// Nothing a phone can fetch changes until the whole package passed: the
// files are staged in a hidden folder inside the files folder (same file system), flushed,
// then renamed into place, images before the .loads that names them. Firmware files are never
// changed: stored byte for byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "provision/files_dir.h"

namespace labcm::provision {

struct FirmwareImport {
    std::vector<std::string> loads;     ///< load names the package brings (its .loads, without the extension)
    std::vector<std::string> added;     ///< file names that were not in the folder
    std::vector<std::string> replaced;  ///< names that were, with other bytes (term*.default.loads)
    std::vector<std::string> unchanged; ///< names that were, with the same bytes
    std::vector<std::string> ignored;   ///< entries no .loads names (install scripts, readmes)
    std::uint64_t bytes = 0;            ///< bytes read out of the package
};

/// The package is refused whole; what() says why (naming the entry when one is at fault).
class FirmwareImportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief Imports `package` into `files`; messages name it `label` (default: its file name, an
/// upload's is the browser's). @throw FirmwareImportError, and nothing of the package is then
/// left in the folder.
FirmwareImport importFirmware(const std::filesystem::path& package, const FilesDir& files, std::string label = {});

struct LocaleInstall {
    std::vector<std::string> user;      ///< user-locale folders installed (they hold a *-sip.jar)
    std::vector<std::string> network;   ///< network-locale folders (g3-/g4-tones.xml)
    std::vector<std::string> other;     ///< folders with neither
    std::vector<std::string> ignored;   ///< entries outside a locale folder
    std::uint64_t bytes = 0;
};

/// @brief Installs a Cisco locale installer (po-locale-<ll_CC>-*.cop.sgn: a signed header, a
/// gzip tar, a tar inside it, usr/local/cm/tftp/<Locale>/...), a tar or zip of locale
/// folders, or a locale folder, into `files`: each locale folder replaces the one of its name
/// (case ignored) whole, after everything was read and checked as for firmware.
/// @throw FirmwareImportError, and the files folder is then as it was.
LocaleInstall installLocale(const std::filesystem::path& source, const FilesDir& files, std::string label = {});

/// @brief Removes what an import or an upload left in `files` when its process died (hidden
/// `.labcm-import-<pid>-*` / `.labcm-upload-<pid>-*` of a pid that no longer runs); returns
/// how many. A running import's folder is kept.
int removeLeftovers(const FilesDir& files);
/// @brief A new, empty upload file in `files` (hidden, so never served), named for this process.
/// @throw FirmwareImportError when it cannot be created.
std::filesystem::path createUploadFile(const FilesDir& files);

/// @brief Where the archive starts in a package whose first bytes are `head`: 0 for a zip,
/// tar or gzip; for a COP, the gzip stream after the signed header (where the header's length
/// says, else the first gzip signature: the header is not trusted). @throw FirmwareImportError
/// when no archive is found. Pure.
std::size_t archiveStart(std::span<const std::uint8_t> head);

/// @brief An archive entry's file name: its path's last component, "" for a folder.
/// @throw FirmwareImportError for an absolute path or a '..' component. Pure.
std::string entryFileName(const std::string& path, bool directory);
/// @brief A name labcm stores: letters, digits, '.', '_', '+', '-', not starting with '.'.
bool plainFileName(std::string_view name);

} // namespace labcm::provision
