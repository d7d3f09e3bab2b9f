// Pictures (contract: "Pictures and files"): a release's timeline and the trends across a
// channel's releases, drawn with cairo into PNG bytes. Pure functions of the models
// (checklist/timeline.hpp): the same model gives the same bytes; no clock, no files. Text is
// set in DejaVu Sans (fonts-dejavu-core), times in UTC, and every colour has a shape or a
// pattern beside it, so that nothing is told by red against green alone.
#pragma once

#include <stdexcept>
#include <string>

#include "checklist/timeline.hpp"

namespace relbot::commands {

// Drawing is impossible on this machine (cairo cannot be loaded).
struct picture_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct picture {
    std::string png;       // the PNG file's bytes
    int width = 0;         // pixels
    int height = 0;        // pixels
    std::string alt_text;  // what it shows, for screen readers (Slack's alt_txt)
};

// The timeline: a row per phase with its span, a row per item that was blocked with its
// blocked spans (red, hatched), forced moves and rollback decisions as marked lines, the
// deployment as a black line, checkpoints with their answers (by shape), a time axis in UTC, a
// title with the version, the channel and the dates. 1200 pixels wide, 250 to 2000 high.
picture draw_timeline(const checklist::timeline_model& m);

// The trends: time per phase per release as stacked bars (oldest left), and beside them the
// numbers (median time per phase, skips and forced moves per release with their most common
// reasons, median time from a reminder to done, checkpoint answers). 1200 × 640 pixels.
picture draw_trends(const checklist::trend_model& t);

// The one sentence the picture is shared with: what it shows, naming the version (for the
// trends, the channel and how many releases).
std::string timeline_caption(const checklist::timeline_model& m);
std::string trends_caption(const checklist::trend_model& t);

}  // namespace relbot::commands
