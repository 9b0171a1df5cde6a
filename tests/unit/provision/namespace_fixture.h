// A real file namespace for the request handlers' tests: a SQLite file with one device, the
// built-in templates and a files directory with one firmware file.
#pragma once

#include <chrono>
#include <fstream>

#include "core/settings.h"
#include "provision/file_namespace.h"
#include "store/device_store.h"
#include "store/migrations.h"
#include "test_util.h"

namespace labcm::test {

struct NamespaceFixture {
    static constexpr const char* kMac = "001122AABBCC";
    static constexpr const char* kFirmware = "sip88xx.14-2-1-0001-123.loads";
    static constexpr const char* kFirmwareBytes = "LOADS\nline two\n";

    TempDir tmp;
    std::string path = [this] {
        auto p = tmp.file("ns.db");
        store::Db db(p);
        store::migrate(db);
        store::DeviceStore(db).insert(Device{.mac = kMac, .model = "8845", .description = "desk", .lines = {{1, "1000"}}}, 1);
        std::filesystem::create_directories(tmp.path() / "files");
        std::ofstream(tmp.path() / "files" / kFirmware) << kFirmwareBytes;
        // An hour old, as a lab's files folder is: a folder changed in the last seconds is
        // not trusted by the render cache (limits::kRacyStampWindow).
        std::filesystem::last_write_time(tmp.path() / "files",
                                         std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
        return p;
    }();
    store::Db reader{path, store::Db::Mode::ReadOnly};
    SettingsHolder settings{Settings{}};
    provision::FileNamespace files{reader, settings, tmp.path() / "files", tmp.path() / "templates"};
};

} // namespace labcm::test
