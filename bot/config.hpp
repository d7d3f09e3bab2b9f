// The bot's configuration: environment variables, with a `.env` file filling the gaps.
// The only place that reads the environment. A bad value is reported by variable name,
// never by value (it may be a token).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bot/log.hpp"
#include "checklist/freeze.hpp"

namespace relbot::bot {

struct config {
    std::string app_token;
    std::string bot_token;
    std::string api_url = "https://slack.com/api/";  // always ends with '/'
    std::string db_path = "./relbot.db";
    // RELBOT_DATABASE_URL: a PostgreSQL connection URI; when set it replaces db_path. A secret
    // (it may hold a password): logged only through storage::describe_database.
    std::string database_url;
    std::optional<std::string> templates_dir;
    std::vector<std::string> admins;
    std::chrono::seconds reminder_interval{4 * 3600};
    int escalate_after = 2;
    int quiet_from_hour = 20;  // quiet hours run from this hour …
    int quiet_to_hour = 8;     // … to this one, in each owner's time zone
    // RELBOT_CHECKPOINTS: monitoring checkpoints after the deployment phase is left; empty: off.
    std::vector<std::chrono::seconds> checkpoints{std::chrono::hours(1), std::chrono::hours(4),
                                                  std::chrono::hours(24), std::chrono::hours(48)};
    int connections = 1;
    log_level level = log_level::info;
    std::optional<std::string> health_host;
    unsigned short health_port = 0;
    // RELBOT_HOOKS_ADDR and RELBOT_HOOKS_SECRET: the signed endpoint for CI and deploy tools
    // (bot/hooks.hpp); both or neither. The secret is never logged or shown.
    std::optional<std::string> hooks_host;
    unsigned short hooks_port = 0;
    std::string hooks_secret;
    // RELBOT_FREEZE: freeze windows for every template (zones read); RELBOT_ONE_DEPLOY_AT_A_TIME.
    std::vector<checklist::freeze_window> freezes;
    bool one_deploy_at_a_time = false;
};

// What is wrong with which variable: "SLACK_APP_TOKEN must start with xapp-".
// "host:port" (port 0 to 65535; host may be empty, as in ":9108"), or nullopt.
std::optional<std::pair<std::string, unsigned short>> parse_host_port(std::string_view v);

struct config_error {
    std::string variable;
    std::string problem;

    std::string to_string() const { return variable + " " + problem; }
};

using config_result = std::variant<config, config_error>;

// Looks a variable up; nullopt when it is not set.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses and checks every variable of the contract. Pure: the lookup supplies the values.
config_result parse_config(const env_lookup& lookup);

// The KEY=VALUE lines of a `.env` file: `#` comments (also after a quoted value), blank lines,
// an optional `export `, single or double quotes around the value, and a byte-order mark at
// the start are understood.
std::map<std::string, std::string, std::less<>> parse_dotenv(std::string_view text);

// The names in `./.env` that relbot does not read (a misspelt RELBOT_CONECTIONS), for a
// warning at start: such a setting has no effect. A line whose "name" is not one (`NAME:
// value=`) is said as "a line that is not NAME=value", never with its text (it may hold a
// secret).
std::vector<std::string> unknown_dotenv_names();

// The process environment, with `./.env` (if present) filling in what it does not set.
config_result load_config();

// The environment, then ./.env for what the environment does not set.
env_lookup process_environment();
// RELBOT_DB (or its default) alone: what `relbot backup` and `relbot export` need.
std::string configured_db_path(const env_lookup& lookup);
// RELBOT_DATABASE_URL alone ("" when unset).
std::string configured_database_url(const env_lookup& lookup);

}  // namespace relbot::bot
