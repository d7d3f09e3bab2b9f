// Drawing with cairo: an image surface, the toy text API with DejaVu Sans (fontconfig finds it),
// and PNG written to memory. Colours are the Okabe-Ito palette, which people with any of the
// common colour-vision deficiencies tell apart; meaning is also carried by shape and pattern.
#include "commands/render/picture.hpp"

#include <cairo.h>
#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"

#if defined(__SANITIZE_ADDRESS__)
// fontconfig (which cairo's text asks for DejaVu Sans) keeps its configuration and font cache
// for the life of the process on purpose; LeakSanitizer is told so, not relbot's own memory.
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libfontconfig.so\n";
}
#endif

namespace relbot::commands {
namespace {

using checklist::epoch_seconds;

// cairo is loaded the first time relbot draws (dlopen), not linked: a relbot that never
// draws never maps it, nor the font and image libraries it brings (an idle relbot stays small).
struct cairo_functions {
    decltype(&::cairo_arc) arc = nullptr;
    decltype(&::cairo_clip) clip = nullptr;
    decltype(&::cairo_close_path) close_path = nullptr;
    decltype(&::cairo_create) create = nullptr;
    decltype(&::cairo_destroy) destroy = nullptr;
    decltype(&::cairo_fill) fill = nullptr;
    decltype(&::cairo_font_options_create) font_options_create = nullptr;
    decltype(&::cairo_font_options_destroy) font_options_destroy = nullptr;
    decltype(&::cairo_font_options_set_antialias) font_options_set_antialias = nullptr;
    decltype(&::cairo_font_options_set_hint_metrics) font_options_set_hint_metrics = nullptr;
    decltype(&::cairo_font_options_set_hint_style) font_options_set_hint_style = nullptr;
    decltype(&::cairo_image_surface_create) image_surface_create = nullptr;
    decltype(&::cairo_line_to) line_to = nullptr;
    decltype(&::cairo_move_to) move_to = nullptr;
    decltype(&::cairo_new_path) new_path = nullptr;
    decltype(&::cairo_paint) paint = nullptr;
    decltype(&::cairo_rectangle) rectangle = nullptr;
    decltype(&::cairo_restore) restore = nullptr;
    decltype(&::cairo_save) save = nullptr;
    decltype(&::cairo_select_font_face) select_font_face = nullptr;
    decltype(&::cairo_set_dash) set_dash = nullptr;
    decltype(&::cairo_set_font_options) set_font_options = nullptr;
    decltype(&::cairo_set_font_size) set_font_size = nullptr;
    decltype(&::cairo_set_line_width) set_line_width = nullptr;
    decltype(&::cairo_set_source_rgb) set_source_rgb = nullptr;
    decltype(&::cairo_show_text) show_text = nullptr;
    decltype(&::cairo_stroke) stroke = nullptr;
    decltype(&::cairo_surface_destroy) surface_destroy = nullptr;
    decltype(&::cairo_surface_flush) surface_flush = nullptr;
    decltype(&::cairo_surface_write_to_png_stream) surface_write_to_png_stream = nullptr;
    decltype(&::cairo_text_extents) text_extents = nullptr;
};

const cairo_functions& lib() {
    static const cairo_functions loaded = [] {
        void* handle = ::dlopen("libcairo.so.2", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            throw picture_error(std::string("cannot load cairo (libcairo.so.2; install Debian's "
                                            "libcairo2): ") +
                                (why == nullptr ? "not found" : why));
        }
        cairo_functions f;
        auto resolve = [handle](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
            if (fn == nullptr) {
                throw picture_error(std::string("libcairo.so.2 has no ") + name);
            }
        };
        resolve(f.arc, "cairo_arc");
        resolve(f.clip, "cairo_clip");
        resolve(f.close_path, "cairo_close_path");
        resolve(f.create, "cairo_create");
        resolve(f.destroy, "cairo_destroy");
        resolve(f.fill, "cairo_fill");
        resolve(f.font_options_create, "cairo_font_options_create");
        resolve(f.font_options_destroy, "cairo_font_options_destroy");
        resolve(f.font_options_set_antialias, "cairo_font_options_set_antialias");
        resolve(f.font_options_set_hint_metrics, "cairo_font_options_set_hint_metrics");
        resolve(f.font_options_set_hint_style, "cairo_font_options_set_hint_style");
        resolve(f.image_surface_create, "cairo_image_surface_create");
        resolve(f.line_to, "cairo_line_to");
        resolve(f.move_to, "cairo_move_to");
        resolve(f.new_path, "cairo_new_path");
        resolve(f.paint, "cairo_paint");
        resolve(f.rectangle, "cairo_rectangle");
        resolve(f.restore, "cairo_restore");
        resolve(f.save, "cairo_save");
        resolve(f.select_font_face, "cairo_select_font_face");
        resolve(f.set_dash, "cairo_set_dash");
        resolve(f.set_font_options, "cairo_set_font_options");
        resolve(f.set_font_size, "cairo_set_font_size");
        resolve(f.set_line_width, "cairo_set_line_width");
        resolve(f.set_source_rgb, "cairo_set_source_rgb");
        resolve(f.show_text, "cairo_show_text");
        resolve(f.stroke, "cairo_stroke");
        resolve(f.surface_destroy, "cairo_surface_destroy");
        resolve(f.surface_flush, "cairo_surface_flush");
        resolve(f.surface_write_to_png_stream, "cairo_surface_write_to_png_stream");
        resolve(f.text_extents, "cairo_text_extents");
        return f;  // the library stays loaded for the life of the process
    }();
    return loaded;
}

struct rgb {
    double r, g, b;
};

// Okabe-Ito.
constexpr rgb black{0, 0, 0};
constexpr rgb orange{0.902, 0.624, 0.0};
constexpr rgb sky_blue{0.337, 0.706, 0.914};
constexpr rgb bluish_green{0.0, 0.620, 0.451};
constexpr rgb yellow{0.941, 0.894, 0.259};
constexpr rgb blue{0.0, 0.447, 0.698};
constexpr rgb vermillion{0.835, 0.369, 0.0};
constexpr rgb reddish_purple{0.800, 0.475, 0.655};
constexpr rgb grey{0.55, 0.55, 0.55};
constexpr rgb light_grey{0.88, 0.88, 0.88};
constexpr rgb ink{0.13, 0.13, 0.13};

constexpr std::array<rgb, 7> phase_colours = {blue,     orange,         bluish_green, vermillion,
                                              sky_blue, reddish_purple, yellow};

constexpr const char* font = "DejaVu Sans";

struct surface_deleter {
    void operator()(cairo_surface_t* s) const { lib().surface_destroy(s); }
};
struct context_deleter {
    void operator()(cairo_t* c) const { lib().destroy(c); }
};

// A canvas: the surface, its context, and the small helpers the charts share.
class canvas {
public:
    canvas(int w, int h)
        : surface_(lib().image_surface_create(CAIRO_FORMAT_RGB24, w, h)),
          cr_(lib().create(surface_.get())) {
        // Greyscale antialiasing and no hinting: the same pixels whatever the desktop's
        // font settings say.
        auto* options = lib().font_options_create();
        lib().font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
        lib().font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
        lib().font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
        lib().set_font_options(cr_.get(), options);
        lib().font_options_destroy(options);
        colour({1, 1, 1});
        lib().paint(cr_.get());
    }

    cairo_t* cr() { return cr_.get(); }

    void colour(rgb c) { lib().set_source_rgb(cr(), c.r, c.g, c.b); }

    void box(double x, double y, double w, double h, rgb c) {
        colour(c);
        lib().rectangle(cr(), x, y, w, h);
        lib().fill(cr());
    }

    // Diagonal white lines over a box: the pattern that says "blocked" without colour.
    void hatch(double x, double y, double w, double h) {
        lib().save(cr());
        lib().rectangle(cr(), x, y, w, h);
        lib().clip(cr());
        colour({1, 1, 1});
        lib().set_line_width(cr(), 1.5);
        for (double d = -h; d < w; d += 7) {
            lib().move_to(cr(), x + d, y + h);
            lib().line_to(cr(), x + d + h, y);
        }
        lib().stroke(cr());
        lib().restore(cr());
    }

    void line(double x0, double y0, double x1, double y1, rgb c, double width, bool dashed) {
        lib().save(cr());
        colour(c);
        lib().set_line_width(cr(), width);
        if (dashed) {
            const double dash[] = {6, 4};
            lib().set_dash(cr(), dash, 2, 0);
        }
        lib().move_to(cr(), x0, y0);
        lib().line_to(cr(), x1, y1);
        lib().stroke(cr());
        lib().restore(cr());
    }

    // `text` at (x, baseline y), at most `max_w` pixels wide (cut with "…"); `align` 0 left,
    // 0.5 centre, 1 right. Returns the width drawn.
    double text(std::string text,
                double x,
                double y,
                double size,
                rgb c,
                bool bold = false,
                double max_w = 10000,
                double align = 0) {
        lib().select_font_face(cr(), font, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        lib().set_font_size(cr(), size);
        auto width = [&](const std::string& t) {
            cairo_text_extents_t e;
            lib().text_extents(cr(), t.c_str(), &e);
            return e.x_advance;
        };
        if (width(text) > max_w) {
            // One character off the end at a time (never half of one), until it fits with "…".
            while (!text.empty() && width(text + "…") > max_w) {
                auto cut = text.size() - 1;
                while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
                    --cut;
                }
                text.resize(cut);
            }
            text += "…";
        }
        auto w = width(text);
        colour(c);
        lib().move_to(cr(), x - w * align, y);
        lib().show_text(cr(), text.c_str());
        return w;
    }

    // The width `text` takes at `size` (regular weight).
    double measure(const std::string& text, double size) {
        lib().select_font_face(cr(), font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        lib().set_font_size(cr(), size);
        cairo_text_extents_t e;
        lib().text_extents(cr(), text.c_str(), &e);
        return e.x_advance;
    }

    std::string png() {
        lib().surface_flush(surface_.get());
        std::string out;
        lib().surface_write_to_png_stream(
            surface_.get(),
            [](void* closure, const unsigned char* data, unsigned int length) {
                static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data),
                                                           length);
                return CAIRO_STATUS_SUCCESS;
            },
            &out);
        return out;
    }

private:
    std::unique_ptr<cairo_surface_t, surface_deleter> surface_;
    std::unique_ptr<cairo_t, context_deleter> cr_;
};

// "14:02" within a day, "12-01 14:02" across days (UTC).
std::string clock_label(epoch_seconds t, bool with_date) {
    auto full = checklist::format_utc(t);  // "2026-12-01 14:02 UTC"
    return with_date ? full.substr(5, 11) : full.substr(11, 5);
}

// A tick step that gives at most `max_ticks` ticks over `length` seconds.
epoch_seconds tick_step(epoch_seconds length, int max_ticks) {
    constexpr std::array<epoch_seconds, 14> steps = {
        60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000};
    for (auto s : steps) {
        if (length / s <= max_ticks) {
            return s;
        }
    }
    return steps.back();
}

std::string status_word(checklist::release_status s) {
    return std::string(checklist::to_string(s));
}

std::string span_words(epoch_seconds seconds) {
    if (seconds < 60) {
        return std::to_string(seconds) + " s";
    }
    auto minutes = seconds / 60;
    if (minutes < 60) {
        return std::to_string(minutes) + " min";
    }
    auto hours = minutes / 60;
    if (hours < 48) {
        return std::to_string(hours) + " h" +
               (minutes % 60 ? " " + std::to_string(minutes % 60) + " min" : "");
    }
    return std::to_string(hours / 24) + " d " + std::to_string(hours % 24) + " h";
}

// Checkpoint markers: the answer by shape as well as colour.
void checkpoint_marker(canvas& c, double x, double y, checklist::checkpoint_answer a) {
    auto* cr = c.cr();
    switch (a) {
        case checklist::checkpoint_answer::healthy:
            c.colour(bluish_green);
            lib().new_path(cr);
            lib().arc(cr, x, y, 7, 0, 2 * M_PI);
            lib().fill(cr);
            return;
        case checklist::checkpoint_answer::investigating:
            c.colour(orange);
            lib().move_to(cr, x, y - 8);
            lib().line_to(cr, x + 8, y + 6);
            lib().line_to(cr, x - 8, y + 6);
            lib().close_path(cr);
            lib().fill(cr);
            return;
        case checklist::checkpoint_answer::rolled_back:
            c.line(x - 7, y - 7, x + 7, y + 7, vermillion, 3.5, false);
            c.line(x - 7, y + 7, x + 7, y - 7, vermillion, 3.5, false);
            return;
        case checklist::checkpoint_answer::none:
            c.colour(grey);
            lib().set_line_width(cr, 2);
            lib().new_path(cr);
            lib().arc(cr, x, y, 6, 0, 2 * M_PI);
            lib().stroke(cr);
            return;
    }
}

constexpr int width = 1200;
constexpr double label_w = 290;
constexpr double plot_x0 = 320;
constexpr double plot_x1 = width - 40;
constexpr double row_h = 34;
constexpr double top = 112;
constexpr std::size_t max_item_rows = 20;

}  // namespace

std::string timeline_caption(const checklist::timeline_model& m) {
    return "Timeline of release " + m.version + " in " + m.channel + " (" + status_word(m.status) +
           ", " + span_words(m.span.to - m.span.from) + "), times in UTC";
}

picture draw_timeline(const checklist::timeline_model& m) {
    auto item_rows = std::min(m.items.size(), max_item_rows);
    bool more_items = m.items.size() > max_item_rows;
    // The checkpoints row, when one of them falls within the chart (answered, or due by then).
    bool has_checkpoints =
        std::any_of(m.checkpoints.begin(), m.checkpoints.end(), [&](const auto& cp) {
            auto at = cp.answered_at ? *cp.answered_at : cp.due_at;
            return at >= m.span.from && at <= m.span.to;
        });
    auto rows = m.phases.size() + item_rows + (more_items ? 1 : 0) + (has_checkpoints ? 1 : 0);
    auto height = static_cast<int>(
        std::clamp(top + static_cast<double>(rows) * row_h + 50 + 70, 250.0, 2000.0));
    // Rows that do not fit in 2000 pixels are left out (a release with hundreds of phases).
    auto fit_rows = static_cast<std::size_t>((height - top - 120) / row_h);
    canvas c(width, height);

    auto from = m.span.from;
    auto length = std::max<epoch_seconds>(60, m.span.to - m.span.from);
    auto x_of = [&](epoch_seconds t) {
        auto clamped = std::clamp<epoch_seconds>(t, from, from + length);
        return plot_x0 + static_cast<double>(clamped - from) * (plot_x1 - plot_x0) /
                             static_cast<double>(length);
    };
    bool with_date = checklist::format_utc(from).substr(0, 10) !=
                     checklist::format_utc(from + length).substr(0, 10);

    // Title and subtitle.
    c.text("Release " + m.version + " — " + status_word(m.status), 24, 40, 24, ink, true,
           width - 48);
    c.text(m.channel + " · " + checklist::format_utc(m.span.from) + " to " +
               checklist::format_utc(m.span.to) + " · " + span_words(m.span.to - m.span.from) +
               (m.notes > 0 ? " · " + checklist::plural(static_cast<std::size_t>(m.notes), "note")
                            : std::string()),
           24, 68, 15, grey, false, width - 48);

    double y = top;
    double rows_end = top + static_cast<double>(std::min(rows, fit_rows)) * row_h;
    // Grid and time axis.
    auto step = tick_step(length, 8);
    auto first_tick = (from + step - 1) / step * step;
    for (auto t = first_tick; t <= from + length; t += step) {
        auto x = x_of(t);
        c.line(x, top - 6, x, rows_end + 4, light_grey, 1, false);
        c.text(clock_label(t, with_date), x, rows_end + 22, 13, ink, false, 200, 0.5);
    }
    c.text("UTC", plot_x1, rows_end + 40, 12, grey, false, 100, 1);

    std::size_t drawn = 0;
    auto room = [&] { return drawn < fit_rows; };
    for (const auto& p : m.phases) {
        if (!room()) {
            break;
        }
        c.text(std::to_string(p.position) + ". " + p.title, 24, y + 22, 15, ink, p.current,
               label_w);
        if (p.span) {
            auto x0 = x_of(p.span->from);
            auto x1 = std::max(x0 + 3, x_of(p.span->to));
            c.box(x0, y + 7, x1 - x0, row_h - 14,
                  p.current && m.status == checklist::release_status::active ? sky_blue : blue);
        }
        y += row_h;
        ++drawn;
    }
    for (std::size_t k = 0; k < item_rows && room(); ++k) {
        const auto& it = m.items[k];
        c.text(it.ref + " " + it.title, 36, y + 22, 14, vermillion, false, label_w - 12);
        for (const auto& b : it.blocked) {
            auto x0 = x_of(b.from);
            auto x1 = std::max(x0 + 4, x_of(b.to));
            c.box(x0, y + 8, x1 - x0, row_h - 16, vermillion);
            c.hatch(x0, y + 8, x1 - x0, row_h - 16);
        }
        y += row_h;
        ++drawn;
    }
    if (more_items && room()) {
        c.text("+ " + std::to_string(m.items.size() - item_rows) + " more blocked items", 36,
               y + 22, 14, grey, false, label_w);
        y += row_h;
        ++drawn;
    }
    if (has_checkpoints && room()) {
        c.text("Checkpoints", 24, y + 22, 15, ink, false, label_w);
        for (const auto& cp : m.checkpoints) {
            auto at = cp.answered_at ? *cp.answered_at : cp.due_at;
            if (at < from || at > from + length) {
                continue;  // not yet due within the chart
            }
            auto x = x_of(at);
            checkpoint_marker(c, x, y + row_h / 2, cp.answer);
        }
        y += row_h;
        ++drawn;
    }
    // Marks across the rows.
    for (const auto& mark : m.marks) {
        if (mark.kind == checklist::timeline_mark_kind::deployed) {
            continue;  // the deployment line below
        }
        auto x = x_of(mark.at);
        auto col = mark.kind == checklist::timeline_mark_kind::forced ? orange : reddish_purple;
        c.line(x, top - 4, x, rows_end, col, 2.5, true);
        c.text(mark.kind == checklist::timeline_mark_kind::forced ? "forced" : "rollback",
               std::min(x + 4, plot_x1 - 60), top - 8, 12, col, true, 80);
    }
    if (m.deployed_at) {
        auto x = x_of(*m.deployed_at);
        c.line(x, top - 20, x, rows_end, black, 2.5, false);
        // Above the other marks' labels, so that a forced move at the same time stays legible.
        c.text("deployed " + clock_label(*m.deployed_at, with_date), x, top - 24, 12, black, true,
               200, x > plot_x1 - 100 ? 1 : 0);
    }

    // Legend.
    double ly = rows_end + 62;
    double lx = 24;
    auto swatch = [&](rgb col, bool hatched, const std::string& label) {
        c.box(lx, ly - 11, 22, 12, col);
        if (hatched) {
            c.hatch(lx, ly - 11, 22, 12);
        }
        lx += 28 + c.text(label, lx + 28, ly, 13, ink) + 18;
    };
    swatch(blue, false, "phase");
    swatch(vermillion, true, "blocked");
    c.line(lx, ly - 12, lx, ly + 2, orange, 2.5, true);
    lx += 8 + c.text("forced move", lx + 8, ly, 13, ink) + 18;
    c.line(lx, ly - 12, lx, ly + 2, reddish_purple, 2.5, true);
    lx += 8 + c.text("rollback", lx + 8, ly, 13, ink) + 18;
    c.line(lx, ly - 12, lx, ly + 2, black, 2.5, false);
    lx += 8 + c.text("deployed", lx + 8, ly, 13, ink) + 18;
    if (has_checkpoints) {
        for (auto [a, label] : {std::pair{checklist::checkpoint_answer::healthy, "healthy"},
                                {checklist::checkpoint_answer::investigating, "investigating"},
                                {checklist::checkpoint_answer::rolled_back, "rolled back"},
                                {checklist::checkpoint_answer::none, "unanswered"}}) {
            checkpoint_marker(c, lx + 8, ly - 5, a);
            lx += 20 + c.text(label, lx + 20, ly, 13, ink) + 14;
        }
    }

    picture out;
    out.png = c.png();
    out.width = width;
    out.height = height;
    std::size_t blocked_items = m.items.size();
    int forced = 0;
    int rollbacks = 0;
    for (const auto& mark : m.marks) {
        forced += mark.kind == checklist::timeline_mark_kind::forced ? 1 : 0;
        rollbacks += mark.kind == checklist::timeline_mark_kind::rollback ? 1 : 0;
    }
    out.alt_text =
        "Timeline of release " + m.version + " in " + m.channel + ": " +
        checklist::plural(m.phases.size(), "phase") + " over " +
        span_words(m.span.to - m.span.from) + ", " +
        checklist::plural(blocked_items, "blocked item") + ", " +
        checklist::plural(static_cast<std::size_t>(forced), "forced move") + ", " +
        checklist::plural(static_cast<std::size_t>(rollbacks), "rollback") +
        (m.deployed_at ? ", deployed at " + checklist::format_utc(*m.deployed_at) : std::string()) +
        ".";
    return out;
}

std::string trends_caption(const checklist::trend_model& t) {
    return "Trends of the last " + checklist::plural(t.releases.size(), "finished release") +
           " in " + t.channel + ": time per phase, skips, forced moves, checkpoint answers";
}

picture draw_trends(const checklist::trend_model& t) {
    constexpr int height = 640;
    canvas c(width, height);
    c.text("Releases in " + t.channel + " — time per phase", 24, 40, 24, ink, true, width - 48);
    c.text("The last " + checklist::plural(t.releases.size(), "finished release") +
               ", oldest left; time per phase, stacked",
           24, 68, 15, grey, false, width - 48);

    // Bars: x from 70 to 760, y from 100 to 520.
    constexpr double x0 = 80;
    constexpr double x1 = 760;
    constexpr double y0 = 110;
    constexpr double y1 = 500;
    std::int64_t most = 60;
    for (const auto& r : t.releases) {
        std::int64_t sum = 0;
        for (auto s : r.phase_seconds) {
            sum += s;
        }
        most = std::max(most, sum);
    }
    auto step = tick_step(most, 6);
    auto top_value = (most + step - 1) / step * step;
    auto y_of = [&](std::int64_t s) {
        return y1 - static_cast<double>(s) * (y1 - y0) / static_cast<double>(top_value);
    };
    for (std::int64_t v = 0; v <= top_value; v += step) {
        auto y = y_of(v);
        c.line(x0, y, x1, y, light_grey, 1, false);
        c.text(span_words(v), x0 - 8, y + 4, 12, ink, false, 70, 1);
    }
    auto n = std::max<std::size_t>(1, t.releases.size());
    auto slot = (x1 - x0) / static_cast<double>(n);
    auto bar_w = std::min(60.0, slot * 0.7);
    for (std::size_t k = 0; k < t.releases.size(); ++k) {
        const auto& r = t.releases[k];
        auto cx = x0 + slot * (static_cast<double>(k) + 0.5);
        std::int64_t below = 0;
        for (std::size_t p = 0; p < r.phase_seconds.size(); ++p) {
            auto s = r.phase_seconds[p];
            if (s <= 0) {
                continue;
            }
            auto ytop = y_of(below + s);
            auto ybottom = y_of(below);
            c.box(cx - bar_w / 2, ytop, bar_w, std::max(1.0, ybottom - ytop),
                  phase_colours[p % phase_colours.size()]);
            if (p >= phase_colours.size()) {
                c.hatch(cx - bar_w / 2, ytop, bar_w, std::max(1.0, ybottom - ytop));
            }
            below += s;
        }
        c.text(r.version, cx, y1 + 20, 12, ink, false, slot - 4, 0.5);
    }
    // Legend of phases, under the bars.
    double lx = x0;
    double ly = y1 + 50;
    for (std::size_t p = 0; p < t.phase_titles.size(); ++p) {
        auto label = std::to_string(p + 1) + ". " + t.phase_titles[p];
        auto col = phase_colours[p % phase_colours.size()];
        if (lx + 22 + std::min(200.0, c.measure(label, 12)) > x1 + 20) {
            lx = x0;
            ly += 22;
        }
        c.box(lx, ly - 11, 16, 12, col);
        if (p >= phase_colours.size()) {
            c.hatch(lx, ly - 11, 16, 12);
        }
        lx += 22 + c.text(label, lx + 22, ly, 12, ink, false, 200) + 14;
    }

    // The numbers, on the right.
    double tx = 800;
    double ty = 120;
    auto line = [&](const std::string& s, bool bold = false, rgb col = ink) {
        c.text(s, tx, ty, 14, col, bold, width - tx - 24);
        ty += 21;
    };
    line("Median time per phase", true);
    for (std::size_t p = 0; p < t.median_phase_seconds.size() && ty < 330; ++p) {
        line(std::to_string(p + 1) + ". " +
             (p < t.phase_titles.size() ? t.phase_titles[p] : std::string()) + ": " +
             (t.median_phase_seconds[p] < 0 ? std::string("not reached")
                                            : span_words(t.median_phase_seconds[p])));
    }
    ty += 8;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", t.skips_per_release);
    line(std::string("Skips per release: ") + buf, true);
    for (const auto& r : t.skip_reasons) {
        line("  " + std::to_string(r.count) + "× " + r.reason, false, grey);
    }
    std::snprintf(buf, sizeof buf, "%.1f", t.forced_per_release);
    line(std::string("Forced moves per release: ") + buf, true);
    for (const auto& r : t.forced_reasons) {
        line("  " + std::to_string(r.count) + "× " + r.reason, false, grey);
    }
    line("Reminder to done (median): " +
             (t.median_reminder_to_done ? span_words(*t.median_reminder_to_done) : "no reminders"),
         true);
    line("Checkpoint answers", true);
    line(std::to_string(t.healthy) + " healthy, " + std::to_string(t.investigating) +
         " investigating, " + std::to_string(t.rolled_back) + " rolled back, " +
         std::to_string(t.unanswered) + " unanswered");

    picture out;
    out.png = c.png();
    out.width = width;
    out.height = height;
    out.alt_text = trends_caption(t) + ".";
    return out;
}

}  // namespace relbot::commands
