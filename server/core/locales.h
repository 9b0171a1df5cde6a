// CUCM's locale folder names and the language each stands for (the SEP file's langCode).
// Cisco's locale installers name their folders after the language and country in English
// ("German_Germany", "english_united_kingdom"); labcm reads the code from the name. Pure.
#pragma once

#include <optional>
#include <string_view>

namespace labcm {

/// @brief The language code (de_DE) of a user-locale folder name, case ignored; nullopt for a
/// name that is not one of CUCM's.
std::optional<std::string_view> localeLanguage(std::string_view folder);

/// @brief What a file says of the locale folder it is in: a phone's `*-sip.jar` makes it a user
/// locale, `g3-tones.xml` / `g4-tones.xml` a network locale. Case ignored.
enum class LocaleFileKind { User, Network, Other };
LocaleFileKind localeFileKind(std::string_view fileName);

} // namespace labcm
