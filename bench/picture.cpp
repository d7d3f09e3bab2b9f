// How long drawing a release's timeline takes (contract: "Pictures and files"): a release of 100
// items in six phases with 1,000 audit rows (blocks, notes, checks, forced moves), modelled
// (checklist::build_timeline) and drawn to PNG (commands::draw_timeline), `--runs` times; prints
// the median and the slowest, and the PNG's size. The notifier does this when it sends the
// file row, after the acknowledgement of the change that queued it.
//
//   relbot-bench-picture [--runs N]
#include "commands/render/picture.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "checklist/timeline.hpp"

using namespace relbot;
using namespace relbot::checklist;

namespace {

release hundred_items(epoch_seconds t0) {
    release r;
    r.id = 1;
    r.channel = "C0BENCH";
    r.version = "v9.9.9";
    r.manager = "U0BOSS";
    r.started_at = t0;
    const char* titles[] = {"Pre-Release Checks",        "Deployment Steps",
                            "Post-Release Verification", "Communication Steps",
                            "Post-Release Monitoring",   "Handoff"};
    int id = 1;
    for (int p = 1; p <= 6; ++p) {
        phase ph;
        ph.position = p;
        ph.title = titles[p - 1];
        int n = p <= 4 ? 17 : 16;  // 100 items
        for (int k = 1; k <= n; ++k) {
            item i;
            i.id = id++;
            i.phase = p;
            i.position = k;
            i.title = "Item number " + std::to_string(i.id) + " of the checklist";
            ph.items.push_back(i);
        }
        r.phases.push_back(ph);
    }
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 50;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--runs") {
            runs = std::max(1, std::stoi(argv[i + 1]));
        }
    }
    const epoch_seconds t0 = 1'796'000'000;
    auto r = hundred_items(t0);
    std::vector<audit_entry> audit;
    epoch_seconds t = t0;
    for (int k = 0; k < 1000; ++k) {
        t += 30;
        auto item = static_cast<std::int64_t>(k % 100 + 1);
        switch (k % 10) {
            case 0:
                audit.push_back({1, t, "U0A", "item.blocked", item, "open", "blocked", "waiting"});
                break;
            case 1:
                audit.push_back({1, t, "U0A", "item.unblocked", item, "blocked", "open", ""});
                break;
            case 2:
            case 3:
            case 4:
                audit.push_back({1, t, "U0A", "item.checked", item, "open", "done", "ok"});
                break;
            default:
                audit.push_back({1, t, "U0A", "item.noted", item, "", "", "a note"});
                break;
        }
        if (k % 170 == 169 && r.current_phase < 6) {
            audit.push_back({1, t, "U0A", "phase.forced", std::nullopt,
                             r.phases[r.current_phase - 1].title, r.phases[r.current_phase].title,
                             "moving on"});
            r.current_phase += 1;
            r.phases[r.current_phase - 1].entered_at = t;
            audit.push_back({1, t, "U0A", "phase.entered", std::nullopt,
                             r.phases[r.current_phase - 2].title,
                             r.phases[r.current_phase - 1].title, ""});
        }
    }
    std::vector<double> ms;
    std::size_t bytes = 0;
    int height = 0;
    for (int k = 0; k < runs; ++k) {
        auto start = std::chrono::steady_clock::now();
        auto model = build_timeline(r, audit, t + 60, "releases");
        auto p = commands::draw_timeline(model);
        auto end = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        bytes = p.png.size();
        height = p.height;
    }
    std::sort(ms.begin(), ms.end());
    std::printf(
        "timeline of a 100-item release with %zu audit rows: median %.1f ms, slowest "
        "%.1f ms over %d runs; PNG %zu bytes, 1200x%d\n",
        audit.size(), ms[ms.size() / 2], ms.back(), runs, bytes, height);
    return 0;
}
