// relbot-bench-soak's load: the channels' scripts (see soak_script.hpp).
#include "bench/soak_script.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

namespace relbot::bench::soak {
namespace {

using json = nlohmann::json;

std::string two_digits(int k) {
    return (k < 10 ? "0" : "") + std::to_string(k);
}

std::string mention(const std::string& user) {
    return "<@" + user + ">";
}

// The built-in standard template is checklist/standard.md; if it changes, `next` answers with
// what holds the gate and the soak checks those items, so a stale count costs only refusals.
const template_shape soak_shape{"soak", {6, 3, 3, 2}, 3};
const template_shape standard_shape{"standard", {9, 6, 6, 5, 4, 3}, 5};

const template_shape& shape_of(const channel_script& c) {
    return c.shape != nullptr ? *c.shape : soak_shape;
}

// Items in the phase the release is in, as its template has them (3 if past its end).
int items_now(const channel_script& c) {
    const auto& sizes = shape_of(c).items;
    return c.phase >= 1 && c.phase <= static_cast<int>(sizes.size())
               ? sizes[static_cast<std::size_t>(c.phase - 1)]
               : 3;
}

// The number after `before` in `text`, if any ("Phase 3 of 4" → 3).
std::optional<int> number_after(const std::string& text, const std::string& before) {
    auto at = text.find(before);
    if (at == std::string::npos) {
        return std::nullopt;
    }
    at += before.size();
    int n = 0;
    bool any = false;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
        n = n * 10 + (text[at++] - '0');
        any = true;
    }
    return any ? std::optional<int>(n) : std::nullopt;
}

// The items a gate refusal lists ("• `1.3` Smoke tests — open, …").
std::vector<std::string> holding_items(const std::string& text) {
    std::vector<std::string> refs;
    std::size_t at = 0;
    while ((at = text.find("• `", at)) != std::string::npos) {
        at += std::string_view("• `").size();
        auto end = text.find('`', at);
        if (end == std::string::npos) {
            break;
        }
        refs.push_back(text.substr(at, end - at));
        at = end;
    }
    return refs;
}

}  // namespace

std::string channel_id(int k) {
    return "C0SOAK" + two_digits(k);
}
std::string manager_of(int k) {
    return "U0SOAKM" + two_digits(k);
}
std::string person(int k) {
    return "U0SOAKP" + two_digits(k);
}

// Short windows, so that a release runs in a minute or two: the deployment phase (which
// anchors the monitoring checkpoints when it is left) and a monitoring window that holds
// `next` for 20 s and is told about when its 40 s pass.
const char* const soak_template = R"md(# Soak

## Pre-Release Checks
- [ ] **Build green**: CI passed for the release candidate
- [ ] **Security scan**: no critical findings
- [ ] **Smoke tests**: staging smoke tests passed
- [ ] **Release notes**: written and reviewed
- [ ] **Rollback plan**: written down and tried
- [ ] **Migrations**: reviewed and reversible

## Deployment (5-30 seconds)
- [ ] **Deploy canary**: one instance first
- [ ] **Deploy to production**: the rest
- [ ] **Health checks**: green everywhere

## Post-Release Monitoring (20-40 seconds)
- [ ] **Error rates**: at the baseline
- [ ] **Latency**: at the baseline
- [ ] **Business metrics**: orders and sign-ups as usual

## Handoff
- [ ] **Briefing**: written for on-call
- [ ] **Close out**: tickets and notes tidied
)md";

step typed(const std::string& user, std::string text, bool learn) {
    step s;
    s.how = via::slash;
    s.user = user;
    s.text = std::move(text);
    s.learn = learn;
    return s;
}

step clicked(const std::string& user, std::string label, json where, std::string fallback) {
    step s;
    s.how = via::click;
    s.user = user;
    s.label = std::move(label);
    s.where = std::move(where);
    s.fallback = std::move(fallback);
    return s;
}

// The reply's start that means the command changed something ("" for reads).
std::string success_prefix(const std::string& command) {
    auto verb = command.substr(0, command.find(' '));
    static const std::map<std::string, std::string> prefixes = {
        {"start", ":white_check_mark: Started release"},
        {"check", ":white_check_mark: "},
        {"uncheck", ":white_large_square: "},
        {"unblock", ":white_large_square: "},
        {"skip", ":fast_forward: "},
        {"block", ":no_entry: "},
        {"note", ":memo: "},
        {"assign", ":bust_in_silhouette: "},
        {"next", ":arrow_forward: "},
        {"finish", ":checkered_flag: "},
        {"abort", ":octagonal_sign: "},
        {"handoff", ":handshake: "},
        {"accept", ":handshake: "},
        {"rollback", ":rotating_light: "},
        {"remind", ":bell: "},
    };
    auto it = prefixes.find(verb);
    return it == prefixes.end() ? "" : it->second;
}

script::script(unsigned seed,
               std::function<bool(const std::string& channel, clock::time_point since)> posted)
    : rng_(seed), status_posted_(std::move(posted)) {}

std::string script::unique(const std::string& what) {
    return "soak " + what + " " + std::to_string(next_text_++);
}

step script::next(channel_script& c, double chatter_share) {
    if (c.active && chance(chatter_share)) {
        return chatter(c);
    }
    if (c.plan.empty()) {
        refill(c);
    }
    auto s = std::move(c.plan.front());
    c.plan.pop_front();
    return s;
}

// Talk around the release: notes on the current phase's items (each unique, so the timeline
// can be checked for it), status and list from anyone, now and then a report, help, or an
// outsider's check that is refused. None of it posts a message.
step script::chatter(channel_script& c) {
    int n = items_now(c);
    auto ref = std::to_string(c.phase) + "." + std::to_string(1 + pick(n));
    auto roll = pick(100);
    if (roll < 45) {
        auto s = typed(c.manager, "note " + ref + " " + unique("note"));
        s.audited = true;
        return s;
    }
    if (roll < 75) {
        return typed(person(pick(people_count)), "status");
    }
    if (roll < 87) {
        return typed(person(pick(people_count)), "list");
    }
    if (roll < 92) {
        return typed(person(pick(people_count)), "report");
    }
    if (roll < 95) {
        return typed(person(pick(people_count)), "help");
    }
    return typed(person(owner_count + pick(people_count - owner_count)), "check " + ref);
}

// With nothing planned: start a release, or move on (the reply says where the release is).
void script::refill(channel_script& c) {
    if (!c.active) {
        if (c.releases > 0 && chance(0.3)) {
            c.plan.push_back(typed(person(pick(people_count)), chance(0.5) ? "list" : "report"));
        }
        c.shape = chance(0.25) ? &standard_shape : &soak_shape;
        auto version = "v" + std::to_string(c.releases + 1) + ".0";
        auto text = "start " + version + " template " + c.shape->name;
        if (c.releases > 0 && chance(0.2)) {
            text += " owners-from v" + std::to_string(c.releases) + ".0";
        }
        c.plan.push_back(typed(c.manager, text, true));
        return;
    }
    bool last = c.phases > 0 && c.phase >= c.phases;
    c.plan.push_back(typed(c.manager, last ? "finish" : "next", true));
}

// The steps of the phase the channel's release has just entered: owners assigned first (due
// soon, so that reminders fall due while the rest goes on), then each item's notes, blocks,
// snoozes and refusals interleaved with the others', each item ending done or skipped; then
// moving on. Half the item work is typed, the rest clicked on the living status message or in
// the owner's DM, or entered in a modal.
void script::plan_phase(channel_script& c) {
    c.plan.clear();
    c.refusals = 0;
    int n = items_now(c);
    bool modals_ok = status_posted_(c.id, c.started);
    json in_channel = {{"in", "channel"}, {"channel_id", c.id}};
    std::vector<step> assigns;
    std::vector<std::deque<step>> per_item;
    for (int i = 1; i <= n; ++i) {
        auto ref = std::to_string(c.phase) + "." + std::to_string(i);
        auto match = "`" + ref + "`";
        std::string owner = chance(0.4) ? person(pick(owner_count)) : "";
        if (!owner.empty()) {
            assigns.push_back(typed(c.manager, "assign " + ref + " " + mention(owner) + " due " +
                                                   std::to_string(30 + pick(121)) + "s"));
        }
        const auto& actor = owner.empty() || chance(0.4) ? c.manager : owner;
        std::deque<step> seq;
        if (chance(0.45)) {
            auto text = unique("note");
            if (modals_ok && chance(0.5)) {
                step s;
                s.how = via::modal;
                s.user = c.manager;
                s.label = "Note…";
                s.where = in_channel;
                s.where["match"] = match;
                s.modal = "note";
                s.field = "note";
                s.text = text;
                s.fallback = "note " + ref + " " + text;
                s.audited = true;
                seq.push_back(std::move(s));
            } else {
                auto s = typed(actor, "note " + ref + " " + text);
                s.audited = true;
                seq.push_back(std::move(s));
            }
        }
        if (chance(0.12)) {
            auto reason = unique("block");
            step s = typed(actor, "block " + ref + " " + reason);
            if (modals_ok && chance(0.3)) {
                s.how = via::modal;
                s.user = c.manager;
                s.label = "Block…";
                s.where = in_channel;
                s.where["match"] = match;
                s.modal = "block";
                s.field = "reason";
                s.fallback = "block " + ref + " " + reason;
                s.text = reason;
            }
            s.audited = true;
            seq.push_back(std::move(s));
            auto where = in_channel;
            where["match"] = match;
            seq.push_back(chance(0.4) ? clicked(c.manager, "Unblock", where, "unblock " + ref)
                                      : typed(actor, "unblock " + ref));
        }
        if (!owner.empty() && chance(0.15)) {
            seq.push_back(
                clicked(owner, "Snooze", {{"in", "dm"}, {"match", match}, {"option", "1 hour"}}));
        }
        if (chance(0.05)) {
            seq.push_back(typed(person(owner_count + pick(people_count - owner_count)),
                                "check " + ref));  // an outsider: refused
        }
        if (chance(0.08)) {
            seq.push_back(typed(person(pick(people_count)), "status"));
        }
        if (chance(0.08)) {
            seq.push_back(typed(c.manager, "skip " + ref + " " + unique("skip")));
            seq.back().audited = true;
        } else if (!owner.empty() && chance(0.35)) {
            seq.push_back(clicked(owner, "Done", {{"in", "dm"}, {"match", match}}, "check " + ref));
        } else if (chance(0.5)) {
            auto where = in_channel;
            where["match"] = match;
            seq.push_back(clicked(c.manager, "Done", where, "check " + ref));
        } else {
            seq.push_back(typed(
                actor, "check " + ref + " https://ci.example/run/" + std::to_string(next_text_++)));
        }
        per_item.push_back(std::move(seq));
    }
    std::shuffle(assigns.begin(), assigns.end(), rng_);
    for (auto& s : assigns) {
        c.plan.push_back(std::move(s));
    }
    // Interleave the items' steps, each item's in its order.
    for (;;) {
        std::vector<std::size_t> left;
        for (std::size_t k = 0; k < per_item.size(); ++k) {
            if (!per_item[k].empty()) {
                left.push_back(k);
            }
        }
        if (left.empty()) {
            break;
        }
        auto& from = per_item[left[static_cast<std::size_t>(pick(static_cast<int>(left.size())))]];
        c.plan.push_back(std::move(from.front()));
        from.pop_front();
    }
    if (chance(0.1)) {
        c.plan.push_back(chance(0.5) ? typed(c.manager, "remind")
                                     : clicked(c.manager, "Remind owners", in_channel));
    }
    if (chance(0.05)) {
        c.plan.push_back(clicked(c.manager, "Remind again", {{"in", "dm"}}));
    }
    if (chance(0.05)) {
        step s;
        s.how = via::home;
        s.user = person(pick(owner_count));
        c.plan.push_back(std::move(s));
    }
    if (c.phase == shape_of(c).monitoring) {
        // Checkpoints fall due 20 s and 90 s after the deployment phase was left.
        if (chance(0.15)) {
            c.plan.push_back(clicked(c.manager, "Investigating", in_channel));
        }
        c.plan.push_back(clicked(c.manager, "Healthy", in_channel));
        if (chance(0.1)) {
            c.plan.push_back(typed(c.manager, "rollback " + unique("rollback")));
        }
    }
    bool last = c.phase >= c.phases;
    if (last) {
        if (chance(0.5)) {
            auto oncall = person(pick(owner_count));
            auto pm =
                person((std::stoi(oncall.substr(7)) + 1 + pick(owner_count - 1)) % owner_count);
            c.plan.push_back(typed(c.manager, "handoff " + mention(oncall) + " " + mention(pm)));
            c.plan.push_back(chance(0.5)
                                 ? clicked(oncall, "Accept handoff", {{"in", "dm"}}, "accept")
                                 : typed(oncall, "accept"));
        }
        c.plan.push_back(typed(c.manager, "finish", true));
    } else if (c.phase == 2 && chance(0.05)) {
        c.plan.push_back(typed(c.manager, "abort " + unique("abort"), true));
    } else if (chance(0.5)) {
        auto s = clicked(c.manager, "Next phase", in_channel);
        s.may_force = true;
        c.plan.push_back(std::move(s));
        c.plan.push_back(typed(c.manager, "next", true));  // says where the click left it
    } else {
        c.plan.push_back(typed(c.manager, "next", true));
    }
}

// Where the release is, from the reply to start, next, finish or abort.
void script::learn(channel_script& c, const step& s, const std::string& reply) {
    auto verb = s.text.substr(0, s.text.find(' '));
    bool ok = reply.starts_with(success_prefix(s.text));
    if (reply.starts_with("There is no active release")) {
        c.active = false;
        c.plan.clear();
        return;
    }
    if (verb == "start") {
        if (ok) {
            c.active = true;
            ++c.releases;
            c.phase = 1;
            c.phases = number_after(reply, "template: ")
                           .value_or(static_cast<int>(shape_of(c).items.size()));
            c.started = clock::now();
            plan_phase(c);
        } else if (reply.find("is already active") != std::string::npos) {
            c.active = true;
            c.plan = {
                typed(c.manager, "finish force soak: an earlier release was still open", true)};
        }
        return;  // busy: the next refill starts again
    }
    if (verb == "finish" || verb == "abort") {
        if (ok) {
            c.active = false;
            c.plan.clear();
            return;
        }
        c.plan = {typed(c.manager, "finish force soak: " + unique("gate"), true)};
        return;
    }
    // next, next force
    if (ok) {
        c.phase = number_after(reply, "Phase ").value_or(c.phase + 1);
        plan_phase(c);
        return;
    }
    if (auto at = number_after(reply, "Phase ");
        at && reply.find("cannot be left yet") != std::string::npos) {
        if (*at != c.phase) {
            c.phase = *at;
            plan_phase(c);
            return;
        }
        auto refs = holding_items(reply);
        if (++c.refusals < 3) {
            // Items still open: check them. Only the window (or a checkpoint's hold): read for
            // a while, as people do, then ask again.
            c.plan.clear();
            for (const auto& ref : refs) {
                c.plan.push_back(typed(c.manager, "check " + ref));
            }
            for (int i = 0; refs.empty() && i < 6; ++i) {
                c.plan.push_back(typed(person(pick(people_count)), i % 3 ? "status" : "list"));
            }
            c.plan.push_back(typed(c.manager, "next", true));
        } else {
            c.plan = {typed(c.manager, "next force " + unique("window"), true)};
        }
        return;
    }
    if (reply.find("/release finish") != std::string::npos) {
        c.phase = std::max(c.phase, c.phases);
        c.plan = {typed(c.manager, "finish", true)};
        return;
    }
    c.plan = {typed(c.manager, ++c.refusals < 3 ? "next" : "next force " + unique("retry"), true)};
}

}  // namespace relbot::bench::soak
