// Fuzz the firmware importer: the bytes are a package (zip, tar, gzip, COP) read by libarchive
// into a scratch files folder. Properties: it imports or refuses (FirmwareImportError), never
// anything else; a refusal leaves the folder empty; whatever it imports is plain files with
// plain names directly in the folder, and the .loads it reports are there.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "provision/firmware_import.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fs::path root = [] {
        char pattern[] = "/tmp/labcm-fuzz-import-XXXXXX";
        if (!::mkdtemp(pattern)) std::abort();
        return fs::path(pattern);
    }();
    auto package = root / "package";
    auto files = root / "files";
    fs::remove_all(files);
    fs::create_directories(files);
    std::ofstream(package, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    bool imported = false;
    labcm::provision::FirmwareImport done;
    try {
        done = labcm::provision::importFirmware(package, labcm::provision::FilesDir(files));
        imported = true;
    } catch (const labcm::provision::FirmwareImportError&) {
    }
    std::size_t count = 0;
    for (const auto& e : fs::directory_iterator(files)) {
        ++count;
        auto name = e.path().filename().string();
        if (!e.is_regular_file() || e.is_symlink() || name.empty() || name.front() == '.') std::abort();
    }
    if (!imported && count != 0) std::abort();
    if (imported)
        for (const auto& l : done.loads)
            if (!fs::exists(files / (l + ".loads"))) std::abort();
    return 0;
}
