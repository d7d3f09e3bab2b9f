# Writes OUT, a C++ file holding the sandbox page's files (IN_DIR/index.html, app.js, app.css)
# as string constants: the page is served from the binary, with nothing to install beside it.
function(embed_file var file)
    file(READ "${file}" text)
    string(FIND "${text}" ")relbot_page\"" bad)
    if(NOT bad EQUAL -1)
        message(FATAL_ERROR "${file} contains the raw-string delimiter )relbot_page\"")
    endif()
    set(${var} "${text}" PARENT_SCOPE)
endfunction()
embed_file(html "${IN_DIR}/index.html")
embed_file(script "${IN_DIR}/app.js")
embed_file(style "${IN_DIR}/app.css")
file(WRITE "${OUT}.tmp" "// Generated from sim/page/ by sim/page/embed.cmake: edit those files, not this one.
#include \"sim/web_page.hpp\"

namespace relbot::sim::web {

const std::string_view page_html = R\"relbot_page(${html})relbot_page\";
const std::string_view page_script = R\"relbot_page(${script})relbot_page\";
const std::string_view page_style = R\"relbot_page(${style})relbot_page\";

}  // namespace relbot::sim::web
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
