// The command handlers against a real SQLite file and the real writer thread.
#include <doctest/doctest.h>

#include <future>

#include "control/commands.h"
#include "core/limits.h"
#include "store/migrations.h"
#include "test_util.h"

using namespace labcm;
namespace json = boost::json;

namespace {

struct Harness {
    test::TempDir tmp;
    std::string path = [this] {
        auto p = tmp.file("cmd.db");
        store::Db db(p);
        store::migrate(db);
        return p;
    }();
    store::Db reader{path};
    store::Writer writer{path};
    EventBus bus{64};
    SettingsHolder settings{Settings{}};
    control::RuntimeInfo info;
    control::Commands commands{{reader, writer, bus, settings, info, [](std::function<void()> f) { f(); }}};

    json::object call(std::string_view cmd, json::object args = {}) {
        std::promise<json::object> p;
        commands.execute(json::object{{"cmd", cmd}, {"args", std::move(args)}},
                         [&](json::object r) { p.set_value(std::move(r)); });
        return p.get_future().get();
    }
    json::value ok(std::string_view cmd, json::object args = {}) {
        auto r = call(cmd, std::move(args));
        INFO(json::serialize(r));
        REQUIRE(r.at("ok").as_bool());
        return r.at("result");
    }
    json::object error(std::string_view cmd, json::object args = {}) {
        auto r = call(cmd, std::move(args));
        INFO(json::serialize(r));
        REQUIRE(!r.at("ok").as_bool());
        return r.at("error").as_object();
    }
    std::int64_t deviceCount() {
        auto status = ok("status");
        return status.at("devices").to_number<std::int64_t>();
    }
};

} // namespace

TEST_CASE("commands: add, show, edit, list and remove a device with lines") {
    Harness h;
    auto added = h.ok("device.add", {{"device", "00:11:22:aa:bb:cc"},
                                     {"model", "CP-8845"},
                                     {"description", "desk"},
                                     {"lines", json::array{json::object{{"dn", "1001"}, {"auth_name", "u"}, {"auth_password", "p"}},
                                                           json::object{{"dn", "1002"}}}}});
    CHECK(added.at("name").as_string() == "SEP001122AABBCC");
    CHECK(added.at("model").as_string() == "8845");
    auto lines = added.at("lines").as_array();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].at("index").to_number<std::int64_t>() == 2);
    CHECK(lines[0].at("auth_password_set").as_bool());
    CHECK(!lines[0].as_object().contains("auth_password")); // never echoed

    auto edited = h.ok("device.edit", {{"device", "SEP001122AABBCC"}, {"description", "front"}, {"load", "sip8845_65.14-2-1-0001-14"}});
    CHECK(edited.at("description").as_string() == "front");
    CHECK(edited.at("load").as_string() == "sip8845_65.14-2-1-0001-14");

    auto withLine = h.ok("line.add", {{"device", "001122aabbcc"}, {"dn", "1003"}, {"label", "Sales"}});
    CHECK(withLine.at("lines").as_array().at(2).at("index").to_number<std::int64_t>() == 3); // first free button
    CHECK(h.ok("device.list", {{"filter", "1003"}}).as_array().size() == 1);
    h.ok("line.rm", {{"device", "SEP001122AABBCC"}, {"index", 1}});
    CHECK(h.ok("device.show", {{"device", "SEP001122AABBCC"}}).at("lines").as_array().size() == 2);

    h.ok("device.rm", {{"device", "SEP001122AABBCC"}});
    CHECK(h.deviceCount() == 0);
}

TEST_CASE("commands: errors carry HTTP-like status, code and field, and write nothing") {
    Harness h;
    h.ok("device.add", {{"device", "SEP001122AABBCC"}, {"model", "8845"}});

    auto e = h.error("device.add", {{"device", "SEP001122AABBCC"}, {"model", "7821"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 409);
    CHECK(e.at("field").as_string() == "mac");

    e = h.error("device.add", {{"device", "SEPnothex"}, {"model", "8845"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 400);
    CHECK(e.at("field").as_string() == "device");

    e = h.error("device.add", {{"device", "SEP001122AABBCD"}, {"model", "1234"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 422);
    CHECK(e.at("message").as_string() == "model: unknown model '1234' (see 'labcm model list')");

    e = h.error("device.add", {{"device", "SEP001122AABBCD"}, {"model", "8845"},
                               {"lines", json::array{json::object{{"dn", "10 01"}}}}});
    CHECK(e.at("field").as_string() == "line1.dn");

    e = h.error("device.show", {{"device", "SEP0000000000FF"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 404);
    h.ok("line.add", {{"device", "SEP001122AABBCC"}, {"dn", "1"}, {"index", 1}});
    e = h.error("line.add", {{"device", "SEP001122AABBCC"}, {"dn", "2"}, {"index", 1}});
    CHECK(e.at("status").to_number<std::int64_t>() == 409);
    e = h.error("device.edit", {{"device", "SEP001122AABBCC"}, {"model", "nope"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 422);
    CHECK(h.ok("device.show", {{"device", "SEP001122AABBCC"}}).at("model").as_string() == "8845");

    e = h.error("no.such.command");
    CHECK(e.at("status").to_number<std::int64_t>() == 404);
    e = h.error("device.list", {{"limit", "ten"}});
    CHECK(e.at("field").as_string() == "limit");
    CHECK(h.deviceCount() == 1);
}

TEST_CASE("commands: speed dials take the first free button; errors name the field") {
    Harness h;
    h.ok("device.add", {{"device", "SEP001122AABBCC"}, {"model", "8845"},
                        {"lines", json::array{json::object{{"dn", "1000"}}, json::object{{"dn", "1001"}}}}});
    auto d = h.ok("speeddial.add", {{"device", "SEP001122AABBCC"}, {"number", "1002"}, {"label", "Bob"}, {"blf", true}});
    auto keys = d.at("speed_dials").as_array();
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].at("button").to_number<std::int64_t>() == 3);
    CHECK(keys[0].at("blf").as_bool());
    CHECK(h.error("speeddial.add", {{"device", "SEP001122AABBCC"}, {"number", "1"}, {"button", 1}}).at("status").to_number<int>() == 409);
    CHECK(h.error("speeddial.add", {{"device", "SEP001122AABBCC"}, {"number", "1 2"}}).at("field").as_string() ==
          "speed_dial.number");
    CHECK(h.error("speeddial.rm", {{"device", "SEP001122AABBCC"}, {"button", 9}}).at("status").to_number<int>() == 404);
    // A new line skips the button the key holds.
    auto withLine = h.ok("line.add", {{"device", "SEP001122AABBCC"}, {"dn", "1003"}});
    CHECK(withLine.at("lines").as_array().at(2).at("index").to_number<int>() == 4);
    h.ok("speeddial.rm", {{"device", "SEP001122AABBCC"}, {"button", 3}});
    CHECK(h.ok("device.show", {{"device", "SEP001122AABBCC"}}).at("speed_dials").as_array().empty());
}

TEST_CASE("commands: a shared DN is allowed and shown on each device") {
    Harness h;
    h.ok("device.add", {{"device", "SEP001122AABBCC"}, {"model", "8845"}, {"lines", json::array{json::object{{"dn", "1000"}}}}});
    h.ok("device.add", {{"device", "SEP001122AABBCD"}, {"model", "7821"}, {"lines", json::array{json::object{{"dn", "1000"}}}}});
    auto d = h.ok("device.show", {{"device", "SEP001122AABBCC"}});
    auto shared = d.at("lines").as_array().at(0).at("shared_with").as_array();
    REQUIRE(shared.size() == 1);
    CHECK(shared[0].as_string() == "SEP001122AABBCD");
}

TEST_CASE("commands: import is all or nothing, reports every row, dry run writes nothing") {
    Harness h;
    h.ok("device.add", {{"device", "SEP0011223344AA"}, {"model", "8845"}});
    const std::string bad = "mac,model,line1_dn\n001122AABB01,8845,1001\nnot-a-mac,8845,1002\n001122AABB03,9999,1003\n";
    auto e = h.error("import", {{"csv", bad}});
    CHECK(e.at("status").to_number<std::int64_t>() == 422);
    auto details = e.at("details").as_array();
    REQUIRE(details.size() == 2);
    CHECK(details[0].at("row").to_number<std::int64_t>() == 3);
    CHECK(details[1].at("row").to_number<std::int64_t>() == 4);
    CHECK(h.deviceCount() == 1);

    const std::string clash = "mac,model\n001122AABB01,8845\n0011223344AA,7821\n";
    e = h.error("import", {{"csv", clash}, {"dry_run", true}});
    CHECK(e.at("details").as_array().at(0).at("row").to_number<std::int64_t>() == 3);
    e = h.error("import", {{"csv", clash}});
    CHECK(e.at("details").as_array().at(0).at("message").as_string() ==
          "device SEP0011223344AA already exists (use --update to replace it)");
    CHECK(h.deviceCount() == 1);

    auto dry = h.ok("import", {{"csv", clash}, {"dry_run", true}, {"update", true}});
    CHECK(dry.at("dry_run").as_bool());
    CHECK(h.deviceCount() == 1);

    auto done = h.ok("import", {{"csv", clash}, {"update", true}});
    CHECK(done.at("added").to_number<std::int64_t>() == 1);
    CHECK(done.at("updated").to_number<std::int64_t>() == 1);
    CHECK(h.ok("device.show", {{"device", "0011223344AA"}}).at("model").as_string() == "7821");

    auto csv = h.ok("export").at("csv").as_string();
    CHECK(std::string(csv) == "mac,model,description,load,transport\n0011223344AA,7821,,,tcp\n001122AABB01,8845,,,tcp\n");
}

TEST_CASE("commands: settings are validated as a whole and swapped in after commit") {
    Harness h;
    h.ok("setting.set", {{"key", "sip_port"}, {"value", "5070"}});
    CHECK(h.settings.get()->sipPort == 5070);

    auto e = h.error("setting.set", {{"key", "auto_reg_dn_first"}, {"value", "5000"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 422);
    CHECK(e.at("field").as_string() == "auto_reg_dn_last");
    CHECK(h.settings.get()->autoRegDnFirst == "1000");
    e = h.error("setting.set", {{"key", "timezone"}, {"value", "Mars"}});
    CHECK(e.at("field").as_string() == "timezone");
    e = h.error("setting.unset", {{"key", "colour"}});
    CHECK(e.at("status").to_number<std::int64_t>() == 422);

    bool sipPortChanged = false;
    auto list = h.ok("setting.list");
    for (const auto& s : list.as_array())
        if (s.at("key").as_string() == "sip_port") {
            CHECK(s.at("value").as_string() == "5070");
            CHECK(s.at("default").as_string() == "5060");
            sipPortChanged = s.at("changed").as_bool();
        }
    CHECK(sipPortChanged);
    h.ok("setting.unset", {{"key", "sip_port"}});
    CHECK(h.settings.get()->sipPort == 5060);
}

TEST_CASE("commands: model defaults") {
    Harness h;
    h.ok("model.set", {{"model", "CP-8845"}, {"load", "sip8845_65.14-2-1-0001-14"}});
    bool found = false;
    auto models = h.ok("model.list");
    for (const auto& m : models.as_array())
        if (m.at("model").as_string() == "8845") {
            found = true;
            CHECK(m.at("default_load").as_string() == "sip8845_65.14-2-1-0001-14");
            CHECK(m.at("typemodel").to_number<std::int64_t>() == 36224);
        }
    CHECK(found);
    CHECK(h.error("model.set", {{"model", "8845"}, {"load", "x.loads"}}).at("status").to_number<std::int64_t>() == 422);
    CHECK(h.error("model.set", {{"model", "1"}, {"load", "x"}}).at("field").as_string() == "model");
}

TEST_CASE("commands: every write publishes its event after the commit") {
    Harness h;
    std::vector<std::string> kinds;
    auto sub = h.bus.subscribe([&](const Event& e) { kinds.emplace_back(toString(e.kind)); });
    h.ok("device.add", {{"device", "SEP001122AABBCC"}, {"model", "8845"}});
    h.error("device.add", {{"device", "SEP001122AABBCC"}, {"model", "8845"}}); // failed: no event
    h.ok("line.add", {{"device", "SEP001122AABBCC"}, {"dn", "1"}});
    h.ok("setting.set", {{"key", "timezone"}, {"value", "Europe/Berlin"}});
    h.ok("device.rm", {{"device", "SEP001122AABBCC"}});
    CHECK(kinds == std::vector<std::string>{"device_added", "line_added", "setting_changed", "device_removed"});
}

TEST_CASE("commands: malformed requests") {
    Harness h;
    std::promise<json::object> p;
    h.commands.execute(json::value("just a string"), [&](json::object r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    CHECK(r.at("error").at("status").to_number<std::int64_t>() == 400);
    std::promise<json::object> p2;
    h.commands.execute(json::object{{"cmd", "device.list"}, {"args", json::array{}}},
                       [&](json::object x) { p2.set_value(std::move(x)); });
    CHECK(p2.get_future().get().at("error").at("field").as_string() == "args");
}
