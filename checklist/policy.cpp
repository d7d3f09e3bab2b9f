#include "checklist/policy.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "checklist/mrkdwn.hpp"

namespace relbot::checklist {

namespace {

constexpr std::array<std::string_view, 4> keys = {"owner", "evidence", "sign-off", "auto"};

bool is_key(std::string_view k) {
    for (auto known : keys) {
        if (k == known) {
            return true;
        }
    }
    return false;
}

std::vector<std::string_view> split(std::string_view s, char by) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto at = s.find(by, start);
        out.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) {
            return out;
        }
        start = at + 1;
    }
}

}  // namespace

bool valid_role_name(std::string_view role) {
    if (role.empty() || role.size() > 32) {
        return false;
    }
    for (char c : role) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

annotation_result read_annotation(std::string_view comment) {
    auto parts = split(comment, ';');
    // Is it an annotation at all? One of its parts must be `key: value` with a known key.
    bool annotation = false;
    for (auto part : parts) {
        auto at = part.find(':');
        annotation =
            annotation || (at != std::string_view::npos && is_key(trim(part.substr(0, at))));
    }
    if (!annotation) {
        return not_an_annotation{};
    }
    std::size_t colon = 0;
    item_policy p;
    std::array<bool, keys.size()> seen{};
    for (auto part : parts) {
        part = trim(part);
        if (part.empty()) {
            continue;  // a trailing `;`
        }
        colon = part.find(':');
        if (colon == std::string_view::npos) {
            return annotation_error{"\"" + std::string(part) +
                                    "\" is not key: value (keys: owner, evidence, sign-off, "
                                    "auto)"};
        }
        auto key = trim(part.substr(0, colon));
        auto value = trim(part.substr(colon + 1));
        std::size_t index = keys.size();
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key) {
                index = i;
            }
        }
        if (index == keys.size()) {
            return annotation_error{"unknown key \"" + std::string(key) +
                                    "\" (keys: owner, evidence, sign-off, auto)"};
        }
        if (seen[index]) {
            return annotation_error{"\"" + std::string(key) + "\" is given twice"};
        }
        seen[index] = true;
        if (key == "owner") {
            if (!valid_role_name(value)) {
                return annotation_error{
                    "owner takes a role name (manager, oncall, pm, qa, …: "
                    "a-z, 0-9, - and _), not \"" +
                    std::string(value) + "\""};
            }
            p.owner_role = std::string(value);
        } else if (key == "evidence") {
            if (value == "link") {
                p.evidence = evidence_kind::link;
            } else if (value == "text") {
                p.evidence = evidence_kind::text;
            } else {
                return annotation_error{"evidence takes link or text, not \"" + std::string(value) +
                                        "\""};
            }
        } else if (key == "sign-off") {
            auto words = split(value, ' ');
            std::vector<std::string_view> kept;
            for (auto w : words) {
                if (!trim(w).empty()) {
                    kept.push_back(trim(w));
                }
            }
            sign_off_rule rule;
            bool ok = !kept.empty() && kept.size() <= 2;
            if (ok) {
                auto n = kept[0];
                auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), rule.count);
                ok = ec == std::errc{} && end == n.data() + n.size() && rule.count >= 1 &&
                     rule.count <= 9;
            }
            if (ok && kept.size() == 2) {
                ok = valid_role_name(kept[1]);
                rule.role = std::string(ok ? kept[1] : "");
            }
            if (!ok) {
                return annotation_error{
                    "sign-off takes a number from 1 to 9 and maybe a role "
                    "(sign-off: 1 qa), not \"" +
                    std::string(value) + "\""};
            }
            p.sign_off = rule;
        } else {  // auto
            if (value != "ci") {
                return annotation_error{"auto takes ci, not \"" + std::string(value) + "\""};
            }
            p.auto_ci = true;
        }
    }
    return p;
}

std::string describe_policy(const item_policy& p) {
    std::vector<std::string> parts;
    if (!p.owner_role.empty()) {
        parts.push_back("owned by the " + p.owner_role + " role");
    }
    if (p.evidence) {
        parts.push_back(*p.evidence == evidence_kind::link ? "needs a link" : "needs a note");
    }
    if (p.sign_off) {
        parts.push_back(std::to_string(p.sign_off->count) +
                        (p.sign_off->count == 1 ? " sign-off" : " sign-offs") +
                        (p.sign_off->role.empty() ? "" : " (" + p.sign_off->role + ")"));
    }
    if (p.auto_ci) {
        parts.push_back("checked by CI");
    }
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i ? " · " : "") + parts[i];
    }
    return out;
}

item_policy policy_from_annotation(std::string_view written) {
    written = trim(written);
    if (!written.starts_with("<!--") || !written.ends_with("-->") || written.size() < 7) {
        return {};
    }
    auto read = read_annotation(written.substr(4, written.size() - 7));
    auto* p = std::get_if<item_policy>(&read);
    return p != nullptr ? *p : item_policy{};
}

std::string write_annotation(const item_policy& p) {
    if (p.empty()) {
        return "";
    }
    std::vector<std::string> parts;
    if (!p.owner_role.empty()) {
        parts.push_back("owner: " + p.owner_role);
    }
    if (p.evidence) {
        parts.push_back(std::string("evidence: ") +
                        (*p.evidence == evidence_kind::link ? "link" : "text"));
    }
    if (p.sign_off) {
        parts.push_back("sign-off: " + std::to_string(p.sign_off->count) +
                        (p.sign_off->role.empty() ? "" : " " + p.sign_off->role));
    }
    if (p.auto_ci) {
        parts.push_back("auto: ci");
    }
    std::string out = "<!-- ";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i ? "; " : "") + parts[i];
    }
    return out + " -->";
}

}  // namespace relbot::checklist
