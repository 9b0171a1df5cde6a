// A phone as the admin configures it: the device (SEP<MAC>) and its lines (buttons).
// Plain data plus validation; shared by the store, the CLI, CSV import and the admin API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace labcm {

struct Line {
    int index = 0;             ///< button / lineIndex, 1-based; unique per device
    std::string dn;            ///< directory number (line `name`); may be shared by devices
    std::string displayName;   ///< caller-ID name
    std::string label;         ///< text next to the button
    std::string authName;      ///< digest user name; empty = no digest for this line
    std::string authPassword;  ///< digest password, kept in clear: the SEP file carries it
    std::string contact;       ///< user part of the REGISTER Contact; empty = phone's choice
};

/// @brief A speed-dial key (featureID 2) or a BLF speed dial (featureID 21, shows the
/// other line's state and picks up its calls).
struct SpeedDial {
    int button = 0;      ///< button number, 1-based; not shared with a line
    std::string number;  ///< what it dials
    std::string label;   ///< text next to the button; empty = the number
    bool blf = false;
};

struct Device {
    std::string mac;           ///< 12 upper-case hex digits
    std::string model;         ///< short model name from models.h ("8845")
    std::string description;
    std::string loadOverride;  ///< firmware load for this device; empty = model default
    std::string transport = "tcp"; ///< SIP transport the phone is told to use: "tcp" or "udp"
    std::string dhcpAddress;   ///< DHCP reservation (dotted quad); empty = from the pool's range
    bool digestAuth = false;   ///< challenge this phone's REGISTER (credentials: the lines' auth name/password)
    std::vector<Line> lines;   ///< ordered by index
    std::vector<SpeedDial> speedDials; ///< ordered by button
    std::int64_t createdAt = 0; ///< unix time, milliseconds
    std::int64_t updatedAt = 0; ///< unix time, milliseconds

    std::string name() const { return "SEP" + mac; }
};

/// @brief One problem with one field of input, in words an admin can act on.
struct FieldError {
    std::string field;   ///< "mac", "model", "line2.dn", ...
    std::string message;
};

/// @brief Checks a device's own fields (not its lines). The model is normalised
/// ("CP-8845" -> "8845") and the MAC must already be normalised.
std::optional<FieldError> validateDevice(Device& d);

/// @brief Checks a line's fields; `prefix` names it in the error ("line2").
std::optional<FieldError> validateLine(const Line& l, const std::string& prefix);

/// @brief The lowest button that no line and no speed dial of the device uses.
int firstFreeButton(const Device& d);

/// @brief Checks a speed dial's fields; `prefix` names it in the error.
std::optional<FieldError> validateSpeedDial(const SpeedDial& s, const std::string& prefix);
/// @brief Checks a directory number on its own (a mailbox's, a BLF target's): what a line's DN may hold.
std::optional<FieldError> validateDn(const std::string& dn, const std::string& field);

/// @brief Checks a text field: length and characters XML 1.0 cannot carry (control
/// characters other than tab), plus invalid UTF-8.
std::optional<std::string> checkText(const std::string& value, std::size_t maxChars);

} // namespace labcm
