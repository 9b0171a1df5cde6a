#include "core/locales.h"

#include <array>
#include <utility>

#include "core/text.h"

namespace labcm {
namespace {

// CUCM's user locales (Unified CM Endpoints Locale Installer) and their language codes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 44> kLocales{{
    {"arabic_saudi_arabia", "ar_SA"}, {"bulgarian_bulgaria", "bg_BG"}, {"catalan_spain", "ca_ES"},
    {"chinese_china", "zh_CN"}, {"chinese_hong_kong", "zh_HK"}, {"chinese_taiwan", "zh_TW"},
    {"croatian_croatia", "hr_HR"}, {"czech_czech_republic", "cs_CZ"}, {"danish_denmark", "da_DK"},
    {"dutch_netherlands", "nl_NL"}, {"english_united_kingdom", "en_GB"}, {"english_united_states", "en_US"},
    {"estonian_estonia", "et_EE"}, {"finnish_finland", "fi_FI"}, {"french_canada", "fr_CA"},
    {"french_france", "fr_FR"}, {"german_germany", "de_DE"}, {"german_switzerland", "de_CH"},
    {"greek_greece", "el_GR"}, {"hebrew_israel", "he_IL"}, {"hungarian_hungary", "hu_HU"},
    {"italian_italy", "it_IT"}, {"japanese_japan", "ja_JP"}, {"korean_korea_republic", "ko_KR"},
    {"latvian_latvia", "lv_LV"}, {"lithuanian_lithuania", "lt_LT"}, {"norwegian_norway", "nb_NO"},
    {"polish_poland", "pl_PL"}, {"portuguese_brazil", "pt_BR"}, {"portuguese_portugal", "pt_PT"},
    {"romanian_romania", "ro_RO"}, {"russian_russian_federation", "ru_RU"}, {"serbian_republic_of_serbia", "sr_RS"},
    {"serbian_republic_of_montenegro", "sr_ME"}, {"slovak_slovakia", "sk_SK"}, {"slovenian_slovenia", "sl_SI"},
    {"spanish_colombia", "es_CO"}, {"spanish_spain", "es_ES"}, {"swedish_sweden", "sv_SE"},
    {"thai_thailand", "th_TH"}, {"turkish_turkey", "tr_TR"}, {"ukrainian_ukraine", "uk_UA"},
    {"vietnamese_viet_nam", "vi_VN"}, {"indonesian_indonesia", "id_ID"},
}};

} // namespace

std::optional<std::string_view> localeLanguage(std::string_view folder) {
    auto lower = text::toLower(folder);
    for (const auto& [name, code] : kLocales)
        if (name == lower) return code;
    return std::nullopt;
}

LocaleFileKind localeFileKind(std::string_view fileName) {
    auto n = text::toLower(fileName);
    if (n.ends_with("-sip.jar")) return LocaleFileKind::User;
    if (n == "g3-tones.xml" || n == "g4-tones.xml") return LocaleFileKind::Network;
    return LocaleFileKind::Other;
}

} // namespace labcm
