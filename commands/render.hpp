// What relbot says: replies, announcements, DMs, the status view and the report as Slack
// messages (a plain `text` fallback plus Block Kit `blocks`, always within Block Kit's limits).
// The renderers live in commands/render/, one file per kind of message; this header brings
// them all in.
#pragma once

#include "commands/render/announcements.hpp"
#include "commands/render/blocks.hpp"
#include "commands/render/direct.hpp"
#include "commands/render/files.hpp"
#include "commands/render/report.hpp"
#include "commands/render/status.hpp"
