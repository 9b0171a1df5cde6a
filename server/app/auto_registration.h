// Auto-registration, the policy (the pure parts, DN choice and rate, are in
// provision/auto_registration.h): an unknown SEP<MAC>.cnf.xml from a phone labcm has seen
// register (so it knows the model) creates the device through the same device.add handler
// the CLI and the admin API use.
//
// Ordering, by construction:
// - a sighting (a REGISTER answered 404) is remembered in memory before the 404 leaves the
//   sofia thread, until its row is committed: the phone's next boot finds it;
// - the device being created is announced to the registrar (and waited for) before the
//   file rendered for it is served: the phone's REGISTER right after its SEP file gets 200.
//
// Threads: decide() and the pending set belong to the io thread; RecentSightings is used
// from any thread.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "control/commands.h"
#include "core/device.h"
#include "core/events.h"
#include "core/rate_limiter.h"
#include "core/settings.h"
#include "provision/auto_registration.h"
#include "store/seen_phone_store.h"
#include "store/sqlite.h"

namespace labcm::app {

/// @brief Sightings of unknown phones not yet committed (any thread; bounded by
/// limits::kPendingSightings).
class RecentSightings {
public:
    /// @brief A phone labcm does not know registered (before it is answered).
    void add(const store::SeenPhone& p);
    /// @brief Its row is committed (or failed): the database answers from now on.
    void saved(const std::string& mac);
    /// @brief The sighting, merged with the stored one.
    std::optional<store::SeenPhone> get(const std::string& mac, std::optional<store::SeenPhone> stored);

private:
    std::mutex mutex_;
    std::map<std::string, store::SeenPhone> pending_;
};

class AutoRegistration {
public:
    struct Deps {
        store::Db& reader;
        const SettingsHolder& settings;
        EventBus& bus;
        control::Commands& commands;
        RecentSightings& sightings;
        /// Makes a device being created known to the registrar; returns once it is.
        std::function<void(const Device&)> announce;
        /// The device was not created after all: the registrar's view is rebuilt.
        std::function<void()> withdrawn;
    };
    explicit AutoRegistration(Deps deps);

    /// @brief The FileNamespace hook: the device being created for `mac`, or nullopt with
    /// the reason in `why`. io thread.
    std::optional<Device> decide(const std::string& mac, std::string& why);

    /// @brief Devices created and not yet committed (io thread): the registrar's view
    /// includes them.
    const std::map<std::string, Device>& pending() const { return pending_; }

private:
    Deps deps_;
    RateLimiter rate_;
    std::map<std::string, Device> pending_;
};

} // namespace labcm::app
