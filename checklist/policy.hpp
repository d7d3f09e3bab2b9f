// An item's release policy, as a template says it (contract: "Release policy in the
// template"): an HTML comment at the end of the item's line, such as
// `<!-- owner: manager; evidence: link; sign-off: 1 qa; auto: ci -->`. This is the
// annotation's format only: reading one comment and writing it back. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relbot::checklist {

enum class evidence_kind { link, text };

struct sign_off_rule {
    int count = 1;     // approvals needed, 1 to 9
    std::string role;  // whose (a role name); empty: anyone but the checker
    friend bool operator==(const sign_off_rule&, const sign_off_rule&) = default;
};

struct item_policy {
    std::string owner_role;  // `owner: <role>`; empty: none
    std::optional<evidence_kind> evidence;
    std::optional<sign_off_rule> sign_off;
    bool auto_ci = false;  // `auto: ci`: checked by a signal (or forced by the manager)
    bool empty() const { return owner_role.empty() && !evidence && !sign_off && !auto_ci; }
    friend bool operator==(const item_policy&, const item_policy&) = default;
};

// A comment that is not an annotation (no `key:` of the policy's keys): ignored.
struct not_an_annotation {};

// What is wrong with an annotation, in one sentence that says what to write instead.
struct annotation_error {
    std::string message;
};

using annotation_result = std::variant<item_policy, not_an_annotation, annotation_error>;

// Reads the text inside `<!--` and `-->` (without them). Keys: owner, evidence, sign-off,
// auto; separated by `;`; each at most once. A comment with none of them is not an
// annotation; one with any of them is, and then an unknown key or a bad value is an error.
annotation_result read_annotation(std::string_view comment);

// The comment that reads back as `p` ("<!-- owner: qa; evidence: link -->"), keys in a fixed
// order; empty for an empty policy.
std::string write_annotation(const item_policy& p);

// The policy in words, for `relbot check-template` and the status: "owned by the qa role ·
// needs a link · 1 sign-off (qa) · checked by CI"; empty for an empty policy.
std::string describe_policy(const item_policy& p);

// The policy of a comment write_annotation wrote ("<!-- owner: qa -->"), as storage keeps it;
// an empty policy for "" (and for anything that does not read back, which storage never holds).
item_policy policy_from_annotation(std::string_view written);

// A role name as the annotations and `/release role` take it: 1 to 32 of a-z, 0-9, `-`, `_`.
bool valid_role_name(std::string_view role);

}  // namespace relbot::checklist
