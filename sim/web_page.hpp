// The sandbox page's files (sim/page/), built into relbot-sim by sim/page/embed.cmake.
#pragma once

#include <string_view>

namespace relbot::sim::web {

extern const std::string_view page_html;    // index.html
extern const std::string_view page_script;  // app.js
extern const std::string_view page_style;   // app.css

}  // namespace relbot::sim::web
