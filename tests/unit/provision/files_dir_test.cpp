#include <doctest/doctest.h>

#include <fstream>

#include "provision/files_dir.h"
#include "provision/firmware.h"
#include "test_util.h"

using namespace labcm;
using namespace labcm::provision;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

// A .loads file as Cisco ships it: signed TLV header (tag 1 version, tag 2 header length,
// then opaque tags), then CRLF text with comments and trailing spaces.
std::string signedLoads(const std::string& body, std::uint16_t headerLength = 40) {
    std::string h;
    h += std::string("\x01\x00\x02\x01\x01", 5);                                 // version 1.1
    h += std::string("\x02\x00\x02", 3);                                         // header length:
    h += static_cast<char>(headerLength >> 8);
    h += static_cast<char>(headerLength & 0xFF);
    h += std::string("\x04\x00\x05", 3) + std::string("CN=x\0", 5);             // signer name
    h.resize(headerLength, '\x0D');                                              // padding
    return h + body;
}

} // namespace

TEST_CASE("files dir: exact, case-insensitive and nested lookups") {
    test::TempDir tmp;
    write(tmp.path() / "Fw.SBN", "abc");
    write(tmp.path() / "English_United_States" / "sp-sip.jar", "jar");
    FilesDir dir(tmp.path());
    auto f = dir.findName("fw.sbn");
    REQUIRE(f);
    CHECK(f->size == 3);
    CHECK(f->path.filename() == "Fw.SBN");
    CHECK(dir.find({"english_united_states", "SP-SIP.JAR"}));
    CHECK(!dir.findName("missing.bin"));
    CHECK(!dir.find({"English_United_States"})); // a directory is not a file
}

TEST_CASE("files dir: a symlink out of the root is refused; one inside is followed") {
    test::TempDir tmp;
    write(tmp.path() / "outside" / "secret", "s");
    write(tmp.path() / "files" / "real.bin", "r");
    fs::create_symlink(tmp.path() / "outside" / "secret", tmp.path() / "files" / "escape");
    fs::create_symlink(tmp.path() / "outside", tmp.path() / "files" / "dirlink");
    fs::create_symlink("real.bin", tmp.path() / "files" / "alias.bin");
    FilesDir dir(tmp.path() / "files");
    std::string why;
    CHECK(!dir.find({"escape"}, &why));
    CHECK(why == "resolves outside the files directory");
    why.clear();
    CHECK(!dir.find({"dirlink", "secret"}, &why));
    CHECK(why == "resolves outside the files directory");
    CHECK(dir.findName("alias.bin"));
}

TEST_CASE("firmware: .loads with a signed header, CRLF, comments and trailing spaces") {
    auto text = signedLoads("SIP42.9-4-2SR3-1S\r\n# list of archive image files\r\n#HARDWARE_COMP_1 5\r\n\r\n"
                            "jar42sip.9-4-2ES26.sbn  \r\napps42.9-4-2ES26.sbn\r\ncnu42.9-4-2ES26.sbn \r\n");
    std::vector<std::uint8_t> bytes(text.begin(), text.end());
    auto l = parseLoads(bytes);
    CHECK(l.images == std::vector<std::string>{"jar42sip.9-4-2ES26.sbn", "apps42.9-4-2ES26.sbn", "cnu42.9-4-2ES26.sbn"});
    CHECK(l.metadata == std::vector<std::string>{"#HARDWARE_COMP_1 5"});
}

TEST_CASE("firmware: unsigned INI-style body, and truncated headers give nothing") {
    std::string ini = "[PLATFORM_1]\nhwcompat=0x3F\nkernel=kern78xx.14-2-1-0001-14.sbn\nrootfs=rootfs78xx.14-2-1-0001-14.sbn\n";
    std::vector<std::uint8_t> bytes(ini.begin(), ini.end());
    auto l = parseLoads(bytes);
    CHECK(l.images == std::vector<std::string>{"kern78xx.14-2-1-0001-14.sbn", "rootfs78xx.14-2-1-0001-14.sbn"});
    auto full = signedLoads("a.sbn\n", 200); // header claims more bytes than the file has
    full.resize(60);
    std::vector<std::uint8_t> cut(full.begin(), full.end());
    CHECK(parseLoads(cut).images.empty());
    for (std::size_t n = 0; n < 12; ++n) {
        std::vector<std::uint8_t> prefix(cut.begin(), cut.begin() + static_cast<long>(n));
        CHECK(parseLoads(prefix).images.empty());
    }
}

TEST_CASE("firmware: checkLoad names the missing images") {
    test::TempDir tmp;
    write(tmp.path() / "sip78xx.14-2-1-0001-14.loads",
          signedLoads("sip78xx.14-2-1-0001-14\r\nkern78xx.14-2-1-0001-14.sbn\r\nrootfs78xx.14-2-1-0001-14.sbn\r\n"));
    write(tmp.path() / "KERN78XX.14-2-1-0001-14.SBN", "k");
    FilesDir dir(tmp.path());
    auto c = checkLoad(dir, "sip78xx.14-2-1-0001-14");
    CHECK(c.loadsFound);
    CHECK(!c.complete());
    CHECK(c.missing == std::vector<std::string>{"rootfs78xx.14-2-1-0001-14.sbn"});
    CHECK(c.summary() == "load sip78xx.14-2-1-0001-14: 1 of 2 image files missing: rootfs78xx.14-2-1-0001-14.sbn");
    write(tmp.path() / "rootfs78xx.14-2-1-0001-14.sbn", "r");
    CHECK(checkLoad(dir, "sip78xx.14-2-1-0001-14").complete());
    auto none = checkLoad(dir, "sip88xx.1");
    CHECK(!none.loadsFound);
    CHECK(none.summary() == "load sip88xx.1: sip88xx.1.loads is not in the files directory");
}

TEST_CASE("files dir: merged stamps hold each folder once; one folder seen with two mtimes vouches for nothing") {
    test::TempDir tmp;
    auto root = tmp.path() / "files";
    fs::create_directories(root / "English_United_States");
    auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
    fs::last_write_time(root, old);
    fs::last_write_time(root / "English_United_States", old);
    FilesDir files(root);
    DirStamp merged;
    merged.merge(files.stamp({"English_United_States", "sl-bev-sip.jar"}));
    merged.merge(files.stamp({"United_States", "g3-tones.xml"}));
    CHECK(merged.dirs.size() == 2); // the root once, the locale folder once
    CHECK_FALSE(merged.racy);
    CHECK(FilesDir::unchanged(merged));

    DirStamp before = files.stamp({"g3-tones.xml"});
    fs::last_write_time(root, old + std::chrono::minutes(1));
    DirStamp both = before;
    both.merge(files.stamp({"g3-tones.xml"}));
    CHECK(both.dirs.size() == 1);
    CHECK(both.racy);
    CHECK_FALSE(FilesDir::unchanged(both));
}
