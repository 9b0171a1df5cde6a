#include <doctest/doctest.h>

#include <cstdlib>

#include "store/device_store.h"
#include "store/migrations.h"
#include "store/settings_store.h"
#include "test_util.h"

using namespace labcm;
using namespace labcm::store;

TEST_CASE("migrations: numbered 0001.. without gaps, head = last") {
    const auto& all = migrations();
    REQUIRE(!all.empty());
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(std::atoi(all[i].name) == static_cast<int>(i + 1));
    CHECK(headVersion() == static_cast<int>(all.size()));
}

TEST_CASE("migrations: an empty database migrates to head, then nothing is left to do") {
    labcm::test::TempDir tmp;
    for (std::string path : {std::string(":memory:"), tmp.file("m.db")}) {
        CAPTURE(path);
        Db db(path);
        auto r = migrate(db);
        CHECK(r.from == 0);
        CHECK(r.to == headVersion());
        CHECK(db.userVersion() == headVersion());
        for (const char* table : {"devices", "lines", "model_defaults", "settings", "events"}) {
            auto s = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
            s.bind(1, table);
            s.step();
            CHECK_MESSAGE(s.getInt(0) == 1, table);
        }
        auto again = migrate(db);
        CHECK(again.from == headVersion());
        CHECK(again.to == headVersion());
    }
}

TEST_CASE("migrations: a file database is in WAL mode with foreign keys on") {
    labcm::test::TempDir tmp;
    Db db(tmp.file("w.db"));
    auto j = db.prepare("PRAGMA journal_mode");
    j.step();
    CHECK(j.getText(0) == "wal");
    auto f = db.prepare("PRAGMA foreign_keys");
    f.step();
    CHECK(f.getInt(0) == 1);
    auto s = db.prepare("PRAGMA synchronous");
    s.step();
    CHECK(s.getInt(0) == 1); // NORMAL
}

TEST_CASE("migrations: a newer schema is refused with a clear message and left untouched") {
    labcm::test::TempDir tmp;
    auto path = tmp.file("new.db");
    {
        Db db(path);
        migrate(db);
        db.exec("PRAGMA user_version = 999");
    }
    Db db(path);
    CHECK_THROWS_WITH_AS(migrate(db), doctest::Contains("has schema version 999, but this labcm"), SchemaTooNewError);
    CHECK(db.userVersion() == 999);
}

TEST_CASE("migrations: schema 9 copies the DHCP leases of schema 8 and accepts the state 'expired'") {
    Db db(":memory:");
    for (const auto& m : migrations())
        if (std::string(m.name) < "0009") db.exec(m.sql);
    db.exec("PRAGMA user_version = 8");
    db.exec("INSERT INTO dhcp_leases (address, mac, state, expires, pool, vendor_class, model, hostname, updated_at) "
            "VALUES ('10.150.0.100', '001122AABBCC', 'bound', 5, 'lab', 'Cisco Systems, Inc. IP Phone CP-8845', '8845', "
            "'SEP001122AABBCC', 4)");
    CHECK_THROWS(db.exec("UPDATE dhcp_leases SET state = 'expired'")); // schema 8 does not know it
    auto r = migrate(db);
    CHECK(r.from == 8);
    auto s = db.prepare("SELECT address, mac, state, expires, pool, vendor_class, model, hostname, updated_at FROM dhcp_leases");
    REQUIRE(s.step());
    CHECK(s.getText(0) == "10.150.0.100");
    CHECK(s.getText(1) == "001122AABBCC");
    CHECK(s.getText(2) == "bound");
    CHECK(s.getInt(3) == 5);
    CHECK(s.getText(4) == "lab");
    CHECK(s.getText(5) == "Cisco Systems, Inc. IP Phone CP-8845");
    CHECK(s.getText(6) == "8845");
    CHECK(s.getText(7) == "SEP001122AABBCC");
    CHECK(s.getInt(8) == 4);
    CHECK_FALSE(s.step());
    db.exec("UPDATE dhcp_leases SET state = 'expired'");
    CHECK_THROWS(db.exec("UPDATE dhcp_leases SET state = 'gone'"));
    auto idx = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'dhcp_leases_mac'");
    idx.step();
    CHECK(idx.getInt(0) == 1);
}

TEST_CASE("migrations: schema 13 keeps a mailbox per DN, its counts never negative") {
    Db db(":memory:");
    migrate(db);
    MailboxStore mb(db);
    mb.set({"1001", 2, 5}, 1);
    mb.set({"1001", 0, 6}, 2); // the same DN: its counts change
    mb.set({"1500", 1, 0}, 3);
    CHECK(mb.all() == std::vector<Mailbox>{{"1001", 0, 6}, {"1500", 1, 0}});
    mb.remove("1500");
    CHECK_THROWS_AS(mb.remove("1500"), NotFound);
    CHECK_THROWS(db.exec("INSERT INTO mailboxes VALUES ('1002', -1, 0, 0)"));
    CHECK_THROWS(db.exec("INSERT INTO mailboxes VALUES ('', 1, 0, 0)"));
}
