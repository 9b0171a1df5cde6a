#include "app/phone_control.h"

#include <boost/asio/post.hpp>

#include "control/commands.h"

namespace labcm::app {

namespace json = boost::json;

namespace {

json::object controlReply(const sip::ControlResult& r) {
    if (!r.sent || r.status >= 300)
        return control::Commands::errorReply(std::make_exception_ptr(control::CommandError(
            r.sent ? 502 : 409, r.sent ? "phone_refused" : "not_registered", "device", r.detail)));
    json::object res{{"status", r.status}, {"phrase", r.phrase}, {"detail", r.detail}};
    return {{"ok", true}, {"result", std::move(res)}};
}

} // namespace

std::function<void(const std::string&, const std::string&, std::function<void(json::object)>)>
phoneControl(boost::asio::io_context& io, provision::FileNamespace& files, sip::SipService& sip) {
    return [&io, &files, &sip](const std::string& mac, const std::string& action, std::function<void(json::object)> reply) {
        sip.control(mac, *sip::parsePhoneAction(action), files.configStamp(mac), [&io, reply](sip::ControlResult r) {
            boost::asio::post(io, [reply, r] { reply(controlReply(r)); });
        });
    };
}

} // namespace labcm::app
