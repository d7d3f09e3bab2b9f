// relbot's composition root: configuration, templates, the app, signals, the event loop.
// Invariant: one io_context; all I/O objects belong to `ioc`, each on one of the app's two
// strands.
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "bot/app.hpp"
#include "bot/config.hpp"
#include "bot/hooks.hpp"
#include "bot/http_listener.hpp"
#include "bot/idle_trim.hpp"
#include "bot/log.hpp"
#include "bot/net.hpp"
#include "bot/zones.hpp"
#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/template.hpp"
#include "commands/parse.hpp"
#include "commands/render.hpp"
#include "storage/database.hpp"
#include "storage/migrate.hpp"
#include "storage/open.hpp"

namespace {

using namespace relbot;
namespace fs = std::filesystem;

constexpr int exit_config = 2;

// A template is started by its file's name without `.md`: one `/release start … template`
// cannot take is warned of where it is read, not found on release day (App Home's start form
// can still start it, so it is not refused).
std::optional<std::string> unusable_template_name(const fs::path& path) {
    auto name = path.stem().string();
    if (commands::valid_template_name(name)) {
        return std::nullopt;
    }
    return path.string() + ": a template is started by its file's name, `" + name +
           "`, which `/release start … template` cannot take: rename the file to letters, " +
           "digits and - _ . (at most 64), ending in .md";
}

// Loads every *.md in `dir` into `library`; the first bad template is returned as an error
// (a configuration error, like a bad variable: exit 2).
std::optional<bot::config_error> load_templates(const std::string& dir,
                                                checklist::template_library& library) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return bot::config_error{"RELBOT_TEMPLATES_DIR", dir + " is not a readable directory"};
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".md") {
            files.push_back(entry.path());
        }
    }
    if (ec) {
        return bot::config_error{"RELBOT_TEMPLATES_DIR", dir + " cannot be read: " + ec.message()};
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        if (auto wrong = unusable_template_name(path)) {
            bot::log_warn("template.warning").kv("warning", *wrong);
        }
        std::ifstream in(path);
        if (!in) {
            return bot::config_error{"template", path.string() + " cannot be read"};
        }
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = checklist::parse_template(path.stem().string(), path.string(), text.str());
        if (auto* err = std::get_if<checklist::template_error>(&parsed)) {
            return bot::config_error{"template", err->to_string()};
        }
        auto& t = std::get<checklist::checklist_template>(parsed);
        if (auto wrong = bot::resolve_zones(t.freezes, path.string())) {
            return bot::config_error{"template", *wrong};
        }
        for (const auto& w : checklist::template_warnings(t, path.string())) {
            bot::log_warn("template.warning").kv("warning", w.to_string());
        }
        library.put(std::move(t));
    }
    return std::nullopt;
}

constexpr const char* usage =
    "usage: relbot                       run the bot (configuration: environment and ./.env)\n"
    "       relbot check-template FILE…  check checklist templates; print their phases, windows\n"
    "                                    and items, and warn of items whose slugs collide\n"
    "       relbot backup PATH           copy the database (RELBOT_DB, or RELBOT_DATABASE_URL) to\n"
    "                                    the SQLite file PATH, consistently,\n"
    "                                    while the bot may be running\n"
    "       relbot export VERSION [--channel C|#name]…\n"
    "                                    print a release's report as markdown\n"
    "       relbot migrate-to-postgres URL\n"
    "                                    copy the SQLite database (RELBOT_DB) into the empty\n"
    "                                    PostgreSQL database at URL and check the counts\n"
    "       relbot signal --channel C --item I --action A [--text T] [--url U] [--source S]\n"
    "                     [--release V] [--id ID]\n"
    "                                    sign and send one signal from CI to relbot\n"
    "                                    (RELBOT_HOOKS_ADDR, RELBOT_HOOKS_SECRET)\n"
    "       relbot --help | --version\n"
    "\n"
    "Configuration (environment, or ./.env): SLACK_APP_TOKEN, SLACK_BOT_TOKEN, SLACK_API_URL,\n"
    "RELBOT_DB, RELBOT_DATABASE_URL, RELBOT_TEMPLATES_DIR, RELBOT_ADMINS, "
    "RELBOT_REMINDER_INTERVAL,\n"
    "RELBOT_ESCALATE_AFTER, RELBOT_QUIET_HOURS, RELBOT_CHECKPOINTS, RELBOT_CONNECTIONS,\n"
    "RELBOT_LOG_LEVEL, RELBOT_HEALTH_ADDR, RELBOT_HOOKS_ADDR, RELBOT_HOOKS_SECRET, RELBOT_FREEZE,\n"
    "RELBOT_ONE_DEPLOY_AT_A_TIME. README.md explains each.\n"
    "\n"
    "Exit status: 0 done; 1 failure (Slack refused the token, the database cannot be opened);\n"
    "2 bad configuration, arguments or template.\n";

int check_templates(const std::vector<std::string>& files) {
    if (files.empty()) {
        std::fprintf(stderr, "relbot check-template: name at least one template file\n");
        return exit_config;
    }
    int status = 0;
    for (const auto& path : files) {
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            std::fprintf(stderr, "%s: is a folder; name the template files in it (%s/*.md)\n",
                         path.c_str(), path.c_str());
            status = exit_config;
            continue;
        }
        if (auto wrong = unusable_template_name(path)) {
            std::fprintf(stderr, "warning: %s\n", wrong->c_str());  // the exit status stays
        }
        std::ifstream in(path);
        if (!in) {
            std::fprintf(stderr, "%s: cannot be read\n", path.c_str());
            status = exit_config;
            continue;
        }
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = checklist::parse_template(fs::path(path).stem().string(), path, text.str());
        if (auto* err = std::get_if<checklist::template_error>(&parsed)) {
            std::fprintf(stderr, "%s\n", err->to_string().c_str());
            status = exit_config;
            continue;
        }
        auto& t = std::get<checklist::checklist_template>(parsed);
        if (auto wrong = bot::resolve_zones(t.freezes, path)) {
            std::fprintf(stderr, "%s\n", wrong->c_str());
            status = exit_config;
            continue;
        }
        std::size_t items = 0;
        for (const auto& p : t.phases) {
            items += p.items.size();
        }
        std::printf("%s: template `%s`, %s, %s\n", path.c_str(), t.name.c_str(),
                    checklist::plural(t.phases.size(), "phase").c_str(),
                    checklist::plural(items, "item").c_str());
        for (std::size_t i = 0; i < t.phases.size(); ++i) {
            const auto& p = t.phases[i];
            auto window = p.window ? "window " + checklist::format_duration(p.window->min) +
                                         " to " + checklist::format_duration(p.window->max)
                                   : std::string("no window");
            std::printf("  %zu. %s — %s\n", i + 1, p.title.c_str(), window.c_str());
            for (std::size_t j = 0; j < p.items.size(); ++j) {
                auto policy = checklist::describe_policy(p.items[j].policy);
                std::printf("     %zu.%zu %s%s\n", i + 1, j + 1, p.items[j].title.c_str(),
                            policy.empty() ? "" : (" — " + policy).c_str());
            }
        }
        if (!t.freezes.empty()) {
            std::printf("  Freeze windows:\n");
            for (const auto& w : t.freezes) {
                std::printf("     %s\n", w.text.c_str());
            }
        }
        // Legal, so the exit status stays 0; said after the listing so that it is seen.
        std::fflush(stdout);
        for (const auto& w : checklist::template_warnings(t, path)) {
            std::fprintf(stderr, "%s\n", w.to_string().c_str());
        }
    }
    return status;
}

int backup(const std::vector<std::string>& args) {
    if (args.size() != 1) {
        std::fprintf(stderr,
                     "relbot backup: name one file to write, e.g. relbot backup "
                     "/var/backups/relbot-$(date +%%F).db\n");
        return exit_config;
    }
    if (auto url = bot::configured_database_url(bot::process_environment()); !url.empty()) {
        auto source = storage::describe_database({"", url});  // never the password
        try {
            long long total = 0;
            for (const auto& t : storage::backup_postgres(url, args[0])) {
                total += t.rows;
            }
            std::printf(
                "backed up %s to %s (%lld rows, one snapshot, the same count in every table on "
                "both sides)\nrestore: relbot migrate-to-postgres into an empty database with "
                "RELBOT_DB=%s\n",
                source.c_str(), args[0].c_str(), total, args[0].c_str());
            return 0;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "relbot backup: %s: no backup was made\n", e.what());
            return EXIT_FAILURE;
        }
    }
    auto source = bot::configured_db_path(bot::process_environment());
    if (!fs::exists(source)) {
        std::fprintf(stderr, "relbot backup: the database %s does not exist (RELBOT_DB)\n",
                     source.c_str());
        return EXIT_FAILURE;
    }
    try {
        auto pages = storage::backup_database(source, args[0]);
        std::printf("backed up %s to %s (%s)\n", source.c_str(), args[0].c_str(),
                    checklist::plural(static_cast<std::size_t>(pages), "page").c_str());
        return 0;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "relbot backup: %s\n", e.what());
        return exit_config;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot backup: %s\n", e.what());
        return EXIT_FAILURE;
    }
}

int migrate_to_postgres(const std::vector<std::string>& args) {
    if (args.size() != 1 || args[0].empty()) {
        std::fprintf(stderr,
                     "relbot migrate-to-postgres: name the PostgreSQL database to copy into, e.g. "
                     "relbot migrate-to-postgres postgresql://relbot@db.internal/relbot\n");
        return exit_config;
    }
    auto source = bot::configured_db_path(bot::process_environment());
    auto target = storage::describe_database({"", args[0]});  // never the password
    try {
        auto copied = storage::migrate_to_postgres(source, args[0]);
        long long total = 0;
        for (const auto& t : copied) {
            std::printf("  %-18s %lld\n", t.table.c_str(), t.rows);
            total += t.rows;
        }
        std::printf(
            "copied %s into %s: %lld rows, the same count in every table on both "
            "sides\nnext: set RELBOT_DATABASE_URL and start relbot; keep %s as a "
            "backup\n",
            source.c_str(), target.c_str(), total, source.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot migrate-to-postgres: %s: nothing was copied\n", e.what());
        return EXIT_FAILURE;
    }
}

struct export_request {
    std::string version;
    std::vector<std::string> channels;  // IDs or names, with or without `#`; none: any
};

// The arguments of `relbot export`; nullopt after printing the usage.
std::optional<export_request> parse_export_args(const std::vector<std::string>& args) {
    export_request req;
    bool usage_ok = true;
    for (std::size_t i = 0; i < args.size() && usage_ok; ++i) {
        if (args[i] == "--channel" && i + 1 < args.size()) {
            req.channels.push_back(args[++i]);
        } else if (req.version.empty() && !args[i].starts_with("--")) {
            req.version = args[i];
        } else {
            usage_ok = false;
        }
    }
    if (!usage_ok || req.version.empty()) {
        std::fprintf(stderr, "relbot export: usage: relbot export VERSION [--channel C|#name]…\n");
        return std::nullopt;
    }
    return req;
}

// The one release the request names; nullopt after saying why there is none.
std::optional<std::int64_t> find_release_to_export(storage::engine& st, const export_request& req) {
    auto wanted = [&](const std::string& channel) {
        auto name = st.people().channel_name(channel);
        for (const auto& c : req.channels) {
            auto bare = c.starts_with("#") ? c.substr(1) : c;
            if (c == channel || (!name.empty() && bare == name)) {
                return true;
            }
        }
        return req.channels.empty();
    };
    std::vector<std::pair<std::string, std::int64_t>> found;
    std::set<std::string> distinct;
    for (auto& [channel, id] : st.releases().releases_by_version(req.version)) {
        if (wanted(channel)) {
            found.emplace_back(channel, id);
            distinct.insert(channel);
        }
    }
    if (found.empty()) {
        std::fprintf(stderr, "relbot export: no release %s%s\n", req.version.c_str(),
                     req.channels.empty() ? "" : " in those channels");
        return std::nullopt;
    }
    if (distinct.size() > 1) {
        std::string list;
        for (const auto& c : distinct) {
            auto name = st.people().channel_name(c);
            list += " " + c + (name.empty() ? "" : " (#" + name + ")");
        }
        std::fprintf(stderr,
                     "relbot export: release %s exists in several channels:%s; pick one with "
                     "--channel\n",
                     req.version.c_str(), list.c_str());
        return std::nullopt;
    }
    return found.front().second;
}

int export_report(const std::vector<std::string>& args) {
    auto req = parse_export_args(args);
    if (!req) {
        return exit_config;
    }
    auto path = bot::configured_db_path(bot::process_environment());
    auto url = bot::configured_database_url(bot::process_environment());
    if (url.empty() && !fs::exists(path)) {
        std::fprintf(stderr, "relbot export: the database %s does not exist (RELBOT_DB)\n",
                     path.c_str());
        return EXIT_FAILURE;
    }
    try {
        // Read as it is: an export never creates, migrates or otherwise changes the store
        // (an older one, say, that an older relbot still runs on).
        auto engine = storage::open({.path = path, .database_url = url, .migrate = false});
        auto& st = *engine;
        auto id = find_release_to_export(st, *req);
        if (!id) {
            return exit_config;
        }
        auto r = st.releases().load_release(*id);
        if (!r) {
            std::fprintf(stderr, "relbot export: release %s vanished while reading\n",
                         req->version.c_str());
            return EXIT_FAILURE;
        }
        // The release's template's Freeze section goes with it, read as relbot reads it.
        std::vector<checklist::freeze_window> freezes;
        if (auto dir = bot::process_environment()("RELBOT_TEMPLATES_DIR"); dir && !dir->empty()) {
            checklist::template_library templates;
            if (auto err = load_templates(*dir, templates)) {
                std::fprintf(stderr,
                             "relbot export: warning: the templates cannot be read (%s); the "
                             "export has no Freeze section\n",
                             err->to_string().c_str());
            } else if (const auto* t = templates.find(r->template_name)) {
                freezes = t->freezes;
            }
        }
        std::fputs(commands::report_markdown(*r, st.audit().audit_for(r->id),
                                             st.people().user_names(), freezes)
                       .c_str(),
                   stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot export: %s\n", e.what());
        return EXIT_FAILURE;
    }
}

// relbot signal --channel C --item I --action A [--text T] [--url U] [--source S]
// [--release V] [--id ID]: one signal, signed and sent to this host's relbot.
int send_signal_command(const std::vector<std::string>& args) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::printf(
            "usage: relbot signal --channel C --item I --action "
            "check|note|block|unblock|deployed [--text T] [--url U] [--source S] "
            "[--release V] [--id ID]\nSigns the signal with RELBOT_HOOKS_SECRET and sends it to "
            "RELBOT_HOOKS_ADDR (environment or ./.env); exits 0 on a 2xx answer, 1 otherwise.\n");
        return 0;
    }
    std::map<std::string, std::string> given;
    static const std::set<std::string> known = {"--channel", "--item",   "--action",  "--text",
                                                "--url",     "--source", "--release", "--id"};
    for (std::size_t i = 0; i < args.size(); i += 2) {
        if (!known.contains(args[i]) || i + 1 >= args.size()) {
            std::fprintf(stderr,
                         "relbot signal: usage: relbot signal --channel C --item I --action "
                         "check|note|block|unblock|deployed [--text T] [--url U] [--source S] "
                         "[--release V] [--id ID]\n");
            return exit_config;
        }
        given[args[i].substr(2)] = args[i + 1];
    }
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    nlohmann::json body = nlohmann::json::object();
    for (const auto& [key, value] : given) {
        body[key] = value;
    }
    if (!body.contains("id")) {
        // One run of this command is one signal: sent again (a retry), it takes a new id.
        std::random_device rd;
        body["id"] = "relbot-signal-" + std::to_string(now) + "-" + std::to_string(rd());
    }
    // What relbot would answer 400 to (exit 1, as for that answer), by relbot's own reading of
    // a signal, said here without a request. Its fields are the options' names.
    auto text = body.dump();
    auto read = bot::read_signal(text);
    if (const auto* bad = std::get_if<std::string>(&read)) {
        std::fprintf(stderr,
                     "relbot signal: %s (the --options of the same names); nothing was sent\n",
                     bad->c_str());
        return EXIT_FAILURE;
    }
    auto env = bot::process_environment();
    auto addr = env("RELBOT_HOOKS_ADDR");
    auto secret = env("RELBOT_HOOKS_SECRET");
    if (!addr || addr->empty() || !secret || secret->size() < bot::min_signal_secret_bytes) {
        std::fprintf(stderr,
                     "relbot signal: set RELBOT_HOOKS_ADDR (host:port relbot listens on) and "
                     "RELBOT_HOOKS_SECRET (the same secret, at least 32 characters), in the "
                     "environment or ./.env\n");
        return exit_config;
    }
    auto at = bot::parse_host_port(*addr);
    if (!at || at->second == 0) {
        std::fprintf(stderr, "relbot signal: RELBOT_HOOKS_ADDR must be host:port with a port\n");
        return exit_config;
    }
    try {
        auto answer = bot::send_signal(at->first, at->second, *secret, text, now);
        // The answer's JSON alone on stdout (for `jq` in a pipeline); its HTTP status on stderr
        // when it is not a success.
        std::printf("%s\n", answer.body.c_str());
        bool ok = answer.status >= 200 && answer.status < 300;
        if (!ok) {
            std::fprintf(stderr, "relbot signal: HTTP %u\n", answer.status);
        }
        return ok ? 0 : EXIT_FAILURE;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot signal: %s\n", e.what());
        return EXIT_FAILURE;
    }
}

int run_bot();

}  // namespace

// A subcommand's own lines of `usage`: its first line has "relbot NAME" at column 7, and its
// continuations are indented further. Empty for a name that is not one.
std::string usage_of(const std::string& command) {
    std::istringstream in{std::string(usage)};
    std::string line;
    std::string out;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.size() > 14 && line.compare(7, 7, "relbot ") == 0) {
            inside = line.substr(14, line.find(' ', 14) - 14) == command;
        } else if (line.empty() || line[0] != ' ') {
            inside = false;
        }
        if (inside) {
            out += line + "\n";
        }
    }
    return out;
}

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        return run_bot();
    }
    const auto& command = args.front();
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(usage, stdout);
        return 0;
    }
    // `relbot backup --help`: that command's usage, never a file named "--help".
    if (rest.size() == 1 && (rest[0] == "--help" || rest[0] == "-h") && command != "signal") {
        if (auto own = usage_of(command); !own.empty()) {
            std::printf("%s", own.c_str());
            return 0;
        }
    }
    // Their arguments are files and addresses: one that starts with '-' is a mistyped option.
    if (command == "check-template" || command == "backup" || command == "migrate-to-postgres") {
        for (const auto& a : rest) {
            if (a.starts_with('-')) {
                std::fprintf(stderr, "relbot %s: unknown option `%s`\nusage:\n%s", command.c_str(),
                             a.c_str(), usage_of(command).c_str());
                return exit_config;
            }
        }
    }
    if (command == "--version" || command == "-V") {
        std::printf("relbot %s\n", RELBOT_VERSION);
        return 0;
    }
    if (command == "check-template") {
        return check_templates(rest);
    }
    if (command == "backup") {
        return backup(rest);
    }
    if (command == "export") {
        return export_report(rest);
    }
    if (command == "migrate-to-postgres") {
        return migrate_to_postgres(rest);
    }
    if (command == "signal") {
        return send_signal_command(rest);
    }
    std::fprintf(stderr, "relbot: unknown command `%s`\n\n%s", command.c_str(), usage);
    return exit_config;
}

namespace {

// First SIGINT/SIGTERM: a graceful stop of the app. Second: the loop stops now (`forced`).
class signal_watch {
public:
    // The signals are taken on the app's strand.
    signal_watch(boost::asio::io_context& ioc, bot::app& app)
        : signals_(app.executor(), SIGINT, SIGTERM), ioc_(ioc), app_(app) {
        wait();
    }
    void cancel() { signals_.cancel(); }
    bool forced = false;

private:
    void wait() {
        signals_.async_wait(
            [this](const boost::system::error_code& ec, int sig) { on_signal(ec, sig); });
    }
    void on_signal(const boost::system::error_code& ec, int sig) {
        if (ec) {
            return;  // cancelled at the end of run
        }
        if (++seen_ == 1) {
            bot::log_info("signal").kv("signal", sig).kv("action", "graceful shutdown");
            app_.request_stop();
            wait();
        } else {
            bot::log_warn("signal").kv("signal", sig).kv("action", "exit now");
            forced = true;
            ioc_.stop();
        }
    }

    boost::asio::signal_set signals_;
    boost::asio::io_context& ioc_;
    bot::app& app_;
    int seen_ = 0;
};

// Runs the bot until it stops; the process's exit code.
int serve(const bot::config& cfg, const checklist::template_library& templates) {
    // This thread runs everything; the app adds a second one while envelopes come in a burst
    // or the database is locked (bot/app.hpp), so the hint is two.
    boost::asio::io_context ioc{2};
    std::unique_ptr<bot::app> app;
    try {
        app = std::make_unique<bot::app>(ioc, cfg, templates);
    } catch (const bot::listen_error& e) {
        // An endpoint's address: a wrong setting is a configuration error like any other; a
        // port in use is a failure to start, named the same way.
        if (e.configuration) {
            std::fprintf(stderr, "relbot: configuration error: %s\n", e.what());
            return exit_config;
        }
        bot::log_error("startup.failed").kv("error", e.what());
        return EXIT_FAILURE;
    } catch (const std::exception& e) {
        bot::log_error("startup.failed")
            .kv("db", storage::describe_database({cfg.db_path, cfg.database_url}))
            .kv("error", e.what());
        return EXIT_FAILURE;
    }
    bot::log_info("startup")
        .kv("db", storage::describe_database({cfg.db_path, cfg.database_url}))
        .kv("api", cfg.api_url)
        .kv("templates", static_cast<long long>(templates.names().size()));

    int exit_code = 0;
    signal_watch signals(ioc, *app);
    boost::asio::co_spawn(app->executor(), app->run(), [&](std::exception_ptr e, int code) {
        exit_code = code;
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                bot::log_error("fatal").kv("error", ex.what());
            }
            exit_code = EXIT_FAILURE;
        }
        signals.cancel();
        if (!app->drained()) {
            // The notifier did not finish within its grace period: leave its call behind.
            signals.forced = true;
            ioc.stop();
        }
    });
    ioc.run();
    // Nothing runs on the loop any more: close the database before either way out, so that a
    // stop that leaves a call behind also leaves no -wal or -shm file.
    app->close_database();

    if (signals.forced) {
        // Exit without unwinding coroutines that are still waiting on the network. Every
        // acknowledged change is already committed; a message caught mid-send is resolved
        // on the next start.
        std::fflush(stderr);
        std::_Exit(exit_code);
    }
    return exit_code;
}

int run_bot() {
    bot::keep_large_blocks_off_the_heap();
    auto loaded = bot::load_config();
    if (auto* err = std::get_if<bot::config_error>(&loaded)) {
        // A variable .env sets that relbot does not read may be the one it asks for, misspelt:
        // said on the same line (a configuration error is one line).
        std::string unread;
        for (const auto& name : bot::unknown_dotenv_names()) {
            unread += (unread.empty() ? "" : ", ") + name;
        }
        std::fprintf(stderr, "relbot: configuration error: %s%s\n", err->to_string().c_str(),
                     unread.empty() ? ""
                                    : ("; ./.env also has " + unread +
                                       ", which relbot does not read "
                                       "(misspelt?)")
                                          .c_str());
        return exit_config;
    }
    const auto& cfg = std::get<bot::config>(loaded);
    bot::set_log_level(cfg.level);
    // OpenSSL reads its trust store's overrides from the environment only: those set in
    // ./.env (as .env.example shows) are put there, unless the environment sets them.
    auto env = bot::process_environment();
    for (const char* name : {"SSL_CERT_FILE", "SSL_CERT_DIR"}) {
        if (auto v = env(name); v && std::getenv(name) == nullptr) {
            ::setenv(name, v->c_str(), 0);
        }
    }
    for (const auto& name : bot::unknown_dotenv_names()) {
        bot::log_warn("config.unknown_variable")
            .kv("name", name)
            .kv("hint",
                "./.env has a setting relbot does not read (misspelt?); it has no "
                "effect; README's Configuration lists every variable");
    }

    checklist::template_library templates;
    if (cfg.templates_dir) {
        if (auto err = load_templates(*cfg.templates_dir, templates)) {
            std::fprintf(stderr, "relbot: configuration error: %s\n", err->to_string().c_str());
            return exit_config;
        }
    }
    return serve(cfg, templates);
}

}  // namespace
