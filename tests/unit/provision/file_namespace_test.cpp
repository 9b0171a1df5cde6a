// The render cache is exact: a file is rendered again exactly when something it was made
// from changed, never on a timer. A real SQLite file; changes are written through a second
// connection, as the writer thread does, then announced.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "provision/namespace_fixture.h"
#include "store/device_store.h"
#include "store/settings_store.h"

using namespace labcm;

namespace {

struct Lab : test::NamespaceFixture {
    store::Db writer{path};
    Lab() {
        store::DeviceStore(writer).insert(Device{.mac = "001122AABBCD", .model = "7821", .lines = {{1, "2000"}}}, 1);
        files.invalidate();
    }
    std::string get(const std::string& name) {
        auto r = files.resolve(name);
        REQUIRE_MESSAGE((r.kind == provision::FileResult::Kind::Rendered), r.reason);
        return r.body;
    }
    void addDevice(const std::string& mac, const std::string& dn) {
        store::DeviceStore(writer).insert(Device{.mac = mac, .model = "8845", .lines = {{1, dn}}}, 2);
        files.deviceChanged(mac);
    }
};

const std::string kA = "SEP001122AABBCC.cnf.xml", kB = "SEP001122AABBCD.cnf.xml";

} // namespace

TEST_CASE("render cache: a phone fetching twice with nothing changed gets the same bytes and stamp, rendered once") {
    Lab lab;
    auto first = lab.get(kA);
    auto renders = lab.files.renders();
    CHECK(lab.get(kA) == first);
    CHECK(lab.files.renders() == renders);
    CHECK(lab.files.configStamp("001122AABBCC") == provision::versionStampOf(first));
}

TEST_CASE("render cache: one device's change re-renders that device's file and no other") {
    Lab lab;
    auto a = lab.get(kA);
    auto b = lab.get(kB);
    auto renders = lab.files.renders();
    auto device = store::DeviceStore(lab.writer).get("001122AABBCC");
    device->transport = "udp";
    store::DeviceStore(lab.writer).update(*device, false, 3);
    lab.files.deviceChanged("001122AABBCC");
    CHECK(lab.get(kB) == b); // untouched, from the cache
    CHECK(lab.files.renders() == renders);
    auto a2 = lab.get(kA);
    CHECK(a2 != a);
    CHECK(a2.find("<transportLayerProtocol>2</transportLayerProtocol>") != std::string::npos);
    CHECK(provision::versionStampOf(a2) != provision::versionStampOf(a));
    CHECK(lab.files.renders() == renders + 1);
}

TEST_CASE("render cache: a line shared by a new device re-renders the device that had it alone") {
    Lab lab;
    auto a = lab.get(kA);
    CHECK(a.find("<sharedLine>false</sharedLine>") != std::string::npos);
    auto b = lab.get(kB);
    lab.addDevice("001122AABBCE", "1000"); // the DN of device A
    auto a2 = lab.get(kA);
    CHECK(a2.find("<sharedLine>true</sharedLine>") != std::string::npos);
    CHECK(lab.get(kB) == b);
    // And back: the new device goes, the line is A's alone again.
    store::DeviceStore(lab.writer).remove("001122AABBCE");
    lab.files.deviceChanged("001122AABBCE");
    CHECK(lab.get(kA) == a);
}

TEST_CASE("render cache: the dial plan follows the DNs in use") {
    Lab lab;
    auto plan = lab.get("dialplan.xml");
    CHECK(plan.find("MATCH=\"1...\"") != std::string::npos);
    CHECK(plan.find("MATCH=\"3....\"") == std::string::npos);
    lab.addDevice("001122AABBCE", "30000");
    CHECK(lab.get("dialplan.xml").find("MATCH=\"3....\"") != std::string::npos);
}

TEST_CASE("render cache: a locale folder that appears in the files directory is in the next file") {
    Lab lab;
    auto a = lab.get(kA);
    CHECK(a.find("<userLocale>") == std::string::npos);
    auto dir = lab.tmp.path() / "files" / "English_United_States";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "sl-bev-sip.jar") << "jar";
    auto a2 = lab.get(kA);
    CHECK(a2.find("<userLocale>") != std::string::npos);
    CHECK(a2.find("English_United_States") != std::string::npos);
}

TEST_CASE("render cache: a folder changed within the last seconds is not trusted (racy stamps)") {
    Lab lab;
    lab.get(kA);
    std::filesystem::last_write_time(lab.tmp.path() / "files", std::filesystem::file_time_type::clock::now());
    auto renders = lab.files.renders();
    lab.get(kA);
    lab.get(kA);
    CHECK(lab.files.renders() == renders + 2); // re-rendered each time while the folder's change is recent
    std::filesystem::last_write_time(lab.tmp.path() / "files",
                                     std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
    lab.get(kA);
    lab.get(kA);
    CHECK(lab.files.renders() == renders + 3); // trusted again
}

TEST_CASE("render cache: an admin's template copy is used from the next request") {
    Lab lab;
    auto keys = lab.get("softkeys.xml");
    std::filesystem::create_directories(lab.tmp.path() / "templates");
    std::ofstream(lab.tmp.path() / "templates" / "softkeys.xml") << "<softKeyCfg><versionStamp/><mine/></softKeyCfg>";
    auto mine = lab.get("softkeys.xml");
    CHECK(mine != keys);
    CHECK(mine.find("<mine") != std::string::npos);
}

TEST_CASE("render cache: after a lab-wide change, warm() renders every file before a phone asks") {
    Lab lab;
    lab.files.invalidate();
    int turns = 0;
    while (lab.files.warm(1) && turns < 100) ++turns;
    CHECK(turns > 2); // one file per turn
    auto renders = lab.files.renders();
    CHECK(renders >= 4); // two devices, XMLDefault and the static files
    lab.get(kA);
    lab.get(kB);
    lab.get("XMLDefault.cnf.xml");
    lab.get("softkeys.xml");
    CHECK(lab.files.renders() == renders);
}

TEST_CASE("render cache: warming never auto-registers a device that was removed") {
    Lab lab;
    int asked = 0;
    lab.files.setAutoRegistration([&](const std::string&, std::string& why) -> std::optional<Device> {
        ++asked;
        why = "test";
        return std::nullopt;
    });
    store::DeviceStore(lab.writer).remove("001122AABBCD");
    lab.files.deviceChanged("001122AABBCD");
    while (lab.files.warm(8)) {}
    CHECK(asked == 0);
    CHECK((lab.files.resolve(kB).kind == provision::FileResult::Kind::NotFound));
    CHECK(asked == 1); // a phone's own request does
}

TEST_CASE("render cache: a device being auto-registered is served but not cached until it is committed") {
    Lab lab;
    int asked = 0;
    lab.files.setAutoRegistration([&](const std::string& mac, std::string&) -> std::optional<Device> {
        ++asked;
        return Device{.mac = mac, .model = "8845", .lines = {{1, "5000"}}};
    });
    const std::string name = "SEP00112233AA01.cnf.xml";
    CHECK(lab.get(name).find("5000") != std::string::npos);
    CHECK(lab.get(name).find("5000") != std::string::npos);
    CHECK(asked == 2); // no cached copy outlives a commit that might fail
    CHECK_FALSE(lab.files.resolveFast(name));
}

TEST_CASE("render cache: files are kept packed against their model's first render, and come back byte for byte") {
    Lab lab;
    std::vector<std::string> rendered;
    for (int i = 0; i < 20; ++i) {
        auto mac = fmt::format("0011223344{:02X}", i);
        lab.addDevice(mac, std::to_string(3000 + i));
        rendered.push_back(lab.get("SEP" + mac + ".cnf.xml")); // rendered now, then cached
    }
    auto renders = lab.files.renders();
    std::size_t plain = 0;
    for (int i = 0; i < 20; ++i) {
        auto name = fmt::format("SEP0011223344{:02X}.cnf.xml", i);
        auto fast = lab.files.resolveFast(name); // the path of the HTTP threads
        REQUIRE(fast);
        CHECK(fast->body == rendered[i]);
        CHECK(lab.get(name) == rendered[i]);
        plain += rendered[i].size();
    }
    CHECK(lab.files.renders() == renders);
    CHECK(lab.files.cachedBytes() * 10 < plain); // ~80 bytes each instead of ~6.6 KiB

    // The device whose render is the reference changes: the others still unpack against it.
    auto first = store::DeviceStore(lab.writer).get("001122334400");
    first->transport = "udp";
    store::DeviceStore(lab.writer).update(*first, false, 3);
    lab.files.deviceChanged("001122334400");
    CHECK(lab.get("SEP001122334400.cnf.xml") != rendered[0]);
    for (int i = 1; i < 20; ++i) CHECK(lab.get(fmt::format("SEP0011223344{:02X}.cnf.xml", i)) == rendered[i]);
}

TEST_CASE("render cache: a load whose images are not all there is withheld until they are") {
    Lab lab;
    std::vector<std::pair<std::string, bool>> told; // what the observer heard: load, complete
    lab.files.setLoadObserver([&](const provision::LoadCheck& c) { told.emplace_back(c.load, c.complete()); });
    const std::string load = "sip8845_65.14-2-1-0001-14";
    auto files = lab.tmp.path() / "files";
    std::ofstream(files / (load + ".loads"), std::ios::binary) << load << "\r\n\r\nkern.sbn\r\nrootfs.sbn\r\n";
    std::ofstream(files / "kern.sbn") << "k";
    store::ModelDefaultStore(lab.writer).set("8845", load, 3);
    lab.files.invalidate();
    auto a = lab.get(kA);
    CHECK(a.find("<loadInformation></loadInformation>") != std::string::npos); // the phone keeps its load
    CHECK(lab.get("XMLDefault.cnf.xml").find(load) == std::string::npos);
    REQUIRE(told.size() == 1);
    CHECK(told[0] == std::pair<std::string, bool>(load, false));
    lab.get(kA);
    CHECK(told.size() == 1); // said once, not per request

    std::ofstream(files / "rootfs.sbn") << "r"; // the missing image arrives
    auto a2 = lab.get(kA);
    CHECK(a2.find("<loadInformation>" + load + "</loadInformation>") != std::string::npos);
    CHECK(provision::versionStampOf(a2) != provision::versionStampOf(a)); // phones see a new file
    CHECK(lab.get("XMLDefault.cnf.xml").find(load) != std::string::npos);
    REQUIRE(told.size() == 2);
    CHECK(told[1] == std::pair<std::string, bool>(load, true));

    std::filesystem::remove(files / "kern.sbn"); // and goes away again
    CHECK(lab.get(kA).find("<loadInformation></loadInformation>") != std::string::npos);
    CHECK(told.size() == 3);
}

TEST_CASE("render cache: the ring lists list the folder's ring files and labcm's own, and follow the folder") {
    Lab lab;
    auto narrow = lab.get("Ringlist.xml");
    CHECK(narrow.find("<FileName>labcm-Classic.raw</FileName>") != std::string::npos);
    CHECK(narrow.find(".rwb") == std::string::npos);
    CHECK(lab.get("RingList.xml") == narrow); // names are case-insensitive
    CHECK(lab.get("DistinctiveRingList.xml") == narrow);
    auto wide = lab.get("Ringlist-wb.xml");
    CHECK(wide.find("<DisplayName>labcm-Chirp</DisplayName>\n    <FileName>labcm-Chirp.rwb</FileName>") != std::string::npos);
    // labcm's tones are served like files.
    auto tone = lab.files.resolve("labcm-Pulse.rwb");
    CHECK(tone.found());
    CHECK(tone.size() == 63'360);

    auto files = lab.tmp.path() / "files";
    std::ofstream(files / "Old_Phone.raw", std::ios::binary) << std::string(480, '\x7f');
    std::ofstream(files / "Bad.raw", std::ios::binary) << std::string(500, '\x7f'); // not a multiple of 240
    std::ofstream(files / "labcm-Classic.raw", std::ios::binary) << std::string(240, '\x01'); // the admin's wins
    narrow = lab.get("Ringlist.xml");
    CHECK(narrow.find("<DisplayName>Old Phone</DisplayName>\n    <FileName>Old_Phone.raw</FileName>") != std::string::npos);
    CHECK(narrow.find("Bad.raw") == std::string::npos);
    CHECK(narrow.find("labcm-Classic.raw") != std::string::npos);
    auto admins = lab.files.resolve("labcm-Classic.raw");
    CHECK((admins.kind == provision::FileResult::Kind::File));
    CHECK(admins.size() == 240);
}
