#include <doctest/doctest.h>

#include "http/admin_api.h"
#include "http/admin_auth.h"

using namespace labcm::admin;
using namespace std::chrono_literals;

TEST_CASE("admin auth: hashes are salted and verify only the right password") {
    auto a = hashPassword("correct horse");
    auto b = hashPassword("correct horse");
    CHECK(a != b); // salted
    CHECK(isPasswordHash(a));
    CHECK(verifyPassword(a, "correct horse"));
    CHECK(!verifyPassword(a, "correct hors"));
    CHECK(!verifyPassword("plain", "plain"));
    CHECK(!isPasswordHash("$2y$10$bcrypt"));
    CHECK(passwordProblem("short") != "");
    CHECK(passwordProblem(std::string(300, 'x')) != "");
    CHECK(passwordProblem("with\nnewline") != "");
    CHECK(passwordProblem("long enough") == "");
    CHECK(randomToken().size() == 64);
    CHECK(randomToken() != randomToken());
    CHECK(passwordProblem(randomPassword()) == "");
    CHECK(equalTokens("abc", "abc"));
    CHECK(!equalTokens("abc", "abd"));
    CHECK(!equalTokens("", ""));
    CHECK(!equalTokens("abc", "abcd"));
}

TEST_CASE("admin auth: sessions expire when idle and the table is bounded") {
    Sessions s(10min, 2);
    auto t0 = Clock::time_point{} + 1h;
    auto a = s.create("admin", t0);
    REQUIRE(s.touch(a, t0 + 9min));
    CHECK(s.touch(a, t0 + 18min)); // touching restarts the idle time
    CHECK(!s.touch(a, t0 + 29min));
    CHECK(!s.touch("nope", t0));
    auto b = s.create("admin", t0 + 30min);
    auto c = s.create("admin", t0 + 31min);
    auto d = s.create("admin", t0 + 32min); // full: the oldest (b) goes
    CHECK(!s.touch(b, t0 + 33min));
    CHECK(s.touch(c, t0 + 33min));
    CHECK(s.touch(d, t0 + 33min));
    CHECK(s.touch(c, t0 + 33min)->csrf.size() == 64);
    s.remove(c);
    CHECK(!s.touch(c, t0 + 33min));
}

TEST_CASE("admin auth: login attempts per address wait out the window") {
    LoginLimiter l(3, 5min, 100);
    auto t0 = Clock::time_point{} + 1h;
    for (int i = 0; i < 3; ++i) {
        CHECK(l.wait("10.0.0.1", t0) == Clock::duration::zero());
        l.attempted("10.0.0.1", t0 + std::chrono::seconds(i));
    }
    CHECK(l.wait("10.0.0.1", t0 + 10s) > 4min);
    CHECK(l.wait("10.0.0.2", t0 + 10s) == Clock::duration::zero()); // others are not affected
    CHECK(l.wait("10.0.0.1", t0 + 5min) == Clock::duration::zero());
    l.attempted("10.0.0.3", t0);
    l.succeeded("10.0.0.3");
    CHECK(l.wait("10.0.0.3", t0) == Clock::duration::zero());
}

TEST_CASE("admin api: requests map to the CLI's commands") {
    auto m = mapRequest("GET", "/api/devices?filter=88+45&sort=-state&limit=10", "", "");
    CHECK(m.request.at("cmd").as_string() == "device.page");
    CHECK(m.request.at("args").at("filter").as_string() == "88 45");
    CHECK(m.request.at("args").at("sort").as_string() == "-state");
    m = mapRequest("PATCH", "/api/devices/SEP001122AABBCC", "application/json; charset=utf-8", R"({"description":"Desk"})");
    CHECK(m.request.at("cmd").as_string() == "device.edit");
    CHECK(m.request.at("args").at("device").as_string() == "SEP001122AABBCC"); // from the path
    CHECK(m.request.at("args").at("description").as_string() == "Desk");
    CHECK(m.route->write);
    m = mapRequest("DELETE", "/api/devices/001122AABBCC/lines/2", "", "");
    CHECK(m.request.at("args").at("index").as_string() == "2");
    m = mapRequest("POST", "/api/devices/x/actions/restart", "", "");
    CHECK(m.request.at("cmd").as_string() == "device.control");
    CHECK(m.request.at("args").at("action").as_string() == "restart");
    m = mapRequest("POST", "/api/import?dry_run=true&update=0", "text/csv", "mac,model\n");
    CHECK(m.request.at("args").at("dry_run").as_bool());
    CHECK(!m.request.at("args").at("update").as_bool());
    CHECK(m.request.at("args").at("csv").as_string() == "mac,model\n");
    m = mapRequest("DELETE", "/api/settings/ntp%5Fservers", "", "");
    CHECK(m.request.at("args").at("key").as_string() == "ntp_servers");
    CHECK(m.route->okStatus == 200);
    CHECK(mapRequest("POST", "/api/devices", "application/json", "{}").route->okStatus == 201);

    auto status = [](auto fn) {
        try {
            fn();
        } catch (const ApiError& e) {
            return e.status;
        }
        return 0u;
    };
    CHECK(status([] { mapRequest("GET", "/api/nothing", "", ""); }) == 404);
    CHECK(status([] { mapRequest("PUT", "/api/devices", "", ""); }) == 405);
    CHECK(status([] { mapRequest("POST", "/api/devices", "application/json", "{"); }) == 400);
    CHECK(status([] { mapRequest("POST", "/api/devices", "application/json", "[1]"); }) == 400);
    CHECK(status([] { mapRequest("POST", "/api/devices", "text/plain", "{}"); }) == 415);
    CHECK(status([] { mapRequest("POST", "/api/import", "application/json", "{}"); }) == 415);
    CHECK(status([] { mapRequest("GET", "/api/devices/%zz", "", ""); }) == 400);
    CHECK(status([] { mapRequest("DELETE", "/api/devices/x", "", "body"); }) == 400);
    // An upload's body is the file the HTTP layer wrote: it is the package, whatever the query says.
    auto up = mapRequest("POST", "/api/firmware/import?package=/etc/shadow&set_default=true&name=a.zip", "application/zip",
                         "/data/files/.labcm-upload-1-2");
    CHECK(up.request.at("cmd") == "firmware.import");
    CHECK(up.request.at("args").at("package") == "/data/files/.labcm-upload-1-2");
    CHECK(up.request.at("args").at("set_default") == true);
    CHECK(uploadRoute("POST", "/api/locales/install?set=true") != nullptr);
    CHECK(uploadRoute("GET", "/api/firmware/import") == nullptr);
    CHECK(uploadRoute("POST", "/api/import") == nullptr);
}

TEST_CASE("admin api: command replies become HTTP statuses") {
    const auto& add = *mapRequest("POST", "/api/devices", "", "").route;
    CHECK(replyStatus({{"ok", true}}, add) == 201);
    CHECK(replyStatus({{"ok", false}, {"error", {{"status", 409}}}}, add) == 409);
    CHECK(replyStatus({{"ok", false}, {"error", {{"status", 422}}}}, add) == 422);
    CHECK(replyStatus({{"ok", false}}, add) == 500);
    CHECK(replyStatus({{"ok", false}, {"error", {{"status", 200}}}}, add) == 500);
    CHECK(urlDecode("a%20b+c", true) == "a b c");
    CHECK(urlDecode("a+b", false) == "a+b");
    CHECK(!urlDecode("%4", true));
    CHECK(queryParam("a=1&b=x%3Dy", "b") == "x=y");
    CHECK(!queryParam("a=1", "b"));
}

TEST_CASE("admin api: an unknown or repeated JSON key is a 400 naming it (issue 19)") {
    auto refusal = [](std::string_view method, std::string_view path, std::string body) {
        try {
            mapRequest(method, path, "application/json", body);
        } catch (const ApiError& e) {
            return e;
        }
        return ApiError{0, "", "", ""};
    };
    auto e = refusal("PATCH", "/api/devices/SEP001122AABBCC", R"({"description":"Desk","descripton":"typo"})");
    CHECK(e.status == 400);
    CHECK(e.code == "unknown_field");
    CHECK(e.field == "descripton");
    CHECK(e.message.find("unknown field 'descripton'") != std::string::npos);
    // A path parameter in the body is not one of the body's fields either.
    CHECK(refusal("PATCH", "/api/devices/SEP001122AABBCC", R"({"device":"SEP00000000FFFF"})").field == "device");
    e = refusal("PUT", "/api/settings/timezone", R"({"value":"UTC","value":"Etc/UTC"})");
    CHECK(e.status == 400);
    CHECK(e.field == "value");
    CHECK(e.message == "the key 'value' is given twice");
    // In a nested line too, and a line's own unknown field.
    CHECK(refusal("POST", "/api/devices", R"({"device":"001122AABBCC","model":"8845","lines":[{"dn":"1","dn":"2"}]})").field == "dn");
    CHECK(refusal("POST", "/api/devices", R"({"device":"001122AABBCC","model":"8845","lines":[{"dn":"1","colour":"red"}]})").field ==
          "lines.colour");
    // Every key a route lists is taken; keys that only look alike are different.
    auto m = mapRequest("PUT", "/api/dhcp/pools/lab", "application/json",
                        R"({"subnet":"10.0.0.0/24","range":"10.0.0.10-10.0.0.20","routers":"10.0.0.1","dns":"","domain":"",)"
                        R"("ntp":"","tftp":"10.0.0.2","option66":"","lease_time":3600})");
    CHECK(m.request.at("args").at("lease_time").as_int64() == 3600);
    m = mapRequest("POST", "/api/devices", "application/json",
                   R"({"device":"001122AABBCC","model":"8845","lines":[{"dn":"1001","label":"a"},{"dn":"1002","label":"b"}]})");
    CHECK(m.request.at("args").at("lines").as_array().size() == 2);
    CHECK(refusal("PUT", "/api/models/8845", R"({"load":"x","loa":"y"})").field == "loa");
}
