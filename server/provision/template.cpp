#include "provision/template.h"

#include <cctype>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace labcm::provision {
namespace {

constexpr const char* kIf = "labcm-if";
constexpr const char* kEach = "labcm-each";
constexpr const char* kName = "labcm-name";

// Name lookup through the chain of contexts, innermost first.
struct Scope {
    const TemplateContext& ctx;
    const Scope* outer;

    const std::string* value(const std::string& name) const {
        for (const Scope* s = this; s; s = s->outer)
            if (auto it = s->ctx.values.find(name); it != s->ctx.values.end()) return &it->second;
        return nullptr;
    }
    const std::vector<TemplateContext>* list(const std::string& name) const {
        for (const Scope* s = this; s; s = s->outer)
            if (auto it = s->ctx.lists.find(name); it != s->ctx.lists.end()) return &it->second;
        return nullptr;
    }
};

std::string substitute(const std::string& text, const Scope& scope, const char* where) {
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        auto open = text.find("{{", pos);
        if (open == std::string::npos) break;
        auto close = text.find("}}", open + 2);
        if (close == std::string::npos) throw TemplateError(fmt::format("unterminated '{{{{' in <{}>", where));
        out.append(text, pos, open - pos);
        auto name = text.substr(open + 2, close - open - 2);
        const auto* v = scope.value(name);
        if (!v) throw TemplateError(fmt::format("unknown placeholder {{{{{}}}}} in <{}>", name, where));
        out += *v;
        pos = close + 2;
    }
    out.append(text, pos, std::string::npos);
    return out;
}

bool truthy(const std::string& name, const Scope& scope, const char* where) {
    bool negate = !name.empty() && name[0] == '!';
    std::string key = negate ? name.substr(1) : name;
    bool result;
    if (const auto* l = scope.list(key)) {
        result = !l->empty();
    } else if (const auto* v = scope.value(key)) {
        result = !v->empty() && *v != "false" && *v != "0";
    } else {
        throw TemplateError(fmt::format("unknown name '{}' in labcm-if of <{}>", key, where));
    }
    return negate ? !result : result;
}

void expandNode(pugi::xml_node node, const Scope& scope);

// Expands the children of `node`; children may be removed or multiplied on the way.
void expandChildren(pugi::xml_node node, const Scope& scope) {
    std::vector<pugi::xml_node> children;
    for (auto c : node.children()) children.push_back(c);
    for (auto child : children) {
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
            std::string v = child.value();
            if (v.find("{{") != std::string::npos) child.set_value(substitute(v, scope, node.name()).c_str());
            continue;
        }
        if (child.type() != pugi::node_element) continue;
        if (auto each = child.attribute(kEach)) {
            std::string listName = each.value();
            const auto* items = scope.list(listName);
            if (!items) throw TemplateError(fmt::format("unknown list '{}' in labcm-each of <{}>", listName, child.name()));
            child.remove_attribute(kEach);
            for (const auto& item : *items) {
                Scope inner{item, &scope};
                auto copy = node.insert_copy_before(child, child);
                if (auto cond = copy.attribute(kIf)) {
                    bool keep = truthy(cond.value(), inner, copy.name());
                    copy.remove_attribute(kIf);
                    if (!keep) {
                        node.remove_child(copy);
                        continue;
                    }
                }
                expandNode(copy, inner);
            }
            node.remove_child(child);
            continue;
        }
        if (auto cond = child.attribute(kIf)) {
            bool keep = truthy(cond.value(), scope, child.name());
            child.remove_attribute(kIf);
            if (!keep) {
                node.remove_child(child);
                continue;
            }
        }
        expandNode(child, scope);
    }
}

void expandNode(pugi::xml_node node, const Scope& scope) {
    if (auto rename = node.attribute(kName)) {
        auto name = substitute(rename.value(), scope, node.name());
        bool valid = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
        for (char c : name)
            valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
        if (!valid) throw TemplateError(fmt::format("labcm-name gives '{}', not an XML element name", name));
        node.set_name(name.c_str());
        node.remove_attribute(kName);
    }
    for (auto a : node.attributes()) {
        std::string v = a.value();
        if (v.find("{{") != std::string::npos) a.set_value(substitute(v, scope, node.name()).c_str());
    }
    expandChildren(node, scope);
}

} // namespace

void expandTemplate(pugi::xml_node root, const TemplateContext& ctx) {
    Scope scope{ctx, nullptr};
    if (root.type() == pugi::node_element && root.attribute(kEach))
        throw TemplateError(fmt::format("labcm-each is not allowed on the root element <{}>", root.name()));
    if (root.type() == pugi::node_document) expandChildren(root, scope);
    else expandNode(root, scope);
}

std::string serialize(const pugi::xml_document& doc) {
    std::ostringstream out;
    doc.save(out, "  ", pugi::format_indent | pugi::format_skip_control_chars | pugi::format_no_empty_element_tags, pugi::encoding_utf8);
    return out.str();
}

std::string renderTemplate(const std::string& templateText, const TemplateContext& ctx, const std::string& templateName) {
    pugi::xml_document doc;
    auto result = doc.load_buffer(templateText.data(), templateText.size(),
                                  pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
    if (!result)
        throw TemplateError(fmt::format("template {} is not well-formed XML at byte {}: {}", templateName,
                                        result.offset, result.description()));
    expandTemplate(doc, ctx);
    return serialize(doc);
}

} // namespace labcm::provision
