// The markdown report and `relbot export`: it parses back as a template whatever people typed,
// it travels through Slack as complete code blocks cut between phases, and it tells the whole
// story (blockers, skips, forced moves, rollbacks) with people's names.
#include <catch2/catch.hpp>

#include "bot/slack_answers.hpp"
#include "checklist/duration.hpp"
#include "checklist/release.hpp"
#include "checklist/template.hpp"
#include "commands/render.hpp"
#include "support/releases.hpp"

namespace unit_export_test {

using namespace relbot;

namespace {

// Every line of `text`.
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        out.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
        pos = end == std::string::npos ? text.size() : end + 1;
    }
    return out;
}

void number_items(checklist::release& r) {
    std::int64_t id = 1;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
}

// Release v1.0 of the standard template in C1, managed by U1, its items numbered from 1.
checklist::release numbered_standard() {
    return test::numbered_standard_release("C1", "v1.0", "U1", 1795669235, 0, 1);
}

// Phases and item titles, as parse_template reads them back.
std::vector<std::pair<std::string, std::vector<std::string>>> outline(
    const checklist::checklist_template& t) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& p : t.phases) {
        out.emplace_back(p.title, std::vector<std::string>{});
        for (const auto& i : p.items) {
            out.back().second.push_back(i.title);
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> outline(const checklist::release& r) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& p : r.phases) {
        out.emplace_back(p.title, std::vector<std::string>{});
        for (const auto& i : p.items) {
            out.back().second.push_back(i.title);
        }
    }
    return out;
}

}  // namespace

TEST_CASE(
    "an exported report parses back as a template with the same phases and items whatever "
    "people typed",
    "[unit][export]") {
    auto parsed = checklist::parse_template("t", "t.md",
                                            "## Build\n"
                                            "- [ ] **Bare**\n"
                                            "- [ ] **Described**: run the suite\n"
                                            "- [ ] **Blocked bare**\n"
                                            "- [ ] **Assigned bare**\n"
                                            "- [ ] **Sign-off::**\n"
                                            "- [ ] **Starred* **: ends with a star\n"
                                            "## Deploy (1-2 hours)\n"
                                            "- [ ] **Noted bare**\n"
                                            "- [ ] **Skipped bare**\n"
                                            "- [ ] **Done described**: with a ** in it\n");
    REQUIRE(std::holds_alternative<checklist::checklist_template>(parsed));
    const auto& t = std::get<checklist::checklist_template>(parsed);
    auto r = checklist::make_release(t, "C1", "v3.1", "U1", 1795669235);
    number_items(r);
    REQUIRE(r.phases[0].items[4].title == "Sign-off:");
    REQUIRE(r.phases[0].items[5].title == "Starred*");

    const std::string injected = "done\n## Injected phase\n- [ ] **Evil**: x";
    const std::vector<std::string> hostile = {
        injected,
        "line one\r\n- [x] **Evil two**: y\r\n## x",
        "**",
        "## x",
        "- [ ] **Evil three**: z",
        "sep\xE2\x80\xA8## after a line separator",
        "\n\n",
    };
    auto& build = r.phases[0].items;
    auto& deploy = r.phases[1].items;
    build[0].state = checklist::item_state::done;
    build[1].state = checklist::item_state::skipped;
    build[2].state = checklist::item_state::blocked;
    build[3].owner = "U9";
    build[4].state = checklist::item_state::done;
    deploy[1].state = checklist::item_state::skipped;
    deploy[2].state = checklist::item_state::done;
    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669300, "U2", "item.checked", build[0].id, "open", "done", hostile[0]},
        {r.id, 1795669310, "U2", "item.skipped", build[1].id, "open", "skipped", hostile[1]},
        {r.id, 1795669320, "U3", "item.blocked", build[2].id, "open", "blocked", hostile[2]},
        {r.id, 1795669330, "U1", "item.assigned", build[3].id, "", "U9", hostile[3]},
        {r.id, 1795669340, "U9", "item.checked", build[4].id, "open", "done", hostile[4]},
        {r.id, 1795669350, "U1", "phase.forced", std::nullopt, r.phases[0].title, r.phases[1].title,
         hostile[5]},
        {r.id, 1795669360, "U4", "item.noted", deploy[0].id, "", "", hostile[0]},
        {r.id, 1795669370, "U4", "item.skipped", deploy[1].id, "open", "skipped", hostile[6]},
        {r.id, 1795669380, "U2", "item.checked", deploy[2].id, "open", "done", "**"},
        {r.id, 1795669390, "U1", "release.rollback", std::nullopt, "", "", hostile[1]},
        {r.id, 1795669400, "U1", "release.forced_finish", std::nullopt, r.phases[1].title,
         "finished", hostile[0]},
    };
    // Names come from Slack profiles, which people type too.
    commands::user_names names = {{"U2", "Pat\n## Name phase"}, {"U9", "- [ ] **Evil**: n"}};

    for (const commands::user_names* who : {&names, static_cast<commands::user_names*>(nullptr)}) {
        auto md = who != nullptr ? commands::report_markdown(r, audit, *who)
                                 : commands::report_markdown(r, audit);
        INFO(md);
        auto again = checklist::parse_template("again", "again.md", md);
        REQUIRE(std::holds_alternative<checklist::checklist_template>(again));
        CHECK(outline(std::get<checklist::checklist_template>(again)) == outline(r));
        // What people typed is there, on one line.
        CHECK(md.find("(done ⏎ ## Injected phase ⏎ - [ ] **Evil**: x)") != std::string::npos);
        for (const auto& line : lines_of(md)) {
            CHECK_FALSE(line.find("Injected") < 3);
            CHECK_FALSE(line.starts_with("## x"));
            CHECK_FALSE(line.starts_with("- [ ] **Evil"));
            CHECK_FALSE(line.starts_with("- [x] **Evil"));
        }
        // Items without a description keep the item form ("**Title**: what happened").
        CHECK(md.find("- [x] **Bare**: done by ") != std::string::npos);
        CHECK(md.find("- [ ] **Blocked bare**: blocked by ") != std::string::npos);
        CHECK(md.find("- [ ] **Assigned bare**: open, owner @") != std::string::npos);
        CHECK(md.find("- [ ] **Skipped bare**: skipped by ") != std::string::npos);
    }
}

TEST_CASE("report markdown in Slack is complete code blocks that end between phases",
          "[unit][export]") {
    checklist::checklist_template t{"long", {}};
    for (int p = 1; p <= 9; ++p) {
        checklist::template_phase phase{"Phase " + std::to_string(p), std::nullopt, {}};
        for (int i = 1; i <= 18; ++i) {
            phase.items.push_back({"Item " + std::to_string(p) + "." + std::to_string(i) +
                                       " with a reasonably long title",
                                   i % 3 == 0 ? "" : "and a description of what to do & why"});
        }
        t.phases.push_back(std::move(phase));
    }
    auto r = checklist::make_release(t, "C1", "v7.0", "U1", 1795669235);
    number_items(r);
    std::vector<checklist::audit_entry> audit;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.state = checklist::item_state::done;
            audit.push_back({r.id, 1795669300, "U2", "item.checked", i.id, "open", "done",
                             "see ```log``` <!channel>"});
        }
    }
    auto md = commands::report_markdown(r, audit);
    auto pages = commands::render_report_markdown(r, audit, 6);
    REQUIRE(pages.size() >= 2);  // long enough to need several messages
    std::string joined;
    std::size_t blocks = 0;
    for (const auto& page : pages) {
        for (const auto& b : page.blocks) {
            if (b["type"] != "section") {
                continue;
            }
            auto text = b["text"]["text"].get<std::string>();
            CHECK(text.size() <= commands::max_section_text);
            // One complete code block: opened at the start, closed at the end, nothing
            // between that closes it early.
            REQUIRE(text.starts_with("```"));
            REQUIRE(text.ends_with("```"));
            auto inside = text.substr(3, text.size() - 6);
            CHECK(inside.find("```") == std::string::npos);
            // Whole lines: a block starts with the title, at a phase heading, after the
            // checklist, or, in a phase too long for one block (its items carry their
            // timelines), at one of its items or timeline lines.
            CHECK(inside.ends_with("\n"));
            auto first = lines_of(inside).front();
            INFO(first);
            if (joined.find("\n---\n") == std::string::npos) {
                CHECK((first.starts_with("# Release") || first.starts_with("## ") ||
                       first.starts_with("- [") || first.starts_with("  - ")));
            }
            ++blocks;
            joined += inside;
        }
    }
    CHECK(blocks >= 3);
    // Put back together, it is the markdown (escaped for Slack, the backticks kept apart).
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"``\xE2\x80\x8B`", "```"}}) {
        for (std::size_t at; (at = joined.find(from)) != std::string::npos;) {
            joined.replace(at, from.size(), to);
        }
    }
    CHECK(joined == md);
}

TEST_CASE(
    "users.info names: the profile's display name or else the real name or else the user name",
    "[unit][export]") {
    using nlohmann::json;
    CHECK(bot::slack_display_name(json{{"name", "pat"},
                                       {"real_name", "Pat Lee"},
                                       {"profile", {{"display_name", "patl"}}}}) == "patl");
    CHECK(bot::slack_display_name(json{
              {"name", "pat"}, {"real_name", "Pat Lee"}, {"profile", {{"display_name", ""}}}}) ==
          "Pat Lee");
    CHECK(bot::slack_display_name(json{{"name", "user-U0DEMO"}}) == "user-U0DEMO");
    CHECK(bot::slack_display_name(json{{"id", "U1"}}).empty());
    CHECK(bot::slack_display_name(json::array()).empty());
}

TEST_CASE(
    "the markdown report tells who decided a rollback or forced a move and when and why by "
    "name",
    "[unit][export]") {
    auto r = numbered_standard();
    auto& pre = r.phases[0].items;
    pre[1].state = checklist::item_state::blocked;
    pre[2].state = checklist::item_state::skipped;
    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669300, "U2", "item.blocked", pre[1].id, "open", "blocked", "scanner down"},
        {r.id, 1795669310, "U1", "item.skipped", pre[2].id, "open", "skipped", "nightly ran"},
        {r.id, 1795669320, "U1", "phase.forced", std::nullopt, r.phases[0].title, r.phases[1].title,
         "hotfix"},
        {r.id, 1795669380, "U1", "release.rollback", std::nullopt, "", "", "errors doubled"},
        {r.id, 1795669440, "U1", "release.forced_finish", std::nullopt, r.phases[1].title,
         "finished", "rolled back"},
    };
    commands::user_names names = {{"U1", "Pat Lee"}};
    auto md = commands::report_markdown(r, audit, names);
    INFO(md);
    CHECK(md.find("Release manager: @Pat Lee") != std::string::npos);
    CHECK(md.find("### Rollback decisions\n\n- 2026-11-26 05:03 UTC @Pat Lee: errors doubled\n") !=
          std::string::npos);
    CHECK(md.find("### Forced moves\n\n- 2026-11-26 05:02 UTC @Pat Lee: forced the move from "
                  "**Pre-Release Checks** to **Deployment Steps** — hotfix\n- 2026-11-26 05:04 UTC "
                  "@Pat Lee: finished the release by force — rolled back\n") != std::string::npos);
    // Someone without a known name is shown by ID.
    CHECK(md.find("### Blockers\n\n- 1.2 **Security Scan** — blocked by @U2 2026-11-26 05:01 UTC: "
                  "scanner down · **still blocked**\n") != std::string::npos);
    CHECK(md.find("### Skipped\n\n- 1.3 **Smoke Tests** — nightly ran (@Pat Lee, 2026-11-26 "
                  "05:01 UTC)\n") != std::string::npos);
    CHECK(md.find("@U1") == std::string::npos);
}

TEST_CASE(
    "the report's blockers and skips are what stands: a block ended by a skip or a check, "
    "a skip undone by a check",
    "[unit][export]") {
    auto r = numbered_standard();
    auto& pre = r.phases[0].items;
    pre[1].state = checklist::item_state::done;     // 1.2: skipped, then checked after all
    pre[2].state = checklist::item_state::skipped;  // 1.3: blocked, then skipped
    pre[3].state = checklist::item_state::done;     // 1.4: blocked, then checked
    pre[4].state = checklist::item_state::blocked;  // 1.5: blocked, and still
    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669235, "U1", "release.started", std::nullopt, "", "active",
         "template standard, roles oncall=U2 pm=U3, owners of 4 items from v0.9"},
        {r.id, 1795669300, "U1", "item.skipped", pre[1].id, "open", "skipped", "first reason"},
        {r.id, 1795669310, "U1", "item.checked", pre[1].id, "skipped", "done", ""},
        {r.id, 1795669320, "U2", "item.blocked", pre[2].id, "open", "blocked", "broken"},
        {r.id, 1795669380, "U1", "item.skipped", pre[2].id, "blocked", "skipped", "will not fix"},
        {r.id, 1795669400, "U2", "item.blocked", pre[3].id, "open", "blocked", "flaky"},
        {r.id, 1795669460, "U2", "item.unblocked", pre[3].id, "blocked", "open",
         "cleared by check"},
        {r.id, 1795669460, "U2", "item.checked", pre[3].id, "open", "done", ""},
        {r.id, 1795669500, "U2", "item.blocked", pre[4].id, "open", "blocked", "no staging"},
        // A note on a blocked item leaves it blocked.
        {r.id, 1795669510, "U1", "item.noted", pre[4].id, "blocked", "blocked", "DBA looking"},
        {r.id, 1795669520, "U3", "item.approved", pre[3].id, "", "U3", "1 of 1"},
        {r.id, 1795669530, "U1", "release.role", std::nullopt, "U2", "U3", "qa"},
        // 1.6: checked with a link, then unchecked: the link no longer vouches for anything.
        {r.id, 1795669540, "U2", "item.checked", pre[5].id, "open", "done", "https://ci/9"},
        {r.id, 1795669550, "U2", "item.unchecked", pre[5].id, "done", "open", ""},
        // 1.7: checked with a link, which stands.
        {r.id, 1795669560, "U2", "item.checked", pre[6].id, "open", "done", "https://ci/10"},
    };
    auto md = commands::report_markdown(r, audit, {{"U1", "pat"}, {"U2", "sam"}, {"U3", "lee"}});
    INFO(md);
    // The roles of the start are named like everyone else, not by Slack ID.
    CHECK(md.find("started the release (template standard, roles oncall @sam, pm @lee, owners of "
                  "4 items from v0.9)") != std::string::npos);
    // Sign-offs and role changes read as sentences, not as event names.
    CHECK(md.find("@lee: signed off 1.4 **Release Notes** (1 of 1)") != std::string::npos);
    CHECK(md.find("@pat: gave the **qa** role to @lee (was @sam)") != std::string::npos);
    CHECK(md.find("item.approved") == std::string::npos);
    CHECK(md.find("release.role") == std::string::npos);
    CHECK(md.find("### Blockers\n\n"
                  "- 1.3 **Smoke Tests** — blocked by @sam 2026-11-26 05:02 UTC: broken · "
                  "skipped by @pat after 1m\n"
                  "- 1.4 **Release Notes** — blocked by @sam 2026-11-26 05:03 UTC: flaky · "
                  "cleared by @sam after 1m\n"
                  "- 1.5 ") != std::string::npos);
    CHECK(md.find("no staging · **still blocked**") != std::string::npos);
    // 1.2 was checked after its skip: the skip does not stand. 1.3's does.
    CHECK(md.find("### Skipped\n\n- 1.3 **Smoke Tests** — will not fix (@pat, ") !=
          std::string::npos);
    CHECK(md.find("first reason (@pat") == std::string::npos);
    CHECK(md.find("broken · **still blocked**") == std::string::npos);
    // The evidence listed is that of checks that still hold.
    auto facts = commands::collect_facts(r, audit);
    REQUIRE(facts.evidence.size() == 1);
    CHECK(facts.evidence[0].find("https://ci/10") != std::string::npos);
}

TEST_CASE(
    "an item checked but still awaiting a sign-off is not counted done in the progress, nor "
    "ticked in the export, until it is signed off",
    "[unit][export]") {
    auto r = numbered_standard();
    auto& it = r.phases[0].items[3];  // 1.4 Release Notes, signed off by qa
    it.policy.sign_off = checklist::sign_off_rule{1, "qa"};
    it.state = checklist::item_state::done;
    it.state_by = "U1";
    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669300, "U1", "item.checked", it.id, "open", "done", ""},
    };
    auto status = [&] {
        auto m = commands::render_status(r);
        std::string out = m.text;
        for (const auto& b : m.blocks) {
            out += "\n" + b.dump();
        }
        return out;
    };
    auto waiting = status();
    INFO(waiting);
    CHECK(waiting.find("1 done or skipped") == std::string::npos);
    CHECK(waiting.find("0 done or skipped") != std::string::npos);
    CHECK(waiting.find("1. Pre-Release Checks — 0/9") != std::string::npos);
    CHECK(waiting.find("awaiting 1 sign-off") != std::string::npos);
    auto md = commands::report_markdown(r, audit, {{"U1", "pat"}, {"U3", "lee"}});
    CHECK(md.find("- [ ] **Release Notes**") != std::string::npos);
    CHECK(md.find("done by @pat 2026-11-26 05:01 UTC, awaiting 1 sign-off") != std::string::npos);
    // Finished by force while it waits: the summary does not call it done either.
    r.status = checklist::release_status::finished;
    auto ended = commands::render_release_ended(r, audit, "U1", "");
    CHECK(ended.blocks.dump().find("*Summary:* 0 done · 1 awaiting sign-off · 0 skipped") !=
          std::string::npos);
    r.status = checklist::release_status::active;

    it.approvals.push_back({"U3", 1795669400});
    audit.push_back({r.id, 1795669400, "U3", "item.approved", it.id, "", "U3", "1 of 1"});
    auto signed_off = status();
    CHECK(signed_off.find("1 done or skipped") != std::string::npos);
    CHECK(signed_off.find("1. Pre-Release Checks — 1/9") != std::string::npos);
    md = commands::report_markdown(r, audit, {{"U1", "pat"}, {"U3", "lee"}});
    CHECK(md.find("- [x] **Release Notes**") != std::string::npos);
    CHECK(md.find("awaiting") == std::string::npos);
}

TEST_CASE("the markdown report puts each timeline row under its item or phase, never shortened",
          "[unit][export]") {
    auto r = numbered_standard();
    auto& pre = r.phases[0].items;
    std::string long_note(2900, 'n');
    long_note += " the end";
    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669235, "U1", "release.started", std::nullopt, "", "active", "standard"},
        {r.id, 1795669300, "U2", "item.noted", pre[0].id, "", "", long_note},
        {r.id, 1795669360, "U2", "item.checked", pre[1].id, "open", "done", "https://ci/42"},
        {r.id, 1795669360 + 86400, "U2", "item.noted", pre[1].id, "", "", "next day"},
    };
    commands::user_names names = {{"U1", "Pat Lee"}, {"U2", "Sam Roe"}};
    auto md = commands::report_markdown(r, audit, names);
    auto heading = md.find("## " + r.phases[0].title);
    // The release's start, under phase 1's heading, before its items; a row's time as the
    // contract shows it (`  - 14:02 UTC @pat: …`) on the day the release started, with its date
    // on a later day.
    auto started = md.find("  - 05:00 UTC @Pat Lee: started");
    CHECK(md.find("  - 2026-11-27 05:02 UTC @Sam Roe: noted on " + pre[1].ref()) !=
          std::string::npos);
    auto first_item = md.find("- [ ] **" + pre[0].title.str() + "**");
    REQUIRE(heading != std::string::npos);
    REQUIRE(started != std::string::npos);
    CHECK(heading < started);
    REQUIRE(first_item != std::string::npos);
    CHECK(started < first_item);
    auto note = md.find("@Sam Roe: noted on " + pre[0].ref());
    REQUIRE(note != std::string::npos);
    CHECK(note > first_item);                        // under the first item
    CHECK(md.find(long_note) != std::string::npos);  // whole, however long
    CHECK(md.find("@Sam Roe: checked " + pre[1].ref()) != std::string::npos);
    CHECK(md.find("https://ci/42") != std::string::npos);
    // It still parses as the template it came from.
    auto parsed = checklist::parse_template("copy", "copy.md", md);
    REQUIRE(std::holds_alternative<checklist::checklist_template>(parsed));
    CHECK(std::get<checklist::checklist_template>(parsed).phases.size() == r.phases.size());
}

}  // namespace unit_export_test
