// Release values: state names and building a release from a template.
#include "checklist/release.hpp"

#include <algorithm>
#include <charconv>

#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "checklist/slug.hpp"

namespace relbot::checklist {

std::string_view to_string(item_state s) {
    switch (s) {
        case item_state::open:
            return "open";
        case item_state::done:
            return "done";
        case item_state::skipped:
            return "skipped";
        case item_state::blocked:
            return "blocked";
    }
    return "open";
}

std::optional<item_state> parse_item_state(std::string_view s) {
    for (auto v : {item_state::open, item_state::done, item_state::skipped, item_state::blocked}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view to_string(release_status s) {
    switch (s) {
        case release_status::active:
            return "active";
        case release_status::finished:
            return "finished";
        case release_status::aborted:
            return "aborted";
    }
    return "active";
}

std::optional<release_status> parse_release_status(std::string_view s) {
    for (auto v : {release_status::active, release_status::finished, release_status::aborted}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view to_string(checkpoint_answer a) {
    switch (a) {
        case checkpoint_answer::none:
            return "none";
        case checkpoint_answer::healthy:
            return "healthy";
        case checkpoint_answer::investigating:
            return "investigating";
        case checkpoint_answer::rolled_back:
            return "rolled_back";
    }
    return "none";
}

std::optional<checkpoint_answer> parse_checkpoint_answer(std::string_view s) {
    for (auto v : {checkpoint_answer::none, checkpoint_answer::healthy,
                   checkpoint_answer::investigating, checkpoint_answer::rolled_back}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

std::string item::ref() const {
    return std::to_string(phase) + "." + std::to_string(position);
}

std::string item::label() const {
    return "`" + ref() + "` *" + escape_mrkdwn(title) + "*";
}

int phase::settled_count() const {
    int n = 0;
    for (const auto& i : items) {
        // A checked item still awaiting a sign-off does not count yet (contract: it counts as
        // done for the gate only once signed off).
        if ((i.state == item_state::done && sign_offs_missing(i) == 0) ||
            i.state == item_state::skipped) {
            ++n;
        }
    }
    return n;
}

std::size_t release::item_count() const {
    std::size_t n = 0;
    for (const auto& p : phases) {
        n += p.items.size();
    }
    return n;
}

release make_release(const checklist_template& t,
                     std::string channel,
                     std::string version,
                     std::string manager,
                     epoch_seconds now,
                     std::map<std::string, std::string> roles) {
    release r;
    roles.erase("manager");
    r.roles = std::move(roles);
    r.channel = std::move(channel);
    r.version = std::move(version);
    r.template_name = t.name;
    r.manager = std::move(manager);
    r.started_at = now;

    std::vector<std::string> titles;
    for (const auto& p : t.phases) {
        for (const auto& i : p.items) {
            titles.push_back(i.title);
        }
    }
    auto slugs = make_unique_slugs(titles);

    std::size_t k = 0;
    int phase_no = 0;
    for (const auto& tp : t.phases) {
        phase p;
        p.position = ++phase_no;
        p.title = tp.title;
        p.window = tp.window;
        if (phase_no == 1) {
            p.entered_at = now;
        }
        int item_no = 0;
        for (const auto& ti : tp.items) {
            item i;
            i.phase = phase_no;
            i.position = ++item_no;
            i.slug = slugs[k++];
            i.title = ti.title;
            i.description = ti.description;
            i.policy = ti.policy;
            if (!i.policy.owner_role.empty()) {
                i.owner_role = i.policy.owner_role;
                i.owner = i.owner_role == "manager" ? r.manager : role_holder(r, i.owner_role);
            }
            p.items.push_back(std::move(i));
        }
        r.phases.push_back(std::move(p));
    }
    return r;
}

}  // namespace relbot::checklist

namespace relbot::checklist {

std::string role_holder(const release& r, std::string_view role) {
    if (role == "manager") {
        return r.manager;
    }
    auto it = r.roles.find(std::string(role));
    return it == r.roles.end() ? std::string() : it->second;
}

std::vector<std::string> unheld_roles(const release& r) {
    std::vector<std::string> out;
    auto note = [&](const std::string& role) {
        if (!role.empty() && role_holder(r, role).empty() &&
            std::find(out.begin(), out.end(), role) == out.end()) {
            out.push_back(role);
        }
    };
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            note(i.policy.owner_role);
            if (i.policy.sign_off) {
                note(i.policy.sign_off->role);
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string write_roles(const std::map<std::string, std::string>& roles) {
    std::string out;
    for (const auto& [role, user] : roles) {
        if (!user.empty()) {
            out += (out.empty() ? "" : " ") + role + "=" + user;
        }
    }
    return out;
}

std::map<std::string, std::string> read_roles(std::string_view text) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find(' ', pos);
        auto pair = text.substr(pos, end == std::string_view::npos ? end : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && eq > 0 && eq + 1 < pair.size()) {
            out.emplace(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
        }
    }
    return out;
}

std::string write_approvals(const std::vector<approval>& approvals) {
    std::string out;
    for (const auto& a : approvals) {
        out += (out.empty() ? "" : " ") + a.user + "@" + std::to_string(a.at);
    }
    return out;
}

std::vector<approval> read_approvals(std::string_view text) {
    std::vector<approval> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find(' ', pos);
        auto one = text.substr(pos, end == std::string_view::npos ? end : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        auto at = one.rfind('@');
        if (at == std::string_view::npos || at == 0) {
            continue;
        }
        epoch_seconds when = 0;
        auto digits = one.substr(at + 1);
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), when);
        if (ec == std::errc{} && ptr == digits.data() + digits.size()) {
            out.push_back({std::string(one.substr(0, at)), when});
        }
    }
    return out;
}

}  // namespace relbot::checklist
