// Contract tests for DeviceStore, run on an in-memory database and on a real file.
#include <doctest/doctest.h>

#include <memory>

#include "store/device_store.h"
#include "store/migrations.h"
#include "test_util.h"

using namespace labcm;
using namespace labcm::store;

namespace {

struct MemoryDb {
    Db db{":memory:"};
    MemoryDb() { migrate(db); }
};

struct FileDb {
    test::TempDir tmp;
    Db db{tmp.file("devices.db")};
    FileDb() { migrate(db); }
};

Device desk(std::string mac, std::vector<Line> lines = {}) {
    return Device{.mac = std::move(mac), .model = "8845", .description = "desk", .lines = std::move(lines)};
}

} // namespace

TEST_CASE_TEMPLATE("device store: insert, get, list, count", Fixture, MemoryDb, FileDb) {
    Fixture f;
    DeviceStore ds(f.db);
    CHECK(ds.count() == 0);
    CHECK(!ds.get("001122AABBCC"));
    ds.insert(desk("001122AABBCD", {{1, "1002"}}), 100);
    ds.insert(desk("001122AABBCC", {{2, "1001", "Alice", "L", "alice", "pw", "c"}, {1, "1000"}}), 100);
    CHECK(ds.count() == 2);
    auto d = ds.get("001122AABBCC");
    REQUIRE(d);
    CHECK(d->name() == "SEP001122AABBCC");
    CHECK(d->createdAt == 100);
    REQUIRE(d->lines.size() == 2);
    CHECK(d->lines[0].index == 1); // ordered by index
    CHECK(d->lines[1].displayName == "Alice");
    CHECK(d->lines[1].authPassword == "pw");
    auto all = ds.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].mac == "001122AABBCC"); // ordered by MAC
}

TEST_CASE_TEMPLATE("device store: duplicates are conflicts and change nothing", Fixture, MemoryDb, FileDb) {
    Fixture f;
    DeviceStore ds(f.db);
    ds.insert(desk("001122AABBCC", {{1, "1000"}}), 1);
    CHECK_THROWS_WITH_AS(ds.insert(desk("001122AABBCC"), 2), "device SEP001122AABBCC already exists", Conflict);
    CHECK_THROWS_AS(ds.addLine("001122AABBCC", {1, "1005"}, 3), Conflict);
    CHECK(ds.get("001122AABBCC")->lines.at(0).dn == "1000");
}

TEST_CASE_TEMPLATE("device store: a DN may be shared by several devices", Fixture, MemoryDb, FileDb) {
    Fixture f;
    DeviceStore ds(f.db);
    ds.insert(desk("001122AABBCC", {{1, "1000"}}), 1);
    ds.insert(desk("001122AABBCD", {{3, "1000"}}), 1);
    CHECK(ds.macsWithDn("1000") == std::vector<std::string>{"001122AABBCC", "001122AABBCD"});
    CHECK(ds.macsWithDn("9999").empty());
}

TEST_CASE_TEMPLATE("device store: update, lines, filter, remove cascades", Fixture, MemoryDb, FileDb) {
    Fixture f;
    DeviceStore ds(f.db);
    ds.insert(desk("001122AABBCC", {{1, "1000"}}), 1);
    ds.insert(desk("001122AABBCD"), 1);

    auto d = *ds.get("001122AABBCC");
    d.description = "front desk";
    d.model = "7821";
    d.lines = {{4, "4000"}};
    ds.update(d, false, 5);
    auto u = *ds.get("001122AABBCC");
    CHECK(u.description == "front desk");
    CHECK(u.updatedAt == 5);
    CHECK(u.lines.at(0).dn == "1000"); // lines kept
    ds.update(d, true, 6);
    CHECK(ds.get("001122AABBCC")->lines.at(0).index == 4);

    ds.addLine("001122AABBCC", {1, "1001", "Bob"}, 7);
    CHECK(ds.get("001122AABBCC")->lines.size() == 2);
    CHECK(ds.list({.text = "front"}).size() == 1);
    CHECK(ds.list({.text = "4000"}).at(0).mac == "001122AABBCC");
    CHECK(ds.list({.text = "sep001122aabbcd"}).size() == 1); // LIKE is case-insensitive for ASCII
    CHECK(ds.list({.text = "%"}).empty());                   // wildcards are literal
    CHECK(ds.list({.limit = 1, .offset = 1}).at(0).mac == "001122AABBCD");

    ds.removeLine("001122AABBCC", 1, 8);
    CHECK_THROWS_WITH_AS(ds.removeLine("001122AABBCC", 1, 9), "device SEP001122AABBCC has no line 1", NotFound);
    ds.remove("001122AABBCC");
    CHECK_THROWS_AS(ds.remove("001122AABBCC"), NotFound);
    CHECK_THROWS_AS(ds.update(d, false, 1), NotFound);
    auto orphans = f.db.prepare("SELECT count(*) FROM lines");
    orphans.step();
    CHECK(orphans.getInt(0) == 0);
}

TEST_CASE_TEMPLATE("device store: speed dials share the button space with lines", Fixture, MemoryDb, FileDb) {
    Fixture f;
    DeviceStore ds(f.db);
    ds.insert(desk("001122AABBCC", {{1, "1000"}}), 1);
    ds.addSpeedDial("001122AABBCC", {3, "1002", "Bob", true}, 2);
    ds.addSpeedDial("001122AABBCC", {2, "0049301234", "", false}, 2);
    auto d = ds.get("001122AABBCC");
    REQUIRE(d->speedDials.size() == 2);
    CHECK(d->speedDials[0].button == 2); // ordered by button
    CHECK(d->speedDials[1].blf);
    CHECK(d->speedDials[1].label == "Bob");
    CHECK_THROWS_WITH_AS(ds.addSpeedDial("001122AABBCC", {1, "5", "", false}, 3),
                         "button 1 of SEP001122AABBCC is already in use", Conflict);
    CHECK_THROWS_AS(ds.addSpeedDial("001122AABBCC", {3, "5", "", false}, 3), Conflict);
    CHECK_THROWS_WITH_AS(ds.addLine("001122AABBCC", {3, "1003"}, 3), "button 3 is a speed dial on this device", Conflict);
    CHECK(ds.list().at(0).speedDials.size() == 2);
    ds.removeSpeedDial("001122AABBCC", 2, 4);
    CHECK_THROWS_AS(ds.removeSpeedDial("001122AABBCC", 2, 4), NotFound);
    ds.remove("001122AABBCC");
    auto left = f.db.prepare("SELECT count(*) FROM speed_dials");
    left.step();
    CHECK(left.getInt(0) == 0); // cascaded
}

TEST_CASE_TEMPLATE("device store: the schema itself refuses bad rows", Fixture, MemoryDb, FileDb) {
    Fixture f;
    CHECK_THROWS_AS(f.db.exec("INSERT INTO devices (mac, model, created_at, updated_at) VALUES ('00112233445g', 'x', 0, 0)"),
                    SqliteError);
    CHECK_THROWS_AS(f.db.exec("INSERT INTO lines (device_id, line_index, dn) VALUES (12345, 1, '1000')"), SqliteError);
}
