// Renders the phone-facing XML files from the database through the templates.
// Pure: inputs in, bytes out (no sockets, no SQLite); the file namespace gathers the inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"
#include "core/phone_settings.h"
#include "core/settings.h"
#include "provision/backgrounds.h"
#include "provision/ring_tones.h"

namespace labcm::provision {

/// @brief Template text by file name: the built-in ones, or an admin's copy in an
/// override directory (<data-dir>/templates/), checked on every use.
class TemplateSet {
public:
    explicit TemplateSet(std::filesystem::path overrideDir = {});
    /// @throw std::runtime_error for an unknown template name.
    std::string text(const std::string& name) const;
    /// @brief Changes whenever an override file appears, disappears or changes. One stat of
    /// the folder while it holds no override; one per override file otherwise. Any thread.
    std::uint64_t generation() const;
    static const std::map<std::string, std::string>& builtIn();

private:
    std::filesystem::path overrideDir_;
    mutable std::mutex mutex_; ///< generation() is asked from any thread
    mutable std::int64_t lastDirMtime_ = -2;
    mutable bool anyOverride_ = true;
    mutable std::uint64_t lastGeneration_ = 0;
};

struct DialPattern {
    std::string match;   ///< e.g. "1..."
    int timeoutSeconds;  ///< 0 = dial at once; more when a longer DN starts the same way
};

/// @brief Everything besides the device that goes into a phone's files.
struct RenderInputs {
    Settings settings;
    std::string registrar;                           ///< processNodeName (resolved from "auto")
    std::map<std::string, std::string> modelLoads;   ///< model -> default load
    std::set<std::string> sharedDns;                 ///< DNs that sit on more than one device
    bool userLocalePresent = false;                  ///< files/<user_locale>/<model jar> exists
    bool networkLocalePresent = false;               ///< files/<network_locale>/g3|g4-tones.xml exists
    /// The locale folders' versions: a phone fetches a locale again when its version changes, so
    /// each is made from its folder's modification time (an install or a copied file moves it).
    std::string userLocaleVersion, networkLocaleVersion;
    std::vector<DialPattern> dialPatterns;            ///< MATCH patterns for the DNs in use
    std::vector<DialPattern> adminPatterns;           ///< the admin's own (labcm dialplan), after those
    /// Phone settings set for the lab, per model, and for the device being rendered (labcm
    /// phone-setting); its effective values go into its SEP file.
    PhoneSettingValues labPhoneSettings;
    std::map<std::string, PhoneSettingValues> modelPhoneSettings;
    PhoneSettingValues devicePhoneSettings;
    /// Loads named by a model default or a device whose files are incomplete: never sent to
    /// phones (they keep the load they run rather than fail an upgrade at every boot).
    std::set<std::string> withheldLoads;
    std::vector<RingTone> rings, ringsWide; ///< the ring lists (read when one is rendered)
    std::string backgroundFolder;           ///< "<W>x<H>x<D>" of the List.xml being rendered
    std::vector<Background> backgrounds;    ///< its images (read when one is rendered)
};

/// @brief The load a device is told to run: its own, else its model's default; "" (keep the
/// current one) when none is set or that load is withheld.
std::string deviceLoad(const Device& d, const RenderInputs& in);
/// @brief The load named for the device, withheld or not ("" when none).
std::string namedLoad(const Device& d, const std::map<std::string, std::string>& modelLoads);


inline constexpr const char* kDialTemplateFile = "dialplan.xml";
inline constexpr const char* kSoftkeyFile = "softkeys.xml";
inline constexpr const char* kFeaturePolicyFile = "FeaturePolicy.xml"; ///< 8961, 9951, 9971

/// @brief SEP<MAC>.cnf.xml. @throw TemplateError
std::string renderDeviceConfig(const Device& d, const RenderInputs& in, const TemplateSet& t);
/// @brief XMLDefault.cnf.xml. @throw TemplateError
std::string renderDefaultConfig(const RenderInputs& in, const TemplateSet& t);
/// @brief The dial template, the softkey file, AppDialRules.xml: by template name.
std::string renderStatic(const std::string& name, const RenderInputs& in, const TemplateSet& t);

/// @brief Digits only: a DN with letters or '+' cannot be keyed in as a pattern, so it is not
/// in the dial plan.
bool dialable(std::string_view dn);

/// @brief Patterns that make every DN dial without the interdigit wait: one per (first
/// digit, length), e.g. 1001 and 1999 -> "1...". A pattern that a longer one with the
/// same first digit extends (100 and 1000) waits kOverlapTimeout seconds instead of 0.
std::vector<DialPattern> dialPatternsFor(const std::vector<std::string>& dns);
inline constexpr int kOverlapTimeout = 3;

/// @brief The versionStamp a rendered file carries: a name-based (SHA-1) UUID of the
/// bytes rendered with an empty stamp, so it changes exactly when the content does.
std::string contentStamp(const std::string& bytes);

/// @brief The versionStamp a rendered config carries (the root element's <versionStamp>),
/// "" when it has none or is not XML.
std::string versionStampOf(std::string_view xml);

} // namespace labcm::provision
