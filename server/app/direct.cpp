// Without a server loop: `labcm health` and one command run on the database directly.
#include "app/server.h"

#include <future>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "control/commands.h"
#include "core/limits.h"
#include "store/event_log.h"
#include "store/writer.h"

namespace labcm::app {

namespace asio = boost::asio;
namespace json = boost::json;

int healthCheck(const DataDir& dir) {
    try {
        Settings s;
        {
            store::Db db(dir.db().string(), store::Db::Mode::ReadOnly);
            s = loadSettingsOrDefaults(db);
        }
        std::string host = s.adminBind == "0.0.0.0" ? "127.0.0.1" : s.adminBind == "::" ? "::1" : s.adminBind;
        asio::io_context io;
        boost::beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(3));
        stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), s.adminPort));
        boost::beast::http::request<boost::beast::http::empty_body> req{boost::beast::http::verb::get, "/api/health", 11};
        req.set(boost::beast::http::field::host, host);
        boost::beast::http::write(stream, req);
        boost::beast::flat_buffer buf;
        boost::beast::http::response<boost::beast::http::string_body> res;
        boost::beast::http::read(stream, buf, res);
        if (res.result_int() != 200) {
            std::cerr << "labcm health: " << res.result_int() << " " << res.body() << "\n";
            return 1;
        }
        std::cout << res.body() << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "labcm health: " << e.what() << "\n";
        return 1;
    }
}

json::value runDirect(const DataDir& dir, const json::value& request) {
    DataDirLock lock(dir);
    if (!lock.held())
        throw ServerNotAnswering(fmt::format(
            "a labcm server holds {} but its control socket {} does not answer; is it starting or stopping?",
            dir.root.string(), dir.socket().string()));
    migrateDataDir(dir);

    store::Writer writer(dir.db().string());
    store::Db reader(dir.db().string());
    EventBus bus(limits::kEventRingSize);
    store::EventLogSink eventSink(bus, writer);
    SettingsHolder settings(loadSettingsOrDefaults(reader));
    control::RuntimeInfo info;
    info.dataDir = dir.display();
    info.filesDir = dir.files().string();
    info.mode = "direct";

    // Completions run inline on the writer thread; this thread waits for the one reply.
    std::promise<json::object> replied;
    control::Commands commands({reader, writer, bus, settings, info, [](std::function<void()> f) { f(); }});
    commands.execute(request, [&](json::object r) { replied.set_value(std::move(r)); });
    auto reply = replied.get_future().get();
    eventSink.flush().wait();
    writer.stop();
    return reply;
}

} // namespace labcm::app
