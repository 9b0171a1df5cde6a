// Phone control for the command layer: restart, reset, apply-config and check-version reach
// a registered phone as a service-control NOTIFY; the reply carries the phone's answer.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "provision/file_namespace.h"
#include "sip/sip_service.h"

namespace labcm::app {

/// @brief The control::Context::phoneControl of a running server. The NOTIFY carries the
/// versionStamp of the config labcm serves now (FileNamespace::configStamp), so apply-config
/// and check-version compare against it. `reply` runs on the io thread: the outcome, or
/// 409 not_registered / 502 phone_refused (the phone, or sofia for a timeout or a dead
/// connection, said no).
std::function<void(const std::string& mac, const std::string& action, std::function<void(boost::json::object)> reply)>
phoneControl(boost::asio::io_context& io, provision::FileNamespace& files, sip::SipService& sip);

} // namespace labcm::app
