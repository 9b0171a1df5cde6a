// Phones seen on the network that are not provisioned (schema 0006): the model source
// for auto-registration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"

namespace labcm::store {

struct SeenPhone {
    std::string mac;
    std::string model;   ///< labcm model name, "" when not reported
    std::string source;  ///< "sip" or "dhcp"
    std::string detail;  ///< user agent or vendor class
    std::string address;
    std::int64_t firstSeenMs = 0;
    std::int64_t lastSeenMs = 0;
};

class SeenPhoneStore {
public:
    explicit SeenPhoneStore(Db& db) : db_(db) {}
    /// @brief Records a sighting (writer job only). A known model is never replaced by "".
    void record(const SeenPhone& p, std::int64_t nowMs);
    std::optional<SeenPhone> get(const std::string& mac);
    std::vector<SeenPhone> all();

private:
    Db& db_;
};

} // namespace labcm::store
