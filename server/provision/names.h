// Request names as phones send them, checked and classified. Pure (no I/O): shared by
// TFTP and HTTP, fuzzed on its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace labcm::provision {

enum class NameKind {
    TrustList,     ///< CTL*.tlv / ITL*.tlv: not found (non-secure cluster)
    Signed,        ///< a signed config file (*.xml.sgn, *.tlv.sgn): not found (labcm signs nothing)
    DeviceConfig,  ///< SEP<MAC>.cnf.xml: rendered
    DefaultConfig, ///< XMLDefault.cnf.xml: rendered
    Template,      ///< dialplan.xml, softkeys.xml, AppDialRules.xml, the ring lists, Desktops/../List.xml: rendered
    File,          ///< anything else: from the files directory
};

struct RequestName {
    bool ok = false;
    std::string reason;                ///< why it was refused (ok == false)
    std::vector<std::string> parts;    ///< path components as sent, without leading '/'
    std::string lower;                 ///< the joined path in lower case: the lookup key
    NameKind kind = NameKind::File;
    std::string mac;                   ///< for SEP/CTLSEP/ITLSEP names: the MAC, upper case
    std::string templateName;          ///< for Template: the built-in template's name
    std::string resolution;            ///< for Desktops/<W>x<H>x<D>/List.xml: "<W>x<H>x<D>"
};

/// @brief Checks and classifies a requested name. Refused: empty, longer than
/// limits::kMaxRequestName, NUL or other control characters, backslashes, empty, "." or
/// ".." components. One leading '/' (or several) is dropped; case is ignored.
RequestName parseRequestName(std::string_view raw);

} // namespace labcm::provision
