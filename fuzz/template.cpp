// Template files, as an operator writes them (RELBOT_TEMPLATES_DIR), with the notes, reasons
// and names people type during a release. Properties: the parser never throws and either gives
// a template or a `file:line: message`; a template's release written as `report markdown`, with
// any notes, reasons and names in it, parses back to the same phases, item titles and item
// policies (annotations), and the same freeze windows.
#include "checklist/template.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checklist/release.hpp"
#include "commands/render/report.hpp"
#include "fuzz/fuzz.hpp"

using namespace relbot;

namespace {

using outline = std::vector<std::pair<std::string, std::vector<std::string>>>;

template <typename Phases>
outline outline_of(const Phases& phases) {
    outline out;
    for (const auto& p : phases) {
        out.emplace_back(p.title, std::vector<std::string>{});
        for (const auto& i : p.items) {
            out.back().second.push_back(std::string(i.title) + "\n" +
                                        checklist::write_annotation(i.policy));
        }
    }
    return out;
}

// Something happened to every item: a state and a timeline row with typed text.
std::vector<checklist::audit_entry> live_through(checklist::release& r, FuzzedDataProvider& in) {
    static const char* const kinds[] = {"item.checked",     "item.skipped",         "item.blocked",
                                        "item.noted",       "item.assigned",        "phase.forced",
                                        "release.rollback", "release.forced_finish"};
    std::vector<checklist::audit_entry> audit;
    std::int64_t id = 1;
    checklist::epoch_seconds at = r.started_at;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
            i.state = static_cast<checklist::item_state>(in.ConsumeIntegralInRange<int>(0, 3));
            if (in.ConsumeBool()) {
                i.owner = "U" + std::to_string(in.ConsumeIntegralInRange<int>(1, 3));
            }
            const char* kind = kinds[in.ConsumeIntegralInRange<std::size_t>(0, 7)];
            audit.push_back({r.id, at += 60, "U1", kind, i.id, "open", "done",
                             in.ConsumeRandomLengthString(200)});
        }
    }
    return audit;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    auto typed = in.ConsumeRandomLengthString(400);  // the people's part
    auto names_text = in.ConsumeRandomLengthString(40);
    auto file = in.ConsumeRemainingBytesAsString();  // the operator's part

    auto parsed = checklist::parse_template("fuzz", "fuzz.md", file);
    if (auto* e = std::get_if<checklist::template_error>(&parsed)) {
        FUZZ_CHECK(!e->message.empty());
        FUZZ_CHECK(e->line >= 1);
        FUZZ_CHECK(e->to_string().starts_with("fuzz.md:"));
        return 0;
    }
    const auto& t = std::get<checklist::checklist_template>(parsed);
    (void)checklist::template_warnings(t, "fuzz.md");
    if (t.item_count() == 0) {
        return 0;
    }

    auto r = checklist::make_release(t, "C1", "v1", "U1", 1'795'669'200);
    FUZZ_CHECK(outline_of(r.phases) == outline_of(t.phases));
    FuzzedDataProvider people(reinterpret_cast<const std::uint8_t*>(typed.data()), typed.size());
    auto audit = live_through(r, people);
    commands::user_names names = {{"U1", names_text}, {"U2", typed}};

    auto md = commands::report_markdown(r, audit, names, t.freezes);
    auto again = checklist::parse_template("again", "again.md", md);
    if (auto* e = std::get_if<checklist::template_error>(&again)) {
        std::fprintf(stderr, "%s\n---\n%s\n", e->to_string().c_str(), md.c_str());
    }
    FUZZ_CHECK(std::holds_alternative<checklist::checklist_template>(again));
    if (outline_of(std::get<checklist::checklist_template>(again).phases) != outline_of(r.phases)) {
        std::fwrite(md.data(), 1, md.size(), stderr);
    }
    FUZZ_CHECK(outline_of(std::get<checklist::checklist_template>(again).phases) ==
               outline_of(r.phases));
    FUZZ_CHECK(std::get<checklist::checklist_template>(again).freezes == t.freezes);
    return 0;
}
