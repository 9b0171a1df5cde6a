// A small template language on top of XML, so templates stay valid XML an admin can edit
// and pugixml does every escape:
//   {{name}}            in text and attribute values: the value of `name`
//   labcm-if="name"     keep the element only when `name` is a non-empty value (not "false"
//                       or "0") or a non-empty list; labcm-if="!name" negates
//   labcm-each="list"   repeat the element once per item of `list`; inside, names resolve
//                       in the item first, then outside
//   labcm-name="x{{n}}" rename the element (XMLDefault's loadInformation<typemodel>)
// Unknown names are errors (a typo in a template must not silently produce empty config).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <pugixml.hpp>

namespace labcm::provision {

class TemplateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct TemplateContext {
    std::map<std::string, std::string> values;
    std::map<std::string, std::vector<TemplateContext>> lists;
};

/// @brief Expands the template in `root` (and its children) in place.
/// @throw TemplateError for an unknown name, an unterminated {{, or labcm-each on the root.
void expandTemplate(pugi::xml_node root, const TemplateContext& ctx);

/// @brief Parses template text, expands it, and serialises it as UTF-8 XML with a
/// declaration, two-space indentation and control characters dropped.
/// @throw TemplateError when the template is not well-formed XML.
std::string renderTemplate(const std::string& templateText, const TemplateContext& ctx,
                           const std::string& templateName);

/// @brief Serialises a document the way every rendered file is written.
std::string serialize(const pugi::xml_document& doc);

} // namespace labcm::provision
