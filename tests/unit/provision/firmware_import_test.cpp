// The firmware importer's pure parts: where a package's archive starts (a COP's gzip stream
// after its signed header, which is not trusted), which entry names are taken, and
// which models a load is for. Whole packages (zip, COP, nested tar, every refusal) are
// imported by the real CLI in tests/integration/test_firmware.py.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include <unistd.h>

#include "provision/firmware.h"
#include "provision/firmware_import.h"
#include "test_util.h"

using namespace labcm::provision;

namespace {
std::vector<std::uint8_t> cop(std::size_t headerLength, std::size_t gzipAt) {
    std::vector<std::uint8_t> b(gzipAt + 16, 0x0d);
    std::vector<std::uint8_t> tlv{1, 0, 2, 1, 1, 2, 0, 2, static_cast<std::uint8_t>(headerLength >> 8),
                                  static_cast<std::uint8_t>(headerLength)};
    std::copy(tlv.begin(), tlv.end(), b.begin());
    b[gzipAt] = 0x1f;
    b[gzipAt + 1] = 0x8b;
    b[gzipAt + 2] = 0x08;
    return b;
}
} // namespace

TEST_CASE("firmware import: the archive starts at 0 for zip, tar and gzip, after the signed header for a COP") {
    std::vector<std::uint8_t> zip{'P', 'K', 3, 4, 0, 0};
    CHECK(archiveStart(zip) == 0);
    std::vector<std::uint8_t> gz{0x1f, 0x8b, 0x08, 0};
    CHECK(archiveStart(gz) == 0);
    std::vector<std::uint8_t> tar(512, 0);
    std::copy_n("ustar", 5, tar.begin() + 257);
    CHECK(archiveStart(tar) == 0);
    CHECK(archiveStart(cop(400, 400)) == 400);
    CHECK(archiveStart(cop(300, 400)) == 400); // the header's length is wrong: the gzip signature is found
    CHECK(archiveStart(cop(60000, 400)) == 400); // a length past the bytes read
    std::vector<std::uint8_t> text{'h', 'e', 'l', 'l', 'o'};
    CHECK_THROWS_AS(archiveStart(text), FirmwareImportError);
    CHECK_THROWS_AS(archiveStart(std::vector<std::uint8_t>{}), FirmwareImportError);
    std::vector<std::uint8_t> cut{1, 0, 2, 1, 1, 2, 0, 2, 1}; // a header cut short, no gzip
    CHECK_THROWS_AS(archiveStart(cut), FirmwareImportError);
}

TEST_CASE("firmware import: entries are plain names; paths that leave the folder are refused") {
    CHECK(entryFileName("kern8845.14-2-1-0001-14.sbn", false) == "kern8845.14-2-1-0001-14.sbn");
    CHECK(entryFileName("cmterm/8845/rootfs.sbn", false) == "rootfs.sbn");
    CHECK(entryFileName("./a/./b.loads", false) == "b.loads");
    CHECK(entryFileName("win\\style\\c.sbn", false) == "c.sbn");
    CHECK(entryFileName("folder/", false).empty());
    CHECK(entryFileName("folder", true).empty());
    CHECK_THROWS_AS(entryFileName("../etc/passwd", false), FirmwareImportError);
    CHECK_THROWS_AS(entryFileName("a/../../b.sbn", false), FirmwareImportError);
    CHECK_THROWS_AS(entryFileName("/etc/passwd", false), FirmwareImportError);
    CHECK_THROWS_AS(entryFileName("C:\\x.sbn", false), FirmwareImportError);
    CHECK_THROWS_AS(entryFileName("", false), FirmwareImportError);
    CHECK_THROWS_AS(entryFileName("..", true), FirmwareImportError);
    // Names labcm stores; others (install scripts, readmes) are ignored, never named by a .loads.
    CHECK(plainFileName("sip88xx.14-2-1-0001-14.loads"));
    CHECK(plainFileName("Ringlist-wb.xml"));
    CHECK_FALSE(plainFileName(".hidden"));
    CHECK_FALSE(plainFileName("sp ace.sbn"));
    CHECK_FALSE(plainFileName(std::string("a\0b", 3)));
    CHECK_FALSE(plainFileName(""));
    CHECK_FALSE(plainFileName(std::string(300, 'a')));
}

TEST_CASE("firmware: the models a load is for, from its name's prefix") {
    auto m88 = modelsOfLoad("sip88xx.14-2-1-0001-14");
    CHECK(std::find(m88.begin(), m88.end(), "8841") != m88.end());
    CHECK(std::find(m88.begin(), m88.end(), "8845") == m88.end());
    CHECK(modelsOfLoad("SIP8845_65.14-2-1-0001-14") == modelsOfLoad("sip8845_65.14-2-1-0001-14"));
    CHECK(!modelsOfLoad("sip8845_65.14-2-1-0001-14").empty());
    CHECK(modelsOfLoad("SCCP42.9-4-2SR3-1S").empty());
    CHECK(modelsOfLoad("").empty());
}

TEST_CASE("firmware import: leftovers of a dead process are removed, a live one's kept") {
    labcm::test::TempDir tmp;
    FilesDir files(tmp.path());
    auto upload = createUploadFile(files); // this process's: alive
    CHECK(upload.filename().string().starts_with(".labcm-upload-" + std::to_string(::getpid()) + "-"));
    CHECK(std::filesystem::is_regular_file(upload));
    std::filesystem::create_directories(tmp.path() / ".labcm-import-999999999-0000abcd" / "x");
    std::ofstream(tmp.path() / ".labcm-upload-999999999-00000001") << "half";
    std::ofstream(tmp.path() / ".labcm-upload-notapid-1") << "kept: not a name labcm makes";
    std::ofstream(tmp.path() / "cmterm.zip") << "kept: an admin's file";
    CHECK(removeLeftovers(files) == 2);
    CHECK(std::filesystem::exists(upload));
    CHECK_FALSE(std::filesystem::exists(tmp.path() / ".labcm-import-999999999-0000abcd"));
    CHECK_FALSE(std::filesystem::exists(tmp.path() / ".labcm-upload-999999999-00000001"));
    CHECK(std::filesystem::exists(tmp.path() / ".labcm-upload-notapid-1"));
    CHECK(std::filesystem::exists(tmp.path() / "cmterm.zip"));
}
