#include "app/phone_control.h"

#include <chrono>

#include <boost/asio/post.hpp>

#include "control/commands.h"

namespace labcm::app {

namespace json = boost::json;

namespace {

json::object controlReply(const sip::ControlResult& r, std::int64_t sinceMs) {
    if (!r.sent || r.status >= 300)
        return control::Commands::errorReply(std::make_exception_ptr(control::CommandError(
            r.sent ? 502 : 409, r.sent ? "phone_refused" : "not_registered", "device", r.detail)));
    // since_ms: when the NOTIFY went; device.outcome reads the phone's events from then on.
    json::object res{{"status", r.status}, {"phrase", r.phrase}, {"detail", r.detail}, {"since_ms", sinceMs}};
    return {{"ok", true}, {"result", std::move(res)}};
}

} // namespace

std::function<void(const std::string&, const std::string&, std::function<void(json::object)>)>
phoneControl(boost::asio::io_context& io, provision::FileNamespace& files, sip::SipService& sip) {
    return [&io, &files, &sip](const std::string& mac, const std::string& action, std::function<void(json::object)> reply) {
        const auto sinceMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
        sip.control(mac, *sip::parsePhoneAction(action), files.configStamp(mac), [&io, reply, sinceMs](sip::ControlResult r) {
            boost::asio::post(io, [reply, r, sinceMs] { reply(controlReply(r, sinceMs)); });
        });
    };
}

} // namespace labcm::app
