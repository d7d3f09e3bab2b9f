// Release values: state names and building a release from a template.
#include "checklist/release.hpp"

#include "checklist/mrkdwn.hpp"
#include "checklist/slug.hpp"

namespace relbot::checklist {

std::string_view to_string(item_state s) {
    switch (s) {
        case item_state::open:
            return "open";
        case item_state::done:
            return "done";
        case item_state::skipped:
            return "skipped";
        case item_state::blocked:
            return "blocked";
    }
    return "open";
}

std::optional<item_state> parse_item_state(std::string_view s) {
    for (auto v : {item_state::open, item_state::done, item_state::skipped, item_state::blocked}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view to_string(release_status s) {
    switch (s) {
        case release_status::active:
            return "active";
        case release_status::finished:
            return "finished";
        case release_status::aborted:
            return "aborted";
    }
    return "active";
}

std::optional<release_status> parse_release_status(std::string_view s) {
    for (auto v : {release_status::active, release_status::finished, release_status::aborted}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view to_string(checkpoint_answer a) {
    switch (a) {
        case checkpoint_answer::none:
            return "none";
        case checkpoint_answer::healthy:
            return "healthy";
        case checkpoint_answer::investigating:
            return "investigating";
        case checkpoint_answer::rolled_back:
            return "rolled_back";
    }
    return "none";
}

std::optional<checkpoint_answer> parse_checkpoint_answer(std::string_view s) {
    for (auto v : {checkpoint_answer::none, checkpoint_answer::healthy,
                   checkpoint_answer::investigating, checkpoint_answer::rolled_back}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

std::string item::ref() const {
    return std::to_string(phase) + "." + std::to_string(position);
}

std::string item::label() const {
    return "`" + ref() + "` *" + escape_mrkdwn(title) + "*";
}

int phase::settled_count() const {
    int n = 0;
    for (const auto& i : items) {
        if (i.state == item_state::done || i.state == item_state::skipped) {
            ++n;
        }
    }
    return n;
}

std::size_t release::item_count() const {
    std::size_t n = 0;
    for (const auto& p : phases) {
        n += p.items.size();
    }
    return n;
}

release make_release(const checklist_template& t,
                     std::string channel,
                     std::string version,
                     std::string manager,
                     epoch_seconds now) {
    release r;
    r.channel = std::move(channel);
    r.version = std::move(version);
    r.template_name = t.name;
    r.manager = std::move(manager);
    r.started_at = now;

    std::vector<std::string> titles;
    for (const auto& p : t.phases) {
        for (const auto& i : p.items) {
            titles.push_back(i.title);
        }
    }
    auto slugs = make_unique_slugs(titles);

    std::size_t k = 0;
    int phase_no = 0;
    for (const auto& tp : t.phases) {
        phase p;
        p.position = ++phase_no;
        p.title = tp.title;
        p.window = tp.window;
        if (phase_no == 1) {
            p.entered_at = now;
        }
        int item_no = 0;
        for (const auto& ti : tp.items) {
            item i;
            i.phase = phase_no;
            i.position = ++item_no;
            i.slug = slugs[k++];
            i.title = ti.title;
            i.description = ti.description;
            p.items.push_back(std::move(i));
        }
        r.phases.push_back(std::move(p));
    }
    return r;
}

}  // namespace relbot::checklist
