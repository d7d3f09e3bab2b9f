// Environment and .env parsing with a precise message per bad variable.
#include "bot/config.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bot/signal.hpp"
#include "bot/zones.hpp"
#include "checklist/duration.hpp"
#include "storage/open.hpp"

namespace relbot::bot {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// ASCII letters in lower case ("OFF" → "off").
std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) {
        if (ch >= 'A' && ch <= 'Z') {
            ch = static_cast<char>(ch - 'A' + 'a');
        }
    }
    return out;
}

std::optional<int> parse_int(std::string_view s) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

bool is_user_id(std::string_view s) {
    if (s.size() < 2 || (s[0] != 'U' && s[0] != 'W')) {
        return false;
    }
    for (char c : s) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

// What is left of a token after its prefix, when it is plainly the example of .env.example or
// of a guide rather than a token: nothing, dots or an ellipsis, angle or curly brackets. Nothing
// else is judged (the contract asks only for the prefix): a made-up token such as "xoxb-test"
// is what a Slack stand-in in a test accepts, and a real token's random tail may spell a word.
bool looks_like_placeholder(std::string_view rest) {
    return rest.empty() || rest.find("...") != std::string_view::npos ||
           rest.find("…") != std::string_view::npos ||
           rest.find_first_of("<>{}") != std::string_view::npos;
}

std::optional<config_error> check_token(std::string_view name,
                                        const std::optional<std::string>& value,
                                        std::string_view prefix,
                                        std::string& out) {
    if (!value || trim(*value).empty()) {
        return config_error{std::string(name), "is required (the " + std::string(prefix) +
                                                   "… token from the Slack app's settings)"};
    }
    auto v = trim(*value);
    if (!v.starts_with(prefix)) {
        // What was pasted, by its prefix only (never more of it): the usual mix-ups.
        std::string hint;
        if (v.starts_with("xoxb-") || v.starts_with("xapp-")) {
            hint = " (it holds the " + std::string(v.substr(0, 5)) +
                   "… token: swapped with the other one?)";
        } else if (v.starts_with("xoxp-")) {
            hint = " (it holds a user token, xoxp-…; relbot needs the app's Bot User OAuth Token)";
        } else if (v.starts_with("xoxe")) {
            hint = " (it holds a refresh or rotating token; relbot needs the app's own token)";
        }
        return config_error{std::string(name), "must start with " + std::string(prefix) + hint};
    }
    if (looks_like_placeholder(v.substr(prefix.size()))) {
        return config_error{std::string(name),
                            "is a placeholder, not a token (such as the " + std::string(prefix) +
                                "... of .env.example): paste the real token from the Slack "
                                "app's settings, or unset SLACK_APP_TOKEN and SLACK_BOT_TOKEN "
                                "to try the sandbox with deploy/run.sh"};
    }
    for (char c : v) {
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return config_error{std::string(name),
                                "contains a space or a character that is "
                                "not printable ASCII"};
        }
    }
    out = std::string(v);
    return std::nullopt;
}

// Each optional variable: its name and how its (trimmed, non-empty) value is read into the
// config; the reader returns what is wrong with the value, or nullopt when it is taken.
using problem = std::optional<std::string>;

problem read_api_url(const std::string& v, config& c) {
    auto url = boost::urls::parse_absolute_uri(v);
    if (!url || url->scheme() != "https" || url->host().empty() || url->has_query() ||
        url->has_fragment() || url->has_userinfo()) {
        return "must be an https:// URL such as https://slack.com/api/";
    }
    c.api_url = v;
    if (c.api_url.back() != '/') {
        c.api_url.push_back('/');
    }
    return std::nullopt;
}

problem read_db(const std::string& v, config& c) {
    c.db_path = v;
    return std::nullopt;
}

problem read_database_url(const std::string& v, config& c) {
    // Never echoed: the URL may carry a password.
    bool uri = v.starts_with("postgresql://") || v.starts_with("postgres://");
    bool keywords = v.find('=') != std::string::npos && v.find("://") == std::string::npos;
    if (!uri && !keywords) {
        return "must be a PostgreSQL connection URI such as "
               "postgresql://relbot@db.internal/relbot?sslmode=verify-full";
    }
    if (auto problem = storage::database_url_problem(v)) {
        bool percent = problem->find("percent") != std::string::npos;
        return "cannot be read as a PostgreSQL connection string (" + *problem + ")" +
               (percent ? "; a % in it must be written %25" : "");
    }
    c.database_url = v;
    return std::nullopt;
}

problem read_templates_dir(const std::string& v, config& c) {
    c.templates_dir = v;
    return std::nullopt;
}

problem read_admins(const std::string& v, config& c) {
    std::string_view rest = v;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto id = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (id.empty()) {
            continue;
        }
        if (!is_user_id(id)) {
            return "must be Slack user IDs separated by commas, such as U012ABC,U034DEF";
        }
        c.admins.emplace_back(id);
    }
    return std::nullopt;
}

problem read_reminder_interval(const std::string& v, config& c) {
    auto d = checklist::parse_duration(v);
    if (!d) {
        return checklist::is_zero_duration(v) ? "must be longer than zero, such as 30m, 4h or 1d"
                                              : "must be a duration such as 30m, 4h or 1d";
    }
    c.reminder_interval = *d;
    return std::nullopt;
}

// "1h,4h,24h,48h" (durations, comma-separated, each listed once) or "off".
problem read_checkpoints(const std::string& v, config& c) {
    constexpr const char* wrong =
        "must be durations separated by commas, such as 1h,4h,24h,48h, or off for no "
        "checkpoints";
    // "none" is read as off too: it is what people write for "no checkpoints".
    if (lower(trim(v)) == "off" || lower(trim(v)) == "none") {
        c.checkpoints.clear();
        return std::nullopt;
    }
    std::vector<std::chrono::seconds> out;
    std::string_view rest = v;
    while (true) {
        auto comma = rest.find(',');
        auto one = trim(rest.substr(0, comma));
        auto d = checklist::parse_duration(one);
        if (!d) {
            return wrong;
        }
        if (std::find(out.begin(), out.end(), *d) != out.end()) {
            return "lists " + std::string(one) + " twice; give each checkpoint once, such as " +
                   "1h,4h,24h,48h";
        }
        out.push_back(*d);
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
    }
    std::sort(out.begin(), out.end());
    c.checkpoints = std::move(out);
    return std::nullopt;
}

// A whole number from `low` to `high` into `to`; `wrong` otherwise.
problem read_number(const std::string& v, int low, int high, int& to, const char* wrong) {
    auto n = parse_int(v);
    if (!n || *n < low || *n > high) {
        return wrong;
    }
    to = *n;
    return std::nullopt;
}

problem read_escalate_after(const std::string& v, config& c) {
    return read_number(v, 1, 100, c.escalate_after, "must be a whole number from 1 to 100");
}

problem read_quiet_hours(const std::string& v, config& c) {
    if (lower(trim(v)) == "off") {  // the same as 0-0 (README, "Configuration")
        c.quiet_from_hour = 0;
        c.quiet_to_hour = 0;
        return std::nullopt;
    }
    auto dash = v.find('-');
    std::optional<int> from;
    std::optional<int> to;
    if (dash != std::string::npos) {
        from = parse_int(trim(std::string_view(v).substr(0, dash)));
        to = parse_int(trim(std::string_view(v).substr(dash + 1)));
    }
    if (!from || !to || *from < 0 || *from > 23 || *to < 0 || *to > 23) {
        return "must be two hours from 0 to 23, such as 20-8, or off for none";
    }
    c.quiet_from_hour = *from;
    c.quiet_to_hour = *to;
    return std::nullopt;
}

problem read_connections(const std::string& v, config& c) {
    return read_number(v, 1, 10, c.connections,
                       "must be a whole number from 1 to 10 (Slack allows 10)");
}

problem read_log_level(const std::string& v, config& c) {
    auto l = parse_log_level(v);
    if (!l) {
        return "must be one of error, warn, info, debug";
    }
    c.level = *l;
    return std::nullopt;
}

bool read_host_port(const std::string& v, std::optional<std::string>& host, unsigned short& port) {
    auto parsed = parse_host_port(v);
    if (!parsed) {
        return false;
    }
    host = std::move(parsed->first);
    port = parsed->second;
    return true;
}

problem read_health_addr(const std::string& v, config& c) {
    if (!read_host_port(v, c.health_host, c.health_port)) {
        return "must be host:port, such as 127.0.0.1:9108 (port 0: any free port, logged at "
               "start)";
    }
    return std::nullopt;
}

problem read_hooks_addr(const std::string& v, config& c) {
    if (!read_host_port(v, c.hooks_host, c.hooks_port)) {
        return "must be host:port, such as 0.0.0.0:9109 (port 0: any free port, logged at "
               "start), with RELBOT_HOOKS_SECRET set too";
    }
    return std::nullopt;
}

problem read_hooks_secret(const std::string& v, config& c) {
    if (v.size() < min_signal_secret_bytes) {
        return "must be at least 32 characters (openssl rand -hex 32 makes one)";
    }
    c.hooks_secret = v;
    return std::nullopt;
}

problem read_freeze(const std::string& v, config& c) {
    auto read = checklist::read_freeze_list(v);
    if (auto* wrong = std::get_if<std::string>(&read)) {
        return "has a window that cannot be used: " + *wrong + "; separate windows with `;`";
    }
    auto windows = std::get<std::vector<checklist::freeze_window>>(std::move(read));
    if (auto wrong = resolve_zones(windows, "")) {
        return "has a window that cannot be used: " + *wrong;
    }
    c.freezes = std::move(windows);
    return std::nullopt;
}

problem read_one_deploy(const std::string& v, config& c) {
    if (v != "0" && v != "1") {
        return "must be 1 (one release in its deployment phase across all channels) or 0";
    }
    c.one_deploy_at_a_time = v == "1";
    return std::nullopt;
}

struct optional_variable {
    std::string_view name;
    problem (*read)(const std::string& value, config& c);
};

// In the order they are checked: the first bad one is the one reported.
constexpr optional_variable optional_variables[] = {
    {"SLACK_API_URL", read_api_url},
    {"RELBOT_DB", read_db},
    {"RELBOT_DATABASE_URL", read_database_url},
    {"RELBOT_TEMPLATES_DIR", read_templates_dir},
    {"RELBOT_ADMINS", read_admins},
    {"RELBOT_REMINDER_INTERVAL", read_reminder_interval},
    {"RELBOT_ESCALATE_AFTER", read_escalate_after},
    {"RELBOT_QUIET_HOURS", read_quiet_hours},
    {"RELBOT_CHECKPOINTS", read_checkpoints},
    {"RELBOT_CONNECTIONS", read_connections},
    {"RELBOT_LOG_LEVEL", read_log_level},
    {"RELBOT_HEALTH_ADDR", read_health_addr},
    {"RELBOT_HOOKS_ADDR", read_hooks_addr},
    {"RELBOT_HOOKS_SECRET", read_hooks_secret},
    {"RELBOT_FREEZE", read_freeze},
    {"RELBOT_ONE_DEPLOY_AT_A_TIME", read_one_deploy},
};

}  // namespace

std::optional<std::pair<std::string, unsigned short>> parse_host_port(std::string_view v) {
    auto colon = v.rfind(':');
    auto n = colon == std::string_view::npos ? std::nullopt : parse_int(v.substr(colon + 1));
    if (colon == 0 || !n || *n < 0 || *n > 65535) {
        return std::nullopt;
    }
    auto host = v.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);  // [::1]:9109, as IPv6 addresses are written
    }
    return std::pair{std::string(host), static_cast<unsigned short>(*n)};
}

std::vector<std::string> unknown_dotenv_names() {
    std::vector<std::string> unknown;
    std::ifstream file(".env");
    if (!file) {
        return unknown;
    }
    std::stringstream text;
    text << file.rdbuf();
    // A line that is not NAME=value ("NAME value", or "NAME: secret=", which would put what
    // follows the name, maybe a secret, into its "name") sets nothing: said as such, never
    // with its text. The names are read as parse_dotenv reads them.
    constexpr const char* not_a_setting = "a line that is not NAME=value";
    bool malformed = false;
    std::string line;
    while (std::getline(text, line)) {
        auto t = trim(line);
        if (t.empty() || t.front() == '#') {
            continue;
        }
        auto parsed = parse_dotenv(t);
        if (parsed.empty()) {
            malformed = true;
            continue;
        }
        const auto& name = parsed.begin()->first;
        bool identifier =
            !name.empty() &&
            (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_');
        for (char c : name) {
            identifier = identifier && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
        }
        bool known = name == "SLACK_APP_TOKEN" || name == "SLACK_BOT_TOKEN" ||
                     name == "SSL_CERT_FILE" || name == "SSL_CERT_DIR";
        for (const auto& var : optional_variables) {
            known = known || var.name == name;
        }
        if (!identifier) {
            malformed = true;
        } else if (!known && std::find(unknown.begin(), unknown.end(), name) == unknown.end()) {
            unknown.push_back(name);
        }
    }
    if (malformed) {
        unknown.push_back(not_a_setting);
    }
    return unknown;
}

config_result parse_config(const env_lookup& lookup) {
    config c;
    if (auto e = check_token("SLACK_APP_TOKEN", lookup("SLACK_APP_TOKEN"), "xapp-", c.app_token)) {
        return *e;
    }
    if (auto e = check_token("SLACK_BOT_TOKEN", lookup("SLACK_BOT_TOKEN"), "xoxb-", c.bot_token)) {
        return *e;
    }
    for (const auto& var : optional_variables) {
        auto v = lookup(var.name);
        if (!v || trim(*v).empty()) {
            continue;  // unset, or set but empty: the default
        }
        if (auto wrong = var.read(std::string(trim(*v)), c)) {
            return config_error{std::string(var.name), std::move(*wrong)};
        }
    }
    if (c.hooks_host.has_value() != !c.hooks_secret.empty()) {
        return c.hooks_host ? config_error{"RELBOT_HOOKS_SECRET",
                                           "must be set with RELBOT_HOOKS_ADDR: the endpoint "
                                           "believes only requests signed with it"}
                            : config_error{"RELBOT_HOOKS_ADDR",
                                           "must be set with RELBOT_HOOKS_SECRET (host:port, such "
                                           "as 0.0.0.0:9109), or unset both"};
    }
    return c;
}

std::map<std::string, std::string, std::less<>> parse_dotenv(std::string_view text) {
    std::map<std::string, std::string, std::less<>> out;
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);  // a byte-order mark (some Windows editors): not part of the key
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        auto line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        if (line.starts_with("export ")) {
            line = trim(line.substr(7));
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        auto key = trim(line.substr(0, eq));
        auto value = trim(line.substr(eq + 1));
        auto close = value.empty() || (value.front() != '"' && value.front() != '\'')
                         ? std::string_view::npos
                         : value.find(value.front(), 1);
        auto after =
            close == std::string_view::npos ? std::string_view() : trim(value.substr(close + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);  // "quoted" (a quote inside is the value's)
        } else if (close != std::string_view::npos && (after.empty() || after.front() == '#')) {
            value = value.substr(1, close - 1);  // "quoted" # a comment
        } else if (auto hash = value.find(" #"); hash != std::string_view::npos) {
            value = trim(value.substr(0, hash));  // an unquoted value ends at a comment
        }
        if (!key.empty()) {
            out.insert_or_assign(std::string(key), std::string(value));
        }
    }
    return out;
}

env_lookup process_environment() {
    std::map<std::string, std::string, std::less<>> dotenv;
    if (std::ifstream file(".env"); file) {
        std::stringstream text;
        text << file.rdbuf();
        dotenv = parse_dotenv(text.str());
    }
    return [dotenv = std::move(dotenv)](std::string_view name) -> std::optional<std::string> {
        if (const char* v = std::getenv(std::string(name).c_str())) {
            return std::string(v);
        }
        if (auto it = dotenv.find(name); it != dotenv.end()) {
            return it->second;
        }
        return std::nullopt;
    };
}

config_result load_config() {
    return parse_config(process_environment());
}

std::string configured_database_url(const env_lookup& lookup) {
    auto v = lookup("RELBOT_DATABASE_URL");
    return v ? std::string(trim(*v)) : std::string();
}

std::string configured_db_path(const env_lookup& lookup) {
    auto v = lookup("RELBOT_DB");
    if (v && !trim(*v).empty()) {
        return std::string(trim(*v));
    }
    return config{}.db_path;
}

}  // namespace relbot::bot
